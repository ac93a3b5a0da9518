// SPDX-License-Identifier: MIT
/*
 * Findings of tests/fuzz/fuzz_options in vmm/options.c (reported; fixed in
 * fa80d4f "Fix robustness findings in options and formats").
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

static struct options o;
static char err[512];

/* argv in fresh heap blocks, freed after the parse (as a fuzzer or a test does). */
static int parse(int argc, const char *const *args)
{
	char **argv = calloc((size_t)argc + 1, sizeof(char *));
	int rc;

	for (int i = 0; i < argc; i++)
		argv[i] = strdup(args[i]);
	err[0] = '\0';
	rc = options_parse(argc, argv, &o, err, sizeof(err));
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	return rc;
}


/*
 * corpus/options/seed-short-cluster: "-xyz" (an unknown short option with more
 * letters behind it) is reported as unknown option "nestvmm" (argv[0]), and
 * "--timeout 5 -xy" as unknown option "5": the message uses argv[optind - 1],
 * but getopt has not advanced optind inside a cluster. Now optopt ("-x") is
 * named.
 */
Test(regress_options, unknown_short_option_in_a_cluster_is_named)
{
	cr_assert_eq(parse(2, (const char *[]){ "nestvmm", "-xyz" }), -1);
	cr_expect(strstr(err, "-x"), "message does not name the option: %s", err);
	cr_assert_eq(parse(4, (const char *[]){ "nestvmm", "--timeout", "5", "-xy" }), -1);
	cr_expect(strstr(err, "-x"), "message does not name the option: %s", err);
}

/*
 * options_parse() restarts getopt with optind = 1; glibc keeps its private
 * "next character" pointer from a parse that stopped inside "-xyz", so the
 * next parse continues in the old argv (a use after free when that was
 * freed) and refuses a valid command line. main() parses once; tests and the
 * fuzzer parse many times. Fix: optind = 0 (a full re-initialisation in
 * glibc), done now. The first argv is kept alive here so that the outcome does not
 * depend on what the allocator does with freed blocks.
 */
Test(regress_options, a_parse_after_a_short_option_cluster_starts_afresh)
{
	static char a0[] = "nestvmm", a1[] = "-xyz";   /* stays valid: a stale pointer into it reads "yz" */
	char *first[] = { a0, a1, NULL };

	cr_assert_eq(options_parse(2, first, &o, err, sizeof(err)), -1);
	cr_assert_eq(parse(3, (const char *[]){ "nestvmm", "--mem", "8" }), 0,
		     "a valid command line was refused after an earlier error: %s", err);
	cr_assert_eq(o.mem_size, 8ull << 20);
}

/* What holds today: repeated parses of ordinary command lines, and every error names its option. */
Test(regress_options, repeated_parses_and_messages)
{
	cr_assert_eq(parse(3, (const char *[]){ "nestvmm", "--mem", "8" }), 0, "%s", err);
	cr_assert_eq(o.mem_size, 8ull << 20);
	cr_assert_eq(parse(3, (const char *[]){ "nestvmm", "--mem", "99999999999999999999" }), -1);
	cr_assert(strstr(err, "--mem"), "%s", err);
	cr_assert_eq(parse(2, (const char *[]){ "nestvmm", "--mem" }), -1);
	cr_assert(strstr(err, "--mem"), "%s", err);
	cr_assert_eq(parse(3, (const char *[]){ "nestvmm", "--cpu", "+svm," }), -1);
	cr_assert(strstr(err, "--cpu"), "%s", err);
	cr_assert_eq(parse(2, (const char *[]){ "nestvmm", "--timeout=5" }), 0, "%s", err);
	cr_assert_eq(o.timeout_s, 5);
}
