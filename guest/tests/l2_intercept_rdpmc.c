// SPDX-License-Identifier: MIT
/*
 * l2.intercept.rdpmc: RDPMC in L2 (CPL 0, ECX=0) exits to L1 when
 * intercepted, with L2's ECX, and L2 gets the count L1 emulates (APM 15.9:
 * RDPMC intercept vector 3 bit 15, VMEXIT 6Fh; SDM 26.1.3 "RDPMC exiting",
 * exit reason 15). An L0 that ran it itself would return its own counter
 * or raise #GP, never L1's value.
 */
#include "l2_intercept_insn.h"

#define EMU_PMC 0x0000004e56c0ffeeull        /* RDPMC returns at most 48 bits' worth */

extern const char l2_rdpmc[];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u32 lo, hi;

	(void)unused;
	__asm__ volatile(".global l2_rdpmc\nl2_rdpmc: rdpmc" : "=a"(lo), "=d"(hi) : "c"(0) : "memory");
	L2_ASSERT((((u64)hi << 32) | lo) == EMU_PMC, "RDPMC returned 0x%lx, expected L1's 0x%llx",
		  ((u64)hi << 32) | lo, EMU_PMC);
}

NVM_TEST(L2_INTERCEPT_RDPMC)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_RDPMC };
	struct l2_exit x;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if (nested_expect(&vcpu, &x, L2_EXIT_RDPMC, l2_rdpmc, "the RDPMC exit", r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "RDPMC exit 0x%lx at RIP 0x%lx, ECX=0x%lx, length %u", x.raw, x.rip,
		     vcpu.gpr[L2_RCX], x.insn_len);
	if ((u32)vcpu.gpr[L2_RCX] != 0 || x.insn_len != 2)
		return stage_fail(r, "RDPMC exit: ECX=0x%x length %u, expected 0 and 2 (0F 33)",
				  (u32)vcpu.gpr[L2_RCX], x.insn_len);
	vcpu.gpr[L2_RAX] = (u32)EMU_PMC;
	vcpu.gpr[L2_RDX] = EMU_PMC >> 32;
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "RDPMC exited to L1 with ECX; L2 got L1's emulated count");
}
