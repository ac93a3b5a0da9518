// SPDX-License-Identifier: MIT
/*
 * The verdict as JUnit XML, the report format CI systems (Jenkins, GitLab,
 * GitHub actions) show as test results:
 *
 *   <testsuites name="nestvmm" tests= failures= errors= skipped= time=>
 *     <testsuite name="host" ...>              one per level
 *       <properties>                           arch, run end, host facts
 *       <testcase name="host.kvm" classname="nestvmm.host">
 *         <skipped message="reason"/>          or <failure message="reason" type=>
 *         <system-out>reason, then details</system-out>
 *
 * Only the elements and attributes of the common schema (Jenkins' junit-10.xsd,
 * which GitLab and others follow) are used; tests/bisect/junit.xsd checks that.
 */
#include <string.h>

#include "format.h"
#include "verdict.h"

void xml_text(FILE *out, const char *str, bool attr)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		size_t n;

		switch (*s) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs(attr ? "&quot;" : "\"", out); break;
		case '\'': fputs(attr ? "&apos;" : "'", out); break;
		/* In attributes, parsers turn raw newlines and tabs into spaces. */
		case '\n': fputs(attr ? "&#10;" : "\n", out); break;
		case '\t': fputs(attr ? "&#9;" : "\t", out); break;
		case '\r': fputs("&#13;", out); break;
		default:
			if (*s >= 0x20 && *s < 0x7f) {
				fputc(*s, out);
			} else if (*s >= 0x80 && (n = format_utf8_len(s))) {
				fwrite(s, 1, n, out);
				s += n;
				continue;
			} else {
				fputs("&#xFFFD;", out);   /* XML 1.0 cannot carry it */
			}
		}
		s++;
	}
}

static void xml_attr(FILE *out, const char *name, const char *value)
{
	fprintf(out, " %s=\"", name);
	xml_text(out, value, true);
	fputc('"', out);
}

static void xml_property(FILE *out, const char *name, const char *value)
{
	fputs("      <property", out);
	xml_attr(out, "name", name);
	xml_attr(out, "value", value);
	fputs("/>\n", out);
}

static void junit_properties(FILE *out, const struct verdict *v, bool host)
{
	const struct host_facts *h = &v->host;
	char num[32];

	fputs("    <properties>\n", out);
	xml_property(out, "arch", v->arch);
	xml_property(out, "run.end", format_end_name(v->end));
	xml_property(out, "run.reason", v->end_reason);
	snprintf(num, sizeof(num), "%d", format_exit_code(v));
	xml_property(out, "exit_code", num);
	if (host) {
		xml_property(out, "host.cpu_vendor", h->cpu_vendor);
		xml_property(out, "host.cpu_model", h->cpu_model);
		xml_property(out, "host.cpu_flags", h->cpu_flags);
		xml_property(out, "host.hypervisor", h->hypervisor);
		xml_property(out, "host.kvm_module", h->kvm_module);
		xml_property(out, "host.kernel_release", h->kernel_release);
		xml_property(out, "host.kvm_build", h->kvm_build);
		snprintf(num, sizeof(num), "%d", h->nested_param);
		xml_property(out, "host.nested_param", num);
		snprintf(num, sizeof(num), "%d", h->kvm_api_version);
		xml_property(out, "host.kvm_api_version", num);
		xml_property(out, "host.supported_cpuid_virt", h->supported_cpuid_virt ? "true" : "false");
		snprintf(num, sizeof(num), "%d", h->cap_nested_state);
		xml_property(out, "host.cap_nested_state", num);
	}
	fputs("    </properties>\n", out);
}

static void junit_testcase(FILE *out, const struct verdict *v, int i)
{
	const struct stage *s = &v->stage[i];

	fputs("    <testcase", out);
	xml_attr(out, "name", stage_name[i]);
	fprintf(out, " classname=\"nestvmm.%s\" time=\"%.6f\">\n", stage_level[i], s->seconds);
	switch (s->status) {
	case NVM_PASS:
		break;
	case NVM_SKIP:
		fputs("      <skipped", out);
		xml_attr(out, "message", s->reason);
		fputs("/>\n", out);
		break;
	case NVM_FAIL:
		fputs("      <failure", out);
		xml_attr(out, "message", s->reason);
		/* The stage in progress when the run broke names how it broke. */
		xml_attr(out, "type", v->end != RUN_DONE && v->end != RUN_NOT_STARTED &&
			 !strcmp(s->reason, v->end_reason) ? format_end_name(v->end) : "stage-failed");
		fputs("/>\n", out);
		break;
	default:
		fputs("      <error message=\"the stage was never reported\" type=\"pending\"/>\n", out);
	}
	if (s->reason[0] || s->details[0]) {
		fputs("      <system-out>", out);
		xml_text(out, s->reason, false);
		if (s->details[0]) {
			fputc('\n', out);
			xml_text(out, s->details, false);
		}
		fputs("</system-out>\n", out);
	}
	fputs("    </testcase>\n", out);
}

struct junit_counts {
	int tests, failures, errors, skipped;
};

static struct junit_counts junit_count(const struct verdict *v, int first, int end)
{
	struct junit_counts c = { 0 };

	for (int i = first; i < end; i++) {
		if (!v->stage[i].selected)
			continue;
		c.tests++;
		c.failures += v->stage[i].status == NVM_FAIL;
		c.skipped += v->stage[i].status == NVM_SKIP;
		c.errors += v->stage[i].status > NVM_SKIP;
	}
	return c;
}

void format_junit(const struct verdict *v, FILE *out)
{
	struct level_span levels[FORMAT_LEVELS_MAX];
	int n = format_levels(v, levels, FORMAT_LEVELS_MAX);
	struct junit_counts all = junit_count(v, 0, NVM_STAGE_COUNT);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
	fprintf(out, "<testsuites name=\"nestvmm\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
		"skipped=\"%d\" time=\"%.6f\">\n", all.tests, all.failures, all.errors, all.skipped,
		v->seconds);
	for (int l = 0; l < n; l++) {
		struct junit_counts c = junit_count(v, levels[l].first, levels[l].end);

		fputs("  <testsuite", out);
		xml_attr(out, "name", levels[l].name);
		fprintf(out, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"0\">\n",
			c.tests, c.failures, c.errors, c.skipped);
		junit_properties(out, v, l == 0);
		for (int i = levels[l].first; i < levels[l].end; i++)
			if (v->stage[i].selected)
				junit_testcase(out, v, i);
		/* L1's own log belongs to the level that wrote it. */
		if (!strcmp(levels[l].name, "l1") && (v->n_log || v->n_log_dropped)) {
			fputs("    <system-out>", out);
			for (unsigned int i = 0; i < v->n_log; i++) {
				xml_text(out, v->log[i], false);
				fputc('\n', out);
			}
			if (v->n_log_dropped)
				fprintf(out, "(%u L1 log lines dropped)\n", v->n_log_dropped);
			fputs("</system-out>\n", out);
		}
		fputs("  </testsuite>\n", out);
	}
	fputs("</testsuites>\n", out);
}
