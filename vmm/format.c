// SPDX-License-Identifier: MIT
/*
 * The verdict as a table for people and as JSON for programs; KTAP and
 * JUnit live in format_ktap.c and format_junit.c.
 */
#include <stdint.h>
#include <string.h>

#include "format.h"
#include "hypervisor.h"
#include "verdict.h"

static const char *const format_names[FORMAT_COUNT] = { "text", "json", "ktap", "junit" };

int format_by_name(const char *name)
{
	for (int i = 0; i < FORMAT_COUNT; i++)
		if (!strcmp(name, format_names[i]))
			return i;
	return -1;
}

const char *format_name(enum format f)
{
	return format_names[f];
}

void format_write(enum format f, const struct verdict *v, FILE *out, bool colour)
{
	switch (f) {
	case FORMAT_JSON:
		format_json(v, out);
		break;
	case FORMAT_KTAP:
		format_ktap(v, out);
		break;
	case FORMAT_JUNIT:
		format_junit(v, out);
		break;
	default:
		format_text(v, out, colour);
	}
}

const char *format_end_name(int e)
{
	static const char *const names[] = {
		"not-started", "done", "halted-early", "guest-exception", "guest-assertion",
		"triple-fault", "kvm-internal-error", "entry-failed", "timeout", "interrupted",
		"protocol-error", "unexpected-exit", "kvm-error",
	};
	return e >= 0 && e < (int)(sizeof(names) / sizeof(names[0])) ? names[e] : "unknown";
}

const char *format_result_name(int code)
{
	return code == EXIT_PASS ? "pass" : code == EXIT_FAIL ? "fail" : "skip";
}

int format_exit_code(const struct verdict *v)
{
	/* An output that failed after the run changed the process's exit code (output.h). */
	if (v->exit_override)
		return v->exit_override;
	/* main() exits 128 + signal number when interrupted: say the same. */
	if (v->end == RUN_INTERRUPTED && v->signal > 0)
		return 128 + v->signal;
	return verdict_exit_code(v);
}

/* stages.h lists the stages of a level together; a new name starts a new level. */
int format_levels(const struct verdict *v, struct level_span *spans, int max)
{
	int n = 0;

	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		if (!n || strcmp(spans[n - 1].name, stage_level[i])) {
			if (n && !spans[n - 1].count)
				n--;             /* nothing of that level in this run */
			if (n == max)
				break;
			spans[n++] = (struct level_span){ stage_level[i], i, i, 0 };
		}
		spans[n - 1].end = i + 1;
		spans[n - 1].count += v->stage[i].selected;
	}
	if (n && !spans[n - 1].count)
		n--;
	return n;
}

/* --- text ------------------------------------------------------------------ */

/*
 * Text from the guest or the host, neutralised for a terminal or a log: no
 * control character reaches the output (a newline could forge a line such
 * as "result: PASS", an escape sequence could rewrite the screen). Controls,
 * C1 controls and bytes that are not UTF-8 are written as \n, \t or \xNN;
 * valid UTF-8 is kept.
 */
void format_text_safe(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	while (*s) {
		unsigned char c = *s;
		if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\x%02x", c);
		else if (c >= 0x80 && (n = format_utf8_len(s)) && !(c == 0xc2 && s[1] < 0xa0)) {
			fwrite(s, 1, n, out);
			s += n;
			continue;
		} else if (c >= 0x80)
			fprintf(out, "\\x%02x", c);
		else
			fputc(c, out);
		s++;
	}
}

/* Multi-line details: each line indented, and neutralised on its own. */
static void text_details(FILE *out, const char *details)
{
	char line[VERDICT_DETAILS_MAX];
	const char *p = details;

	while (*p) {
		size_t n = strcspn(p, "\n");
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		fprintf(out, "%24s", "");
		format_text_safe(out, line);
		fputc('\n', out);
		p += n + (p[n] == '\n');
	}
}

/* "2 passed, 1 failed, 3 skipped (2 unsupported)" for ids [first, end). */
static void text_summary(FILE *out, const struct verdict *v, int first, int end)
{
	int n[NVM_STATUS_MAX + 1] = { 0 }, unsupported = 0;

	for (int i = first; i < end; i++)
		if (v->stage[i].selected) {
			n[v->stage[i].status <= NVM_STATUS_MAX ? v->stage[i].status : NVM_STATUS_MAX]++;
			unsupported += v->stage[i].status == NVM_SKIP && v->stage[i].unsupported;
		}
	fprintf(out, "%d passed, %d failed, %d skipped", n[NVM_PASS], n[NVM_FAIL], n[NVM_SKIP]);
	if (unsupported)
		fprintf(out, " (%d unsupported by the L0)", unsupported);
	if (n[NVM_STATUS_MAX])
		fprintf(out, ", %d never reported", n[NVM_STATUS_MAX]);
}

void format_text(const struct verdict *v, FILE *out, bool colour)
{
	static const char *const col[] = { "\033[32m", "\033[31m", "\033[33m", "" };
	const struct host_facts *h = &v->host;
	struct level_span levels[FORMAT_LEVELS_MAX];
	int n = format_levels(v, levels, FORMAT_LEVELS_MAX), width = 18;

	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		if (v->stage[i].selected && (int)strlen(stage_name[i]) > width)
			width = (int)strlen(stage_name[i]);
	fprintf(out, "nestvmm: %s nested virtualization on ", v->arch);
	format_text_safe(out, h->cpu_vendor);
	fputs(" (", out);
	format_text_safe(out, h->cpu_model[0] ? h->cpu_model : "unknown model");
	fputs("), KVM backend ", out);
	format_text_safe(out, h->kvm_module[0] ? h->kvm_module : "none");
	fputs(", outer hypervisor ", out);
	format_text_safe(out, h->outer ? h->outer->name : h->hypervisor[0] ? h->hypervisor : "none");
	fputc('\n', out);
	for (int l = 0; l < n; l++) {
		/* A level header with its counts, then its tests: readable at 60+ tests. */
		fprintf(out, "%s: ", levels[l].name);
		text_summary(out, v, levels[l].first, levels[l].end);
		fputc('\n', out);
		for (int i = levels[l].first; i < levels[l].end; i++) {
			const struct stage *s = &v->stage[i];
			if (!s->selected)
				continue;
			fprintf(out, "  %-*s %s%-4s%s  ", width, stage_name[i], colour ? col[s->status] : "",
				status_name(s->status), colour ? "\033[0m" : "");
			format_text_safe(out, s->reason);
			fputc('\n', out);
			if ((s->status == NVM_FAIL || v->verbose) && s->details[0])
				text_details(out, s->details);
		}
	}
	if (v->end != RUN_DONE && v->end != RUN_NOT_STARTED) {
		fputs("run: ", out);
		format_text_safe(out, v->end_reason);
		fputc('\n', out);
	}
	if (v->n_log_dropped)
		fprintf(out, "(%u L1 log lines dropped)\n", v->n_log_dropped);
	if (v->migrate)
		fprintf(out, "--migrate: %lu save/restores into a fresh VM (per test: --format json)\n",
			v->migrations);
	fprintf(out, "result: %s (", verdict_exit_code(v) == EXIT_PASS ? "PASS" :
		verdict_exit_code(v) == EXIT_FAIL ? "FAIL" : "SKIP");
	text_summary(out, v, 0, NVM_STAGE_COUNT);
	fputs(")\n", out);
}

/* --- json ------------------------------------------------------------------ */

/*
 * Length of the valid UTF-8 sequence at s (a byte >= 0x80) that XML 1.0 and
 * JSON can both carry: no overlongs, surrogates, U+FFFE/U+FFFF or code
 * points above U+10FFFF; 0 if there is none.
 */
size_t format_utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	cp = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

void json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n;

	fputc('"', out);
	while (*s) {
		unsigned char c = *s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c == '\t')
			fputs("\\t", out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else if (c >= 0x80 && (n = format_utf8_len(s))) {
			fwrite(s, 1, n, out);     /* JSON text is UTF-8: keep it */
			s += n;
			continue;
		} else if (c >= 0x80)
			fputs("\\ufffd", out);  /* not UTF-8: one replacement per byte */
		else
			fputc(c, out);
		s++;
	}
	fputc('"', out);
}

static void json_field(FILE *out, const char *key, const char *value, const char *sep)
{
	fprintf(out, "\"%s\": ", key);
	json_string(out, value);
	fputs(sep, out);
}

static const char *json_tristate(int v)
{
	return v > 0 ? "true" : v == 0 ? "false" : "null";
}

/*
 * The diagnosis as data: who runs this host, the firmware switch, and each
 * missing piece with the remedy's id and its exact command or setting.
 */
static void json_outer(const struct host_facts *h, FILE *out)
{
	fputs("\"outer_hypervisor\": ", out);
	if (!h->outer) {
		fputs("null", out);
	} else {
		fputc('{', out);
		json_field(out, "id", h->outer->id, ", ");
		json_field(out, "name", h->outer->name, ", ");
		json_field(out, "signature", h->hypervisor, ", ");
		json_field(out, "signature_0x40000100", h->hv_behind, ", ");
		json_field(out, "signature_user_mode", h->hv_user, ", ");
		json_field(out, "found_by", h->outer_via ? h->outer_via : "", ", ");
		json_field(out, "dmi_sys_vendor", h->dmi_vendor, ", ");
		json_field(out, "dmi_product_name", h->dmi_product, ", ");
		fputs("\"hyperv\": ", out);
		if (h->hv_leaves)
			fprintf(out, "{\"enlightenment_info\": %u, \"nested_features\": %u, "
				"\"evmcs_recommended\": %s, \"evmcs_version_low\": %u, "
				"\"evmcs_version_high\": %u, \"direct_flush\": %s, \"kvm_uses_evmcs\": %s}",
				h->hv_hints, h->hv_nested,
				h->hv_hints & HV_ENLIGHTENED_VMCS_RECOMMENDED ? "true" : "false",
				HV_NESTED_EVMCS_VERSION_LOW(h->hv_nested), HV_NESTED_EVMCS_VERSION_HIGH(h->hv_nested),
				h->hv_nested & HV_NESTED_DIRECT_FLUSH ? "true" : "false",
				json_tristate(h->evmcs_param));
		else
			fputs("null", out);
		fputc('}', out);
	}
	fprintf(out, ",\n    \"firmware\": {\"disabled\": %s, ", json_tristate(h->fw_disabled));
	json_field(out, "source", h->fw_source, ", ");
	json_field(out, "evidence", h->fw_evidence, "},\n    ");
	fputs("\"missing\": [", out);
	for (unsigned int i = 0; i < h->n_missing; i++) {
		fputc('{', out);
		json_field(out, "piece", h->missing[i].piece, ", ");
		json_field(out, "remedy_id", h->missing[i].remedy_id, ", ");
		json_field(out, "remedy", h->missing[i].remedy, "}");
		if (i + 1 < h->n_missing)
			fputs(", ", out);
	}
	fputc(']', out);
}

void format_json(const struct verdict *v, FILE *out)
{
	const struct host_facts *h = &v->host;
	int code = format_exit_code(v);

	fputs("{\n  ", out);
	json_field(out, "tool", "nestvmm", ", ");
	json_field(out, "arch", v->arch, ",\n  ");
	json_field(out, "result", format_result_name(verdict_exit_code(v)), ", ");
	fprintf(out, "\"exit_code\": %d, \"seconds\": %.6f,\n  ", code, v->seconds);
	fputs("\"host\": {", out);
	json_field(out, "cpu_vendor", h->cpu_vendor, ", ");
	json_field(out, "cpu_model", h->cpu_model, ", ");
	json_field(out, "cpu_flags", h->cpu_flags, ", ");
	json_field(out, "hypervisor", h->hypervisor, ", ");
	json_field(out, "kvm_module", h->kvm_module, ", ");
	json_field(out, "kernel_release", h->kernel_release, ", ");
	json_field(out, "kvm_build", h->kvm_build, ", ");
	fprintf(out, "\"nested_param\": %d, \"kvm_api_version\": %d, \"supported_cpuid_virt\": %s, "
		"\"cap_nested_state\": %d, \"cpuid_virt\": %s,\n    ", h->nested_param, h->kvm_api_version,
		h->supported_cpuid_virt ? "true" : "false", h->cap_nested_state,
		h->cpu_has_virt ? "true" : "false");
	json_outer(h, out);
	fputs("},\n  ", out);
	fputs("\"run\": {", out);
	json_field(out, "end", format_end_name(v->end), ", ");
	json_field(out, "reason", v->end_reason, ", ");
	json_field(out, "last_stage", v->last_stage >= 0 ? stage_name[v->last_stage] : "", ", ");
	json_field(out, "vcpu_state", v->vcpu_state, ", ");
	fprintf(out, "\"interrupted\": %s, \"restarts\": %u, \"messages\": %lu, "
		"\"message_exits\": %lu, \"migrations\": %lu},\n  \"stages\": [\n",
		v->end == RUN_INTERRUPTED ? "true" : "false", v->restarts, v->messages,
		v->message_exits, v->migrations);
	for (int i = 0, k = 0; i < NVM_STAGE_COUNT; i++) {
		const struct stage *s = &v->stage[i];
		if (!s->selected)
			continue;
		fputs(k++ ? ",\n    {" : "    {", out);
		json_field(out, "name", stage_name[i], ", ");
		json_field(out, "level", stage_level[i], ", ");
		json_field(out, "status", status_name(s->status), ", ");
		fprintf(out, "\"seconds\": %.6f, \"migrations\": %u, \"unsupported\": [", s->seconds,
			s->migrations);
		for (int f = 0, m = 0; f < NVM_FEATURE_COUNT; f++)
			if (s->unsupported & (1u << f)) {
				fputs(m++ ? ", " : "", out);
				json_string(out, feature_name[f]);
			}
		fputs("], ", out);
		json_field(out, "reason", s->reason, ", ");
		json_field(out, "details", s->details, "");
		fputc('}', out);
	}
	fputc('\n', out);
	fputs("  ],\n  \"log\": [", out);
	for (unsigned int i = 0; i < v->n_log; i++) {
		json_string(out, v->log[i]);
		if (i + 1 < v->n_log)
			fputs(", ", out);
	}
	fprintf(out, "], \"log_dropped\": %u\n}\n", v->n_log_dropped);
}
