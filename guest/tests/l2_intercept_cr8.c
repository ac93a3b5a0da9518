// SPDX-License-Identifier: MIT
/*
 * l2.intercept.cr8: MOV to CR8 and MOV from CR8 (the TPR, 64-bit mode) exit
 * to L1 when intercepted; L1 answers the read with a value L2 checks (APM
 * 15.8.1, VMEXIT_CR8_READ 8h / _WRITE 18h; SDM 25.6.2 "CR8-load exiting",
 * "CR8-store exiting" without "use TPR shadow", 26.1.3, exit reason 28).
 */
#include "l2_intercept_insn.h"

#define L2_TPR  0x5ull
#define EMU_TPR 0x9ull

extern const char l2_cr8_wr[], l2_cr8_rd[];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u64 v;

	(void)unused;
	__asm__ volatile(".global l2_cr8_wr\nl2_cr8_wr: mov %%rcx, %%cr8" :: "c"(L2_TPR) : "memory");
	__asm__ volatile(".global l2_cr8_rd\nl2_cr8_rd: mov %%cr8, %%rbx" : "=b"(v) :: "memory");
	L2_ASSERT(v == EMU_TPR, "MOV from CR8 (intercepted) gave 0x%lx, expected L1's 0x%llx", v,
		  EMU_TPR);
}

NVM_TEST(L2_INTERCEPT_CR8)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_CR8_READ | L2_ICPT_CR8_WRITE };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_mov_xr(&vcpu, L2_EXIT_CR, l2_cr8_wr, 8, true, X86_RCX, 4, "MOV to CR8", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RCX] != L2_TPR)
		return stage_fail(r, "MOV to CR8: RCX at the exit is 0x%lx, expected 0x%llx",
				  vcpu.gpr[L2_RCX], L2_TPR);
	if (expect_mov_xr(&vcpu, L2_EXIT_CR, l2_cr8_rd, 8, false, X86_RBX, 4, "MOV from CR8", r) != NVM_PASS)
		return NVM_FAIL;
	vcpu.gpr[L2_RBX] = EMU_TPR;
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV to CR8 and MOV from CR8 exited to L1; L2 got L1's TPR value");
}
