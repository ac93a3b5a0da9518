// SPDX-License-Identifier: MIT
/*
 * l2.intercept.dr: MOV from DR7, MOV to DR7 and MOV to DR0 in L2 exit to
 * L1 when intercepted, with the DR number, the direction and the register
 * where the vendor reports it (APM 15.8.2 "DR Intercepts", VMEXIT_DR7_READ
 * 27h, VMEXIT_DR0_WRITE 30h, 15.33.1 the GPR with decode assists; SDM
 * 25.6.2 "MOV-DR exiting", 26.1.3, exit reason 29, table 28-4). L1 answers
 * the read with a value L2 checks; the writes are dropped, and since L1
 * answers every DR read, L2 sees L1's values only.
 */
#include "l2_intercept_insn.h"

#define EMU_DR7 0x4e50400ull
#define L2_DR7  0x700ull                    /* LE, GE, bit 10: no breakpoint enabled */
#define L2_DR0  0x4e56000ull

extern const char l2_dr7_rd[], l2_dr7_wr[], l2_dr0_wr[];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u64 v;

	(void)unused;
	__asm__ volatile(".global l2_dr7_rd\nl2_dr7_rd: mov %%dr7, %%rbx" : "=b"(v) :: "memory");
	L2_ASSERT(v == EMU_DR7, "MOV from DR7 (intercepted) gave 0x%lx, expected L1's 0x%llx", v,
		  EMU_DR7);
	__asm__ volatile(".global l2_dr7_wr\nl2_dr7_wr: mov %%rcx, %%dr7" :: "c"(L2_DR7) : "memory");
	__asm__ volatile(".global l2_dr0_wr\nl2_dr0_wr: mov %%rdx, %%dr0" :: "d"(L2_DR0) : "memory");
}

NVM_TEST(L2_INTERCEPT_DR)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_DR_READ | L2_ICPT_DR_WRITE };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_mov_xr(&vcpu, L2_EXIT_DR, l2_dr7_rd, 7, false, X86_RBX, 3, "MOV from DR7", r) != NVM_PASS)
		return NVM_FAIL;
	vcpu.gpr[L2_RBX] = EMU_DR7;
	if (expect_mov_xr(&vcpu, L2_EXIT_DR, l2_dr7_wr, 7, true, X86_RCX, 3, "MOV to DR7", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RCX] != L2_DR7)
		return stage_fail(r, "MOV to DR7: RCX at the exit is 0x%lx, expected 0x%llx",
				  vcpu.gpr[L2_RCX], L2_DR7);
	if (expect_mov_xr(&vcpu, L2_EXIT_DR, l2_dr0_wr, 0, true, X86_RDX, 3, "MOV to DR0", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RDX] != L2_DR0)
		return stage_fail(r, "MOV to DR0: RDX at the exit is 0x%lx, expected 0x%llx",
				  vcpu.gpr[L2_RDX], L2_DR0);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV from/to DR7 and MOV to DR0 exited with DR number and direction; "
			  "L2 got L1's DR7");
}
