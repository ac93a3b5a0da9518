// SPDX-License-Identifier: MIT
/*
 * l2.intercept.pause: PAUSE in L2 exits to L1 when intercepted (APM 15.9
 * PAUSE intercept vector 3 bit 23, VMEXIT 77h, 15.14.4: with a pause
 * filter count of 0 the first PAUSE exits; SDM 26.1.3 "PAUSE exiting",
 * exit reason 40). Without the intercept PAUSE is a hint: only the exit
 * shows that the intercept was honoured.
 */
#include "l2_intercept_insn.h"

extern const char l2_pause[];
static volatile u32 after_pause;

static void __attribute__((noinline)) l2_code(u64 unused)
{
	(void)unused;
	__asm__ volatile(".global l2_pause\nl2_pause: pause" ::: "memory");
	after_pause = 1;
}

NVM_TEST(L2_INTERCEPT_PAUSE)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_PAUSE };
	struct l2_exit x;

	after_pause = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_insn(&vcpu, &x, L2_EXIT_PAUSE, l2_pause, 2, "the PAUSE exit", r) != NVM_PASS)
		return NVM_FAIL;
	if (after_pause)
		return stage_fail(r, "L2 ran past its PAUSE before L1 resumed it");
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "PAUSE exited to L1 at 0x%lx; L2 went on after it", x.rip);
}
