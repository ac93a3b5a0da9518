// SPDX-License-Identifier: MIT
/*
 * KTAP and JUnit renderings of a verdict. The external parsers (kunit.py,
 * TAP::Parser, xmllint) check the real binary's output in tests/bisect;
 * these pin the layout and the escaping of hostile text.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "verdict.h"

static struct verdict v;
static char *buf;

static const char *render(enum format f)
{
	size_t len;
	FILE *out = open_memstream(&buf, &len);

	format_write(f, &v, out, false);
	fclose(out);
	return buf;
}

static void fini(void)
{
	free(buf);
	buf = NULL;
	verdict_free(&v);
}

/* host passes; l1.enable fails with details; l2 is skipped. */
static void mixed(void)
{
	verdict_init(&v, "amd");
	v.end = RUN_DONE;
	snprintf(v.end_reason, sizeof(v.end_reason), "L1 reported every stage and halted");
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "/dev/kvm usable", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_PASS, "nested=1", NULL);
	verdict_set(&v, NVM_STAGE_L1_BOOT, NVM_PASS, "64-bit", NULL);
	verdict_set(&v, NVM_STAGE_L1_CPUID, NVM_PASS, "5 leaves", NULL);
	verdict_set(&v, NVM_STAGE_L1_ENABLE, NVM_FAIL, "#GP on WRMSR EFER", "RIP=0x1000\nEFER=0xd01");
	verdict_finish(&v);
}

TestSuite(format, .fini = fini);

Test(format, names_round_trip)
{
	for (int f = 0; f < FORMAT_COUNT; f++)
		cr_assert_eq(format_by_name(format_name(f)), f);
	cr_assert_eq(format_by_name("ktap"), FORMAT_KTAP);
	cr_assert_eq(format_by_name("junit"), FORMAT_JUNIT);
	cr_assert_eq(format_by_name("tap"), -1);
}

Test(format, levels_follow_the_stage_list)
{
	struct level_span l[FORMAT_LEVELS_MAX];
	int n, total = 0;

	verdict_init(&v, "amd");
	n = format_levels(&v, l, FORMAT_LEVELS_MAX);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(l[0].name, "host");
	cr_assert_str_eq(l[1].name, "l1");
	cr_assert_str_eq(l[2].name, "l2");
	for (int i = 0; i < n; i++) {
		cr_assert_eq(l[i].first, total);
		cr_assert_eq(l[i].end - l[i].first, l[i].count);
		total += l[i].count;
	}
	cr_assert_eq(total, NVM_STAGE_COUNT);
}

Test(format, tests_not_in_the_run_are_absent)
{
	struct level_span l[FORMAT_LEVELS_MAX];

	mixed();
	for (int i = NVM_STAGE_L2_RUN; i < NVM_STAGE_COUNT; i++)
		v.stage[i].selected = false;
	v.stage[NVM_STAGE_L1_CPUID].selected = false;
	cr_assert_eq(format_levels(&v, l, FORMAT_LEVELS_MAX), 2, "a level with nothing in the run is dropped");
	cr_assert_eq(l[1].count, 2);
	const char *s = render(FORMAT_KTAP);
	cr_assert(!strncmp(s, "KTAP version 1\n1..2\n", 20), "%s", s);
	cr_assert_null(strstr(s, "l1.cpuid"), "%s", s);
	cr_assert_null(strstr(s, "l2."), "%s", s);
	cr_assert(strstr(s, "\n  not ok 2 l1.enable\n"), "numbered within the run: %s", s);
	free(buf);               /* each render makes a new buffer */
	s = render(FORMAT_JSON);
	cr_assert_null(strstr(s, "l1.cpuid"), "%s", s);
	free(buf);
	s = render(FORMAT_JUNIT);
	cr_assert_null(strstr(s, "l1.cpuid"), "%s", s);
	cr_assert(strstr(s, "<testsuites name=\"nestvmm\" tests=\"4\""), "%s", s);
	free(buf);
	s = render(FORMAT_TEXT);
	cr_assert_null(strstr(s, "l1.cpuid"), "%s", s);
	cr_assert_null(strstr(s, "\nl2:"), "%s", s);
}

Test(format, ktap_layout)
{
	mixed();
	const char *s = render(FORMAT_KTAP);

	/* Version line, then the plan at once (kunit.py expects it there). */
	cr_assert(!strncmp(s, "KTAP version 1\n1..3\n", 20), "%s", s);
	cr_assert(strstr(s, "\n  KTAP version 1\n  # Subtest: host\n  1..2\n"), "%s", s);
	cr_assert(strstr(s, "\n  ok 1 host.kvm\n"));
	cr_assert(strstr(s, "\nok 1 host\n"));
	/* Reason and details come before the result line they explain. */
	cr_assert(strstr(s, "\n  # l1.enable: #GP on WRMSR EFER\n"), "%s", s);
	cr_assert(strstr(s, "\n  #   RIP=0x1000\n  #   EFER=0xd01\n  not ok 3 l1.enable\n"), "%s", s);
	cr_assert(strstr(s, "\n# l1: 1 of 3 stages failed\nnot ok 2 l1\n"), "%s", s);
	cr_assert(strstr(s, "\n  ok 1 l2.run # SKIP needs l1.enable, which failed: \\#GP on WRMSR EFER\n"),
		  "%s", s);
	cr_assert(strstr(s, "\nok 3 l2 # SKIP every stage was skipped\n"), "%s", s);
	cr_assert(strstr(s, "\n# result: fail (exit code 1)"), "%s", s);
}

Test(format, ktap_result_lines_stay_one_line)
{
	mixed();
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_SKIP, "a # SKIP b\nok 9 forged\x01", NULL);
	const char *s = render(FORMAT_KTAP);

	cr_assert(strstr(s, "\n  ok 2 host.nested # SKIP a \\# SKIP b ok 9 forged?\n"), "%s", s);
	/* No line anywhere starts a forged result. */
	cr_assert_null(strstr(s, "\nok 9 forged"));
	cr_assert_null(strstr(s, "\n  ok 9 forged"));
}

Test(format, ktap_diagnostics_cannot_forge_lines)
{
	mixed();
	verdict_set(&v, NVM_STAGE_L1_ENABLE, NVM_FAIL, "x", "KTAP version 1\nnot ok 1 forged\n\x1b[31m");
	const char *s = render(FORMAT_KTAP);

	cr_assert(strstr(s, "\n  #   KTAP version 1\n  #   not ok 1 forged\n  #   ?[31m\n"), "%s", s);
}

Test(format, ktap_all_passed_has_no_failures)
{
	mixed();
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		verdict_set(&v, i, NVM_PASS, "fine", NULL);
	const char *s = render(FORMAT_KTAP);

	cr_assert_null(strstr(s, "not ok"));
	cr_assert_null(strstr(s, "SKIP"));
	cr_assert(strstr(s, "\nok 3 l2\n"));
}

Test(format, junit_layout)
{
	mixed();
	const char *s = render(FORMAT_JUNIT);

	char head[160];
	/* Every registry row is a test case; the l2 ones were skipped after l1.enable failed. */
	snprintf(head, sizeof(head), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"nestvmm\" "
		 "tests=\"%d\" failures=\"1\" errors=\"0\" skipped=\"%d\"", NVM_STAGE_COUNT,
		 NVM_STAGE_COUNT - NVM_STAGE_L2_RUN);
	cr_assert(!strncmp(s, head, strlen(head)), "%s", s);
	cr_assert(strstr(s, "<testsuite name=\"l1\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"0\""));
	cr_assert(strstr(s, "<testcase name=\"l1.enable\" classname=\"nestvmm.l1\" time=\"0.000000\">\n"
			    "      <failure message=\"#GP on WRMSR EFER\" type=\"stage-failed\"/>\n"
			    "      <system-out>#GP on WRMSR EFER\nRIP=0x1000\nEFER=0xd01</system-out>"),
		  "%s", s);
	cr_assert(strstr(s, "<skipped message=\"needs l1.enable, which failed: #GP on WRMSR EFER\"/>"));
	cr_assert(strstr(s, "<property name=\"host.kvm_api_version\" value=\"-1\"/>"));
}

Test(format, junit_names_how_the_run_broke)
{
	mixed();
	v.end = RUN_TIMEOUT;
	snprintf(v.end_reason, sizeof(v.end_reason), "timed out after 1 s");
	verdict_set(&v, NVM_STAGE_L1_ENABLE, NVM_FAIL, "timed out after 1 s", NULL);
	const char *s = render(FORMAT_JUNIT);

	cr_assert(strstr(s, "<failure message=\"timed out after 1 s\" type=\"timeout\"/>"), "%s", s);
}

static const char *xml(const char *in, bool attr)
{
	size_t len;
	FILE *out = open_memstream(&buf, &len);

	free(buf);
	xml_text(out, in, attr);
	fclose(out);
	return buf;
}

Test(format, xml_escapes_markup)
{
	cr_assert_str_eq(xml("<a href=\"x\">&'</a>", false), "&lt;a href=\"x\"&gt;&amp;'&lt;/a&gt;");
	cr_assert_str_eq(xml("<a href=\"x\">&'", true), "&lt;a href=&quot;x&quot;&gt;&amp;&apos;");
	cr_assert_str_eq(xml("]]>", false), "]]&gt;");
}

Test(format, xml_keeps_line_breaks_in_attributes)
{
	cr_assert_str_eq(xml("a\nb\tc\rd", true), "a&#10;b&#9;c&#13;d");
	cr_assert_str_eq(xml("a\nb\tc", false), "a\nb\tc");
}

Test(format, xml_replaces_what_xml_cannot_carry)
{
	cr_assert_str_eq(xml("a\x01" "b\x1b" "c", false), "a&#xFFFD;b&#xFFFD;c");
	cr_assert_str_eq(xml("\xff\xfe", false), "&#xFFFD;&#xFFFD;");
	/* Truncated, overlong, surrogate, U+FFFE, beyond U+10FFFF. */
	cr_assert_str_eq(xml("\xc3", false), "&#xFFFD;");
	cr_assert_str_eq(xml("\xc0\xaf", false), "&#xFFFD;&#xFFFD;");
	cr_assert_str_eq(xml("\xe0\x80\xaf", false), "&#xFFFD;&#xFFFD;&#xFFFD;");
	cr_assert_str_eq(xml("\xed\xa0\x80", false), "&#xFFFD;&#xFFFD;&#xFFFD;");
	cr_assert_str_eq(xml("\xef\xbf\xbe", false), "&#xFFFD;&#xFFFD;&#xFFFD;");
	cr_assert_str_eq(xml("\xf4\x90\x80\x80", false), "&#xFFFD;&#xFFFD;&#xFFFD;&#xFFFD;");
}

Test(format, xml_passes_valid_utf8)
{
	cr_assert_str_eq(xml("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", false),
			 "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
}

Test(format, an_interrupted_run_reports_the_exit_status_of_the_process)
{
	mixed();
	v.end = RUN_INTERRUPTED;
	v.signal = 15;
	cr_assert_eq(format_exit_code(&v), 143);
	cr_assert(strstr(render(FORMAT_JSON), "\"exit_code\": 143,"), "%s", buf);
	free(buf);
	cr_assert(strstr(render(FORMAT_KTAP), "# result: fail (exit code 143)"), "%s", buf);
	free(buf);
	cr_assert(strstr(render(FORMAT_JUNIT), "<property name=\"exit_code\" value=\"143\"/>"), "%s", buf);
}

static const char *json(const char *in)
{
	size_t len;
	FILE *out = open_memstream(&buf, &len);

	free(buf);
	json_string(out, in);
	fclose(out);
	return buf;
}

Test(format, json_keeps_utf8_and_replaces_the_rest)
{
	cr_assert_str_eq(json("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");
	cr_assert_str_eq(json("a\xff" "b\xc3"), "\"a\\ufffdb\\ufffd\"");
	cr_assert_str_eq(json("\"\\\n\t\x01\x7f"), "\"\\\"\\\\\\n\\t\\u0001\\u007f\"");
}
