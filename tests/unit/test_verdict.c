// SPDX-License-Identifier: MIT
/* The verdict: dependency skips, blame for a broken run, exit codes. */
#include <criterion/criterion.h>
#include <string.h>

#include "verdict.h"

static struct verdict v;

static void fresh(void)
{
	verdict_init(&v, "amd");
}

TestSuite(verdict, .init = fresh, .fini = NULL);

Test(verdict, all_pass_is_exit_0)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		verdict_set(&v, i, NVM_PASS, "ok", NULL);
	v.end = RUN_DONE;
	verdict_finish(&v);
	cr_assert_eq(verdict_exit_code(&v), EXIT_PASS);
}

Test(verdict, skipped_prerequisite_skips_dependents_naming_the_root)
{
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_SKIP, "no nested SVM", NULL);
	verdict_set(&v, NVM_STAGE_L1_BOOT, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_L1_CPUID, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_L1_ENABLE, NVM_SKIP, "SVM not in CPUID", NULL);
	v.end = RUN_DONE;
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_L2_RUN].status, NVM_SKIP);
	cr_assert(strstr(v.stage[NVM_STAGE_L2_RUN].reason, "needs l1.enable"), "%s",
		  v.stage[NVM_STAGE_L2_RUN].reason);
	cr_assert(strstr(v.stage[NVM_STAGE_L2_RUN].reason, "SVM not in CPUID"));
	cr_assert_eq(verdict_exit_code(&v), EXIT_SKIP);
}

Test(verdict, chain_names_root_cause_once)
{
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_L1_BOOT, NVM_FAIL, "boom", NULL);
	v.end = RUN_DONE;
	verdict_finish(&v);
	const char *r = v.stage[NVM_STAGE_L2_RUN].reason;
	cr_assert(strstr(r, "needs l1.enable, which did not run because l1.boot failed: boom"), "%s", r);
	cr_assert_null(strstr(strstr(r, "boom") + 1, "boom"), "root cause once: %s", r);
	cr_assert_eq(verdict_exit_code(&v), EXIT_FAIL);
}

Test(verdict, broken_run_blames_the_stage_in_progress)
{
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_PASS, "ok", NULL);
	verdict_set(&v, NVM_STAGE_L1_BOOT, NVM_PASS, "ok", NULL);
	v.stage[NVM_STAGE_L1_CPUID].begun = true;
	v.last_stage = NVM_STAGE_L1_CPUID;
	v.end = RUN_TIMEOUT;
	strcpy(v.end_reason, "timed out after 1 s in l1.cpuid");
	strcpy(v.vcpu_state, "RIP=0x1234");
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_L1_CPUID].status, NVM_FAIL);
	cr_assert_str_eq(v.stage[NVM_STAGE_L1_CPUID].reason, "timed out after 1 s in l1.cpuid");
	cr_assert_str_eq(v.stage[NVM_STAGE_L1_CPUID].details, "RIP=0x1234");
	cr_assert_eq(v.stage[NVM_STAGE_L1_ENABLE].status, NVM_SKIP);
	cr_assert_eq(verdict_exit_code(&v), EXIT_FAIL);
}

Test(verdict, interrupted_run_skips_instead_of_failing)
{
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "ok", NULL);
	v.end = RUN_INTERRUPTED;
	strcpy(v.end_reason, "interrupted by SIGINT");
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_HOST_NESTED].status, NVM_SKIP);
	cr_assert_str_eq(v.stage[NVM_STAGE_HOST_NESTED].reason, "interrupted by SIGINT");
}

Test(verdict, unreported_stage_after_done_fails)
{
	for (int i = 0; i < NVM_STAGE_L2_RUN; i++)
		verdict_set(&v, i, NVM_PASS, "ok", NULL);
	v.end = RUN_DONE;
	verdict_finish(&v);
	cr_assert_eq(v.stage[NVM_STAGE_L2_RUN].status, NVM_FAIL);
	cr_assert(strstr(v.stage[NVM_STAGE_L2_RUN].reason, "without reporting"));
}

Test(verdict, log_is_capped)
{
	for (int i = 0; i < VERDICT_LOG_MAX + 10; i++)
		verdict_add_log(&v, "line");
	cr_assert_eq(v.n_log, VERDICT_LOG_MAX);
	cr_assert_eq(v.n_log_dropped, 10);
	verdict_free(&v);
}

Test(verdict, long_reasons_are_cut_not_overflowed)
{
	char big[VERDICT_REASON_MAX * 2];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	verdict_set(&v, NVM_STAGE_L1_BOOT, NVM_FAIL, big, big);
	cr_assert_eq(strlen(v.stage[NVM_STAGE_L1_BOOT].reason), VERDICT_REASON_MAX - 1);
}
