// SPDX-License-Identifier: MIT
/*
 * l2.intercept.vmx.rdtscp: with "RDTSC exiting" and "enable RDTSCP"
 * (SDM 25.6.2: without it RDTSCP is #UD in L2), RDTSCP in L2 exits to L1
 * as exit reason 51 with its length 3, and L2 gets the counter and TSC_AUX
 * (ECX) L1 emulates (SDM 26.1.3 "RDTSCP", appendix C).
 *
 * Intel only here: SVM's RDTSCP intercept cannot be checked under the QEMU
 * TCG L0 (see l2_intercept_rdtsc.c). Skipped where CPUID lacks RDTSCP.
 */
#include "test.h"

#define EMU_TSC  0x4e56000100001234ull
#define EMU_AUX  0x4e56u

extern const char l2_rdtscp[];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u32 lo, hi, aux;

	(void)unused;
	__asm__ volatile(".global l2_rdtscp\nl2_rdtscp: rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux)
			 :: "memory");
	L2_ASSERT((((u64)hi << 32) | lo) == EMU_TSC && aux == EMU_AUX, "RDTSCP returned 0x%lx "
		  "aux 0x%x, expected L1's 0x%llx aux 0x%x", ((u64)hi << 32) | lo, aux, EMU_TSC,
		  EMU_AUX);
}

NVM_TEST(L2_INTERCEPT_VMX_RDTSCP)
{
	u32 id[4];
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_RDTSC | L2_ICPT_RDTSCP };
	struct l2_exit x;

	cpuid(CPUID_LEAF_EXT_FEATURES, 0, id);
	if (!(id[3] & (1u << 27)))
		return stage_skip(r, "unsupported: CPUID 80000001h:EDX[27]=0, the L0 offers no RDTSCP");
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested_expect(&vcpu, &x, L2_EXIT_RDTSCP, l2_rdtscp, "the RDTSCP exit", r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "RDTSCP exit 0x%lx at RIP 0x%lx, length %u", x.raw, x.rip, x.insn_len);
	if (x.insn_len != 3)
		return stage_fail(r, "RDTSCP exit: instruction length %u, expected 3 (0F 01 F9)",
				  x.insn_len);
	vcpu.gpr[L2_RAX] = (u32)EMU_TSC;
	vcpu.gpr[L2_RDX] = EMU_TSC >> 32;
	vcpu.gpr[L2_RCX] = EMU_AUX;
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "RDTSCP exited to L1 (reason 51); L2 got L1's counter and TSC_AUX");
}
