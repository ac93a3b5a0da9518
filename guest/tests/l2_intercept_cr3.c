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
#include "test.h"

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

static enum nvm_status expect_cr3(struct l2_vcpu *vcpu, const char *at, bool write, int gpr,
				  const char *what, struct stage_result *r)
{
	struct l2_exit x;

	if (nested_expect(vcpu, &x, L2_EXIT_CR, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx info 0x%lx: CR%u %s GPR %d, length %u", what, x.raw, x.info1,
		     x.cr.n, x.cr.write ? "write" : "read", x.cr.gpr, x.insn_len);
	if (x.cr.n != 3 || x.cr.write != write)
		return stage_fail(r, "%s: exit for CR%u %s, expected CR3 %s", what, x.cr.n,
				  x.cr.write ? "write" : "read", write ? "write" : "read");
	if (x.cr.gpr >= 0 && x.cr.gpr != gpr)
		return stage_fail(r, "%s: GPR %d reported, expected %d", what, x.cr.gpr, gpr);
	if (x.insn_len != 3)
		return stage_fail(r, "%s: instruction length %u, expected 3 (0F 20/22 ModRM)", what,
				  x.insn_len);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_INTERCEPT_CR3)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_CR3_READ | L2_ICPT_CR3_WRITE };

	l1_cr3 = read_cr3();
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_cr3(&vcpu, l2_cr3_rd, false, X86_RBX, "MOV from CR3", r) != NVM_PASS)
		return NVM_FAIL;
	vcpu.gpr[L2_RBX] = EMU_CR3;
	if (expect_cr3(&vcpu, l2_cr3_wr, true, X86_RCX, "MOV to CR3", r) != NVM_PASS)
		return NVM_FAIL;
	if (vcpu.gpr[L2_RCX] != l1_cr3)
		return stage_fail(r, "MOV to CR3: RCX at the exit is 0x%lx, expected 0x%lx",
				  vcpu.gpr[L2_RCX], l1_cr3);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV from CR3 and MOV to CR3 exited to L1; L2 got L1's CR3 value");
}
