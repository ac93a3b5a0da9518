// SPDX-License-Identifier: MIT
/*
 * l2.intercept.cpuid: CPUID in L2 exits to L1 with L2's EAX/ECX, and L2
 * gets the registers L1 emulates (APM 15.9 "Instruction Intercepts", CPUID
 * intercept, vector 3 bit 18, VMEXIT_CPUID 72h; SDM 26.1.2 "Instructions
 * That Cause VM Exits Unconditionally", exit reason 10). On VMX CPUID
 * always exits: the test runs the same there, with no control to set.
 *
 * The leaf is 4E56CAFEh, in no range any CPU defines: an L0 that ran
 * CPUID itself instead of reflecting the exit would answer with its own
 * values (KVM: those of the highest basic leaf), not L1's.
 */
#include "test.h"

#define LEAF    0x4e56cafeu
#define SUBLEAF 0x11u
static const u32 emu[4] = { 0x4e560001, 0x4e560002, 0x4e560003, 0x4e560004 };

extern const char l2_cpuid[];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u32 a = LEAF, b, c = SUBLEAF, d;

	(void)unused;
	__asm__ volatile(".global l2_cpuid\nl2_cpuid: cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d)
			 :: "memory");
	L2_ASSERT(a == emu[0] && b == emu[1] && c == emu[2] && d == emu[3],
		  "CPUID 4E56CAFEh returned %x %x %x %x, expected L1's %x %x %x %x", a, b, c, d,
		  emu[0], emu[1], emu[2], emu[3]);
}

NVM_TEST(L2_INTERCEPT_CPUID)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_CPUID };
	struct l2_exit x;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested_expect(&vcpu, &x, L2_EXIT_CPUID, l2_cpuid, "the CPUID exit", r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "CPUID exit 0x%lx at RIP 0x%lx, EAX=0x%lx ECX=0x%lx, length %u", x.raw, x.rip,
		     vcpu.gpr[L2_RAX], vcpu.gpr[L2_RCX], x.insn_len);
	if ((u32)vcpu.gpr[L2_RAX] != LEAF || (u32)vcpu.gpr[L2_RCX] != SUBLEAF)
		return stage_fail(r, "at the CPUID exit L2's EAX=0x%x ECX=0x%x, expected 0x%x 0x%x",
				  (u32)vcpu.gpr[L2_RAX], (u32)vcpu.gpr[L2_RCX], LEAF, SUBLEAF);
	if (x.insn_len != 2)
		return stage_fail(r, "CPUID exit: instruction length %u, expected 2 (0F A2)", x.insn_len);
	vcpu.gpr[L2_RAX] = emu[0];
	vcpu.gpr[L2_RBX] = emu[1];
	vcpu.gpr[L2_RCX] = emu[2];
	vcpu.gpr[L2_RDX] = emu[3];
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "CPUID exited to L1 with leaf and subleaf; L2 got L1's emulated values%s",
			  nested->virt[0] == 'V' ? " (VMX: CPUID exits unconditionally)" : "");
}
