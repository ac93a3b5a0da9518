// SPDX-License-Identifier: MIT
/*
 * l2.intercept.cr8: MOV to CR8 and MOV from CR8 (the TPR, 64-bit mode) exit
 * to L1 when intercepted; L1 answers the read with a value L2 checks (APM
 * 15.8.1, VMEXIT_CR8_READ 8h / _WRITE 18h; SDM 25.6.2 "CR8-load exiting",
 * "CR8-store exiting" without "use TPR shadow", 26.1.3, exit reason 28).
 */
#include "test.h"

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

static enum nvm_status expect_cr8(struct l2_vcpu *vcpu, const char *at, bool write, int gpr,
				  const char *what, struct stage_result *r)
{
	struct l2_exit x;

	if (nested_expect(vcpu, &x, L2_EXIT_CR, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx info 0x%lx: CR%u %s GPR %d, length %u", what, x.raw, x.info1,
		     x.cr.n, x.cr.write ? "write" : "read", x.cr.gpr, x.insn_len);
	if (x.cr.n != 8 || x.cr.write != write)
		return stage_fail(r, "%s: exit for CR%u %s, expected CR8 %s", what, x.cr.n,
				  x.cr.write ? "write" : "read", write ? "write" : "read");
	if (x.cr.gpr >= 0 && x.cr.gpr != gpr)
		return stage_fail(r, "%s: GPR %d reported, expected %d", what, x.cr.gpr, gpr);
	if (x.insn_len != 4)
		return stage_fail(r, "%s: instruction length %u, expected 4 (REX.R 0F 20/22 ModRM)",
				  what, x.insn_len);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_INTERCEPT_CR8)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_CR8_READ | L2_ICPT_CR8_WRITE };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_cr8(&vcpu, l2_cr8_wr, true, X86_RCX, "MOV to CR8", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RCX] != L2_TPR)
		return stage_fail(r, "MOV to CR8: RCX at the exit is 0x%lx, expected 0x%llx",
				  vcpu.gpr[L2_RCX], L2_TPR);
	if (expect_cr8(&vcpu, l2_cr8_rd, false, X86_RBX, "MOV from CR8", r) != NVM_PASS)
		return NVM_FAIL;
	vcpu.gpr[L2_RBX] = EMU_TPR;
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV to CR8 and MOV from CR8 exited to L1; L2 got L1's TPR value");
}
