// SPDX-License-Identifier: MIT
/*
 * l2.intercept.hlt: HLT in L2 exits to L1 at the HLT, whose length is 1, and
 * L2 goes on after it once L1 steps over it (APM 15.9 "Instruction
 * Intercepts", intercept vector 3 bit 24; SDM 26.1.3 "Instructions That
 * Cause VM Exits Conditionally", "HLT exiting", exit reason 12). L2 runs
 * with interrupts off: without the intercept it would halt for good, and
 * only the per-test timeout would end it.
 */
#include "test.h"

extern const char l2_hlt[];
static volatile u32 after_hlt;

static void __attribute__((noinline)) l2_code(u64 unused)
{
	(void)unused;
	__asm__ volatile(".global l2_hlt\nl2_hlt: hlt" ::: "memory");
	after_hlt = 1;
}

NVM_TEST(L2_INTERCEPT_HLT)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;

	after_hlt = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS || nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HLT)
		return nested_unexpected(&vcpu, &x, "the HLT exit", r);
	if (x.rip != gpa_of(l2_hlt))
		return stage_fail(r, "HLT exit at L2 RIP 0x%lx, expected the HLT at 0x%lx", x.rip,
				  gpa_of(l2_hlt));
	/* The length is reported where the manual defines it (VMX; SVM with NRIPS). */
	if (x.insn_len && x.insn_len != 1)
		return stage_fail(r, "HLT exit reports an instruction length of %u, expected 1", x.insn_len);
	stage_detail(r, "HLT exit 0x%lx at RIP 0x%lx, length %u%s", x.raw, x.rip, x.insn_len,
		     x.insn_len ? "" : " (not reported on this L0: stepped by 1)");
	vcpu.rip = x.rip + 1;
	if (after_hlt)
		return stage_fail(r, "L2 ran past its HLT before L1 resumed it");
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (!after_hlt)
		return stage_fail(r, "L2 finished without running the code after its HLT");
	return stage_pass(r, "HLT exited to L1 at 0x%lx; stepped over it, L2 went on", x.rip);
}
