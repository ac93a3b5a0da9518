// SPDX-License-Identifier: MIT
/*
 * l2.intercept.cr3: MOV from CR3 and MOV to CR3 in L2 exit to L1 when
 * intercepted, with the register where the vendor reports it; L1 answers
 * the read with a value L2 checks (APM 15.8.1, VMEXIT_CR3_READ 3h /
 * VMEXIT_CR3_WRITE 13h; SDM 25.6.2 "CR3-load exiting"/"CR3-store exiting"
 * with CR3-target count 0, 26.1.3, exit reason 28, table 28-3).
 *
 * L2 writes back the CR3 it runs on (L1's): were the exit not reflected,
 * L0 would load it and nothing would break, so only the exit shows.
 */
#include "l2_intercept_insn.h"

#define EMU_CR3 0x4e56f000ull

extern const char l2_cr3_rd[], l2_cr3_wr[];
static volatile u64 l1_cr3;

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u64 v;

	(void)unused;
	__asm__ volatile(".global l2_cr3_rd\nl2_cr3_rd: mov %%cr3, %%rbx" : "=b"(v) :: "memory");
	L2_ASSERT(v == EMU_CR3, "MOV from CR3 (intercepted) gave 0x%lx, expected L1's 0x%llx", v,
		  EMU_CR3);
	__asm__ volatile(".global l2_cr3_wr\nl2_cr3_wr: mov %%rcx, %%cr3" :: "c"(l1_cr3) : "memory");
}

NVM_TEST(L2_INTERCEPT_CR3)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_CR3_READ | L2_ICPT_CR3_WRITE };

	l1_cr3 = read_cr3();
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_mov_xr(&vcpu, L2_EXIT_CR, l2_cr3_rd, 3, false, X86_RBX, 3, "MOV from CR3", r) != NVM_PASS)
		return NVM_FAIL;
	vcpu.gpr[L2_RBX] = EMU_CR3;
	if (expect_mov_xr(&vcpu, L2_EXIT_CR, l2_cr3_wr, 3, true, X86_RCX, 3, "MOV to CR3", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RCX] != l1_cr3)
		return stage_fail(r, "MOV to CR3: RCX at the exit is 0x%lx, expected 0x%lx",
				  vcpu.gpr[L2_RCX], l1_cr3);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV from CR3 and MOV to CR3 exited to L1; L2 got L1's CR3 value");
}
