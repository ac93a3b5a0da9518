// SPDX-License-Identifier: MIT
/*
 * l2.intercept.invlpg: INVLPG in L2 exits to L1 when intercepted, with the
 * linear address of its operand where the vendor reports it (SDM 26.1.3
 * "INVLPG exiting", exit reason 14, 28.2.1: the qualification is the
 * linear address; APM 15.9 INVLPG intercept vector 3 bit 25, VMEXIT 79h,
 * 15.33.2: EXITINFO1 holds the address only with decode assists, which the
 * QEMU TCG L0 lacks: there the address is not checked, only the exit).
 * L2 uses a base + displacement operand: the address is base + 0x40.
 */
#include "l2_intercept_insn.h"

extern const char l2_invlpg[];
static u8 l2_page[4096] __attribute__((aligned(4096)));

static void __attribute__((noinline)) l2_code(u64 unused)
{
	(void)unused;
	__asm__ volatile(".global l2_invlpg\nl2_invlpg: invlpg 0x40(%0)" :: "r"(l2_page) : "memory");
}

NVM_TEST(L2_INTERCEPT_INVLPG)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_INVLPG };
	struct l2_exit x;
	u64 want = gpa_of(l2_page) + 0x40;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_insn(&vcpu, &x, L2_EXIT_INVLPG, l2_invlpg, 4, "the INVLPG exit", r) != NVM_PASS)
		return NVM_FAIL;
	if (x.has_linear && x.linear != want)
		return stage_fail(r, "INVLPG exit reports linear address 0x%lx, expected 0x%lx", x.linear,
				  want);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "INVLPG exited to L1%s", x.has_linear ? " with its linear address" :
			  " (address not reported: no decode assists)");
}
