// SPDX-License-Identifier: MIT
/* Test selection (--tests), --require, and how unsupported skips map to exit codes. */
#include <criterion/criterion.h>
#include <string.h>

#include "bisect.h"
#include "select.h"
#include "verdict.h"

static char err[512];
static bool in[NVM_STAGE_COUNT];

static int id_of(const char *name)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		if (!strcmp(stage_name[i], name))
			return i;
	cr_assert_fail("no test %s", name);
	return -1;
}

Test(select, no_pattern_selects_everything_of_the_vendor)
{
	struct selection s = { 0 };

	select_apply(&s, NVM_AMD, in);
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		cr_assert_eq(in[i], stage_vendor[i] != NVM_INTEL, "%s", stage_name[i]);
}

Test(select, a_glob_selects_its_matches_and_their_prerequisites)
{
	struct selection s = { 0 };

	cr_assert_eq(select_parse(&s, "l2.nested-*", err, sizeof(err)), 0, "%s", err);
	select_apply(&s, NVM_INTEL, in);
	cr_assert(in[id_of("l2.nested-paging")]);
	cr_assert(!in[id_of("l2.run")], "l2.run is not a prerequisite of l2.nested-paging");
	cr_assert(!in[id_of("l2.bench.round-trip")]);
	/* The chain it needs, and the host stages, always run. */
	cr_assert(in[id_of("l1.enable")] && in[id_of("l1.cpuid")] && in[id_of("l1.boot")]);
	cr_assert(in[id_of("host.kvm")] && in[id_of("host.nested")]);
}

Test(select, exclusions_alone_start_from_all_and_later_patterns_win)
{
	struct selection s = { 0 };

	cr_assert_eq(select_parse(&s, "-l2.bench.*", err, sizeof(err)), 0, "%s", err);
	select_apply(&s, NVM_AMD, in);
	cr_assert(in[id_of("l2.run")] && in[id_of("l2.nested-paging")]);
	cr_assert(!in[id_of("l2.bench.round-trip")]);

	struct selection t = { 0 };
	cr_assert_eq(select_parse(&t, "l2.*", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(select_parse(&t, "-l2.run,l2.run", err, sizeof(err)), 0, "repeatable: %s", err);
	select_apply(&t, NVM_AMD, in);
	cr_assert(in[id_of("l2.run")], "the last pattern that matches decides");
}

Test(select, a_pattern_that_matches_nothing_is_an_error)
{
	struct selection s = { 0 };

	cr_assert_eq(select_parse(&s, "l2.run,l2.nope*", err, sizeof(err)), -1);
	cr_assert(strstr(err, "\"l2.nope*\" matches no test"), "%s", err);
	cr_assert_eq(select_parse(&s, "l2.run,,l1.boot", err, sizeof(err)), -1);
	cr_assert(strstr(err, "empty pattern"), "%s", err);
	cr_assert_eq(select_parse(&s, "", err, sizeof(err)), -1);
}

Test(select, require_takes_known_feature_names)
{
	uint32_t m = 0;
	char buf[128];

	cr_assert_eq(select_parse_features("nrips,nested-paging", &m, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(m, NVM_REQ(NRIPS) | NVM_REQ(NESTED_PAGING));
	cr_assert_str_eq(select_feature_list(m, buf, sizeof(buf)), "nested-paging, nrips");
	cr_assert_eq(select_parse_features("nrips,npt", &m, err, sizeof(err)), -1);
	cr_assert(strstr(err, "unknown feature \"npt\"") && strstr(err, "vgif"), "%s", err);
}

/* A run where everything passed but one test was skipped as unsupported. */
static struct verdict v;
static void unsupported_run(void)
{
	verdict_init(&v, "amd");
	v.end = RUN_DONE;
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		verdict_set(&v, i, NVM_PASS, "fine", NULL);
	v.stage[NVM_STAGE_L2_NESTED_PAGING].status = NVM_PENDING;
	verdict_set(&v, NVM_STAGE_L2_NESTED_PAGING, NVM_SKIP, "unsupported: the L0 offers no nested-paging", NULL);
	v.stage[NVM_STAGE_L2_NESTED_PAGING].unsupported = NVM_REQ(NESTED_PAGING);
}

Test(select, an_unsupported_skip_does_not_make_the_run_a_skip)
{
	unsupported_run();
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_L2_NESTED_PAGING].status, NVM_SKIP);
	cr_assert_eq(verdict_exit_code(&v), EXIT_PASS);
	cr_assert_eq(bisect_exit_code(&v), BISECT_GOOD, "bisect: neutral, not 125");
}

Test(select, an_ordinary_skip_still_does)
{
	unsupported_run();
	v.stage[NVM_STAGE_L2_NESTED_PAGING].unsupported = 0;
	verdict_finish(&v);
	cr_assert_eq(verdict_exit_code(&v), EXIT_SKIP);
	cr_assert_eq(bisect_exit_code(&v), BISECT_UNTESTABLE);
}

Test(select, require_and_strict_turn_the_missing_feature_into_a_failure)
{
	unsupported_run();
	v.require = NVM_REQ(NRIPS);
	verdict_finish(&v);
	cr_assert_eq(verdict_exit_code(&v), EXIT_PASS, "--require of another feature changes nothing");

	unsupported_run();
	v.require = NVM_REQ(NESTED_PAGING);
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_L2_NESTED_PAGING].status, NVM_FAIL);
	cr_assert(strstr(v.stage[NVM_STAGE_L2_NESTED_PAGING].reason, "required by --require: unsupported"),
		  "%s", v.stage[NVM_STAGE_L2_NESTED_PAGING].reason);
	cr_assert_eq(verdict_exit_code(&v), EXIT_FAIL);
	cr_assert_eq(bisect_exit_code(&v), BISECT_BAD);

	unsupported_run();
	v.strict = true;
	verdict_finish(&v);
	cr_assert_eq(verdict_exit_code(&v), EXIT_FAIL);
}

Test(select, a_test_blocked_by_an_unsupported_one_is_unsupported_too)
{
	/* l2.* need l1.enable: pretend l1.enable was the unsupported one. */
	verdict_init(&v, "amd");
	v.end = RUN_DONE;
	for (int i = 0; i < NVM_STAGE_L1_ENABLE; i++)
		verdict_set(&v, i, NVM_PASS, "fine", NULL);
	verdict_set(&v, NVM_STAGE_L1_ENABLE, NVM_SKIP, "unsupported: x", NULL);
	v.stage[NVM_STAGE_L1_ENABLE].unsupported = NVM_REQ(VGIF);
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_L2_RUN].status, NVM_SKIP);
	cr_assert_eq(v.stage[NVM_STAGE_L2_RUN].unsupported, NVM_REQ(VGIF));
	cr_assert_eq(verdict_exit_code(&v), EXIT_PASS);
}
