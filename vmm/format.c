// SPDX-License-Identifier: MIT
/*
 * The verdict as a table for people and as JSON for programs; KTAP and
 * JUnit live in format_ktap.c and format_junit.c.
 */
#include <stdint.h>
#include <string.h>

#include "format.h"
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
	/* main() exits 128 + signal number when interrupted: say the same. */
	if (v->end == RUN_INTERRUPTED && v->signal > 0)
		return 128 + v->signal;
	return verdict_exit_code(v);
}

/* stages.h lists the stages of a level together; a new name starts a new level. */
int format_levels(struct level_span *spans, int max)
{
	int n = 0;

	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		if (n && !strcmp(spans[n - 1].name, stage_level[i])) {
			spans[n - 1].count++;
			continue;
		}
		if (n == max)
			break;
		spans[n++] = (struct level_span){ stage_level[i], i, 1 };
	}
	return n;
}

/* --- text ------------------------------------------------------------------ */

static void text_details(FILE *out, const char *details)
{
	const char *p = details;

	while (*p) {
		size_t n = strcspn(p, "\n");
		fprintf(out, "%24s%.*s\n", "", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

void format_text(const struct verdict *v, FILE *out, bool colour)
{
	static const char *const col[] = { "\033[32m", "\033[31m", "\033[33m", "" };
	const struct host_facts *h = &v->host;

	fprintf(out, "nestvmm: %s nested virtualization on %s (%s), KVM backend %s, outer hypervisor %s\n",
		v->arch, h->cpu_vendor, h->cpu_model[0] ? h->cpu_model : "unknown model",
		h->kvm_module[0] ? h->kvm_module : "none", h->hypervisor[0] ? h->hypervisor : "none");
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		const struct stage *s = &v->stage[i];
		fprintf(out, "  %-18s %s%-4s%s  %s\n", stage_name[i], colour ? col[s->status] : "",
			status_name(s->status), colour ? "\033[0m" : "", s->reason);
		if (s->status == NVM_FAIL && s->details[0])
			text_details(out, s->details);
	}
	if (v->end != RUN_DONE && v->end != RUN_NOT_STARTED)
		fprintf(out, "run: %s\n", v->end_reason);
	if (v->n_log_dropped)
		fprintf(out, "(%u L1 log lines dropped)\n", v->n_log_dropped);
	fprintf(out, "result: %s\n", verdict_exit_code(v) == EXIT_PASS ? "PASS" :
		verdict_exit_code(v) == EXIT_FAIL ? "FAIL" : "SKIP");
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
		"\"cap_nested_state\": %d},\n  ", h->nested_param, h->kvm_api_version,
		h->supported_cpuid_virt ? "true" : "false", h->cap_nested_state);
	fputs("\"run\": {", out);
	json_field(out, "end", format_end_name(v->end), ", ");
	json_field(out, "reason", v->end_reason, ", ");
	json_field(out, "last_stage", v->last_stage >= 0 ? stage_name[v->last_stage] : "", ", ");
	json_field(out, "vcpu_state", v->vcpu_state, ", ");
	fprintf(out, "\"interrupted\": %s},\n  \"stages\": [\n", v->end == RUN_INTERRUPTED ? "true" : "false");
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		const struct stage *s = &v->stage[i];
		fputs("    {", out);
		json_field(out, "name", stage_name[i], ", ");
		json_field(out, "level", stage_level[i], ", ");
		json_field(out, "status", status_name(s->status), ", ");
		json_field(out, "reason", s->reason, ", ");
		json_field(out, "details", s->details, "");
		fprintf(out, "}%s\n", i + 1 < NVM_STAGE_COUNT ? "," : "");
	}
	fputs("  ],\n  \"log\": [", out);
	for (unsigned int i = 0; i < v->n_log; i++) {
		json_string(out, v->log[i]);
		if (i + 1 < v->n_log)
			fputs(", ", out);
	}
	fprintf(out, "], \"log_dropped\": %u\n}\n", v->n_log_dropped);
}
