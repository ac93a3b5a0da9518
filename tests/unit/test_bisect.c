// SPDX-License-Identifier: MIT
/* --bisect: every verdict maps to exactly one of good (0), bad (1), untestable (125). */
#include <criterion/criterion.h>

#include "bisect.h"
#include "verdict.h"

static struct verdict v;

/* A finished run where every stage has status st. */
static void all(enum nvm_status st)
{
	verdict_init(&v, "amd");
	v.end = RUN_DONE;
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		verdict_set(&v, i, st, "r", NULL);
}

Test(bisect, every_stage_passed_is_good)
{
	all(NVM_PASS);
	cr_assert_eq(bisect_exit_code(&v), 0);
}

Test(bisect, a_nesting_stage_failing_is_bad)
{
	for (int i = BISECT_FIRST_NESTING_STAGE; i < NVM_STAGE_COUNT; i++) {
		all(NVM_PASS);
		verdict_set(&v, i, NVM_FAIL, "#GP on VMRUN", NULL);
		cr_assert_eq(bisect_exit_code(&v), 1, "stage %s", stage_name[i]);
	}
}

Test(bisect, l1_enable_is_the_first_nesting_stage)
{
	cr_assert_str_eq(stage_name[BISECT_FIRST_NESTING_STAGE], "l1.enable");
}

Test(bisect, a_failed_preparation_is_untestable)
{
	/* No KVM, L1 did not boot, CPUID mismatch: nesting was never tried. */
	for (int i = 0; i < BISECT_FIRST_NESTING_STAGE; i++) {
		all(NVM_PASS);
		verdict_set(&v, i, NVM_FAIL, "setting up L1 failed", NULL);
		cr_assert_eq(bisect_exit_code(&v), 125, "stage %s", stage_name[i]);
	}
}

Test(bisect, failed_setup_with_skipped_nesting_is_untestable)
{
	/* What verdict_finish leaves when l1.boot fails: the rest skipped. */
	all(NVM_PASS);
	v.end = RUN_SHUTDOWN;
	verdict_set(&v, NVM_STAGE_L1_BOOT, NVM_FAIL, "triple fault", NULL);
	for (int i = NVM_STAGE_L1_BOOT + 1; i < NVM_STAGE_COUNT; i++)
		verdict_set(&v, i, NVM_SKIP, "needs l1.boot", NULL);
	cr_assert_eq(bisect_exit_code(&v), 125);
}

Test(bisect, any_skip_is_untestable)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		all(NVM_PASS);
		verdict_set(&v, i, NVM_SKIP, "no nested SVM", NULL);
		cr_assert_eq(bisect_exit_code(&v), 125, "stage %s", stage_name[i]);
	}
}

Test(bisect, a_failure_outweighs_skips)
{
	/* l2.run failed, l2.nested-paging skipped: the commit is still bad. */
	all(NVM_PASS);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_SKIP, "heuristic", NULL);
	verdict_set(&v, NVM_STAGE_L2_RUN, NVM_FAIL, "VMEXIT_INVALID", NULL);
	verdict_set(&v, NVM_STAGE_L2_NESTED_PAGING, NVM_SKIP, "needs l2.run", NULL);
	cr_assert_eq(bisect_exit_code(&v), 1);
}

Test(bisect, a_hang_in_l2_is_bad)
{
	all(NVM_PASS);
	v.end = RUN_TIMEOUT;
	verdict_set(&v, NVM_STAGE_L2_RUN, NVM_FAIL, "timed out after 10 s", NULL);
	verdict_set(&v, NVM_STAGE_L2_NESTED_PAGING, NVM_SKIP, "not reached", NULL);
	cr_assert_eq(bisect_exit_code(&v), 1);
}

Test(bisect, interrupted_is_untestable_even_after_a_failure)
{
	all(NVM_PASS);
	verdict_set(&v, NVM_STAGE_L1_ENABLE, NVM_FAIL, "#GP", NULL);
	v.end = RUN_INTERRUPTED;
	v.signal = 2;
	cr_assert_eq(bisect_exit_code(&v), 125);
}

Test(bisect, a_stage_never_reported_is_untestable)
{
	all(NVM_PASS);
	v.stage[NVM_STAGE_L2_RUN].status = NVM_PENDING;
	cr_assert_eq(bisect_exit_code(&v), 125);
}

Test(bisect, unselected_stages_do_not_count)
{
	all(NVM_PASS);
	v.stage[NVM_STAGE_L2_NESTED_PAGING].selected = false;
	verdict_set(&v, NVM_STAGE_L2_NESTED_PAGING, NVM_SKIP, "not selected for this run", NULL);
	cr_assert_eq(bisect_exit_code(&v), 0);
}

Test(bisect, nothing_selected_is_untestable)
{
	all(NVM_SKIP);
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		v.stage[i].selected = false;
	cr_assert_eq(bisect_exit_code(&v), 125);
}

Test(bisect, plain_exit_codes)
{
	cr_assert_eq(bisect_from_exit(EXIT_PASS), 0);
	cr_assert_eq(bisect_from_exit(EXIT_FAIL), 1);
	cr_assert_eq(bisect_from_exit(EXIT_USAGE), 125);
	cr_assert_eq(bisect_from_exit(EXIT_SKIP), 125);
	cr_assert_eq(bisect_from_exit(130), 125);
	cr_assert_eq(bisect_from_exit(143), 125);
	cr_assert_eq(bisect_from_exit(-1), 125);
}
