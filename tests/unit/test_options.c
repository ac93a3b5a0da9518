// SPDX-License-Identifier: MIT
/* Command-line parsing: --format, --output FORMAT:FILE, --bisect. */
#include <criterion/criterion.h>
#include <string.h>

#include "options.h"

static struct options o;
static char err[256];

/* Parse a NULL-terminated list of arguments after "nestvmm". */
#define PARSE(...) parse((char *[]){ "nestvmm", __VA_ARGS__, NULL })
static int parse(char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	err[0] = '\0';
	return options_parse(argc, argv, &o, err, sizeof(err));
}

Test(options, defaults)
{
	cr_assert_eq(parse((char *[]){ "nestvmm", NULL }), 0);
	cr_assert_eq(o.n_outputs, 1);
	cr_assert_eq(o.outputs[0].format, FORMAT_TEXT);
	cr_assert_null(o.outputs[0].path);
	cr_assert_not(o.bisect);
	cr_assert_not(o.host_only);
}

Test(options, migrate)
{
	cr_assert_eq(parse((char *[]){ "nestvmm", NULL }), 0);
	cr_assert(!o.migrate, "--migrate is off by default");
	cr_assert_eq(PARSE("--migrate"), 0, "%s", err);
	cr_assert(o.migrate);
	cr_assert_neq(PARSE("--migrate=yes"), 0, "--migrate takes no value");
}

Test(options, host_only)
{
	cr_assert_eq(PARSE("--host-only", "--format", "json"), 0, "%s", err);
	cr_assert(o.host_only);
	cr_assert_eq(PARSE("--host-only=yes"), -1, "takes no argument");
}

Test(options, every_format_by_name)
{
	const char *names[] = { "text", "json", "ktap", "junit" };

	for (int f = 0; f < 4; f++) {
		cr_assert_eq(PARSE("--format", (char *)names[f]), 0, "%s", err);
		cr_assert_eq(o.outputs[0].format, (enum format)f);
	}
}

Test(options, unknown_format_lists_the_known_ones)
{
	cr_assert_eq(PARSE("--format", "tap"), -1);
	cr_assert(strstr(err, "\"tap\"") && strstr(err, "ktap") && strstr(err, "junit"), "%s", err);
}

Test(options, output_for_every_format)
{
	cr_assert_eq(PARSE("--format", "json", "--output", "text:a.txt", "--output", "json:b.json",
			   "--output", "ktap:c.ktap", "--output", "junit:d.xml"), 0, "%s", err);
	cr_assert_eq(o.n_outputs, 5);
	cr_assert_eq(o.outputs[0].format, FORMAT_JSON);
	cr_assert_null(o.outputs[0].path);
	cr_assert_eq(o.outputs[1].format, FORMAT_TEXT);
	cr_assert_str_eq(o.outputs[1].path, "a.txt");
	cr_assert_eq(o.outputs[2].format, FORMAT_JSON);
	cr_assert_str_eq(o.outputs[2].path, "b.json");
	cr_assert_eq(o.outputs[3].format, FORMAT_KTAP);
	cr_assert_str_eq(o.outputs[3].path, "c.ktap");
	cr_assert_eq(o.outputs[4].format, FORMAT_JUNIT);
	cr_assert_str_eq(o.outputs[4].path, "d.xml");
}

Test(options, plain_output_file_takes_the_main_format)
{
	cr_assert_eq(PARSE("--output", "run.xml", "--format", "junit"), 0, "%s", err);
	cr_assert_eq(o.n_outputs, 1);
	cr_assert_eq(o.outputs[0].format, FORMAT_JUNIT);
	cr_assert_str_eq(o.outputs[0].path, "run.xml");
}

Test(options, unknown_prefix_is_part_of_the_file_name)
{
	/* "C:" or "notes:" is no format: the whole argument is a path. */
	cr_assert_eq(PARSE("--output", "notes:x"), 0, "%s", err);
	cr_assert_eq(o.n_outputs, 1);
	cr_assert_str_eq(o.outputs[0].path, "notes:x");
}

Test(options, output_format_needs_a_file)
{
	cr_assert_eq(PARSE("--output", "junit:"), -1);
	cr_assert(strstr(err, "no file name"), "%s", err);
	cr_assert_eq(PARSE("--output", ""), -1);
}

Test(options, output_count_is_bounded)
{
	char *argv[2 + 2 * OPTIONS_OUTPUT_MAX] = { "nestvmm" };
	int n = 1;

	for (int i = 0; i < OPTIONS_OUTPUT_MAX - 1; i++) {
		argv[n++] = "--output";
		argv[n++] = "ktap:x";
	}
	argv[n] = NULL;
	cr_assert_eq(parse(argv), 0, "%s", err);
	argv[n++] = "--output";
	argv[n++] = "ktap:x";
	argv[n] = NULL;
	cr_assert_eq(parse(argv), -1);
	cr_assert(strstr(err, "at most"), "%s", err);
}

Test(options, bisect_flag)
{
	cr_assert_eq(PARSE("--bisect", "--format", "ktap"), 0, "%s", err);
	cr_assert(o.bisect);
	cr_assert_eq(PARSE("--bisect=1"), -1);
}

Test(options, help_documents_formats_outputs_and_bisect)
{
	cr_assert(strstr(options_usage, "ktap"));
	cr_assert(strstr(options_usage, "junit"));
	cr_assert(strstr(options_usage, "--output FORMAT:FILE"));
	cr_assert(strstr(options_usage, "--bisect"));
	cr_assert(strstr(options_usage, "125"));
}

Test(options, unknown_short_option_is_named_and_forgotten)
{
	/* "-xyz": the message names -x, and the next parse starts afresh. */
	cr_assert_eq(PARSE("-xyz"), -1);
	cr_assert(strstr(err, "\"-x\""), "%s", err);
	cr_assert_eq(PARSE("--format", "ktap"), 0, "%s", err);
	cr_assert_eq(o.outputs[0].format, FORMAT_KTAP);
}

/* strtoul() skips leading white space; a number option must start with a digit. */
Test(options, numbers_with_leading_space_or_sign_are_refused)
{
	static const char *const bad[] = { " 5", "\t5", "+5", "-5", "" };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "nestvmm", "--timeout", (char *)bad[i], NULL };
		struct options o;
		char err[256] = "";

		cr_assert_eq(options_parse(3, argv, &o, err, sizeof(err)), -1, "\"%s\" accepted", bad[i]);
		cr_assert(strstr(err, "--timeout"), "%s", err);
	}
}
