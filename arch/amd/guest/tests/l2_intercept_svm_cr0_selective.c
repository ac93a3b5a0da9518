// SPDX-License-Identifier: MIT
/*
 * l2.intercept.svm.cr0-selective: with only the selective CR0 write
 * intercept (intercept vector 3 bit 5), a MOV to CR0 that changes CR0.TS or
 * CR0.MP alone runs in L2, while one that changes any other bit, and an
 * LMSW that changes CR0.EM, exit as VMEXIT_CR0_SEL_WRITE (65h) (APM 15.8.1
 * "CR Intercepts", selective CR0 write). L1 drops the intercepted writes:
 * L2 then finds CR0 unchanged.
 */
#include "test.h"

#define CR0_TS (1ull << 3)

extern const char l2_sel_wr[], l2_sel_lmsw[];

static inline u64 l2_read_cr0(void)
{
	u64 v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u64 c = l2_read_cr0(), v;

	(void)unused;
	/* TS and MP: not selective, no exit, and the change shows. */
	__asm__ volatile("mov %0, %%cr0" :: "r"(c ^ CR0_TS ^ CR0_MP) : "memory");
	v = l2_read_cr0();
	__asm__ volatile("mov %0, %%cr0" :: "r"(c) : "memory");
	L2_ASSERT(v == (c ^ CR0_TS ^ CR0_MP), "CR0 reads 0x%lx after L2 flipped TS and MP, expected "
		  "0x%lx", v, (u64)(c ^ CR0_TS ^ CR0_MP));
	/* WP: selective, exits. */
	__asm__ volatile(".global l2_sel_wr\nl2_sel_wr: mov %%rbx, %%cr0" :: "b"(c ^ CR0_WP)
			 : "memory");
	__asm__ volatile(".global l2_sel_lmsw\nl2_sel_lmsw: lmsw %%ax" :: "a"((u16)(c | CR0_EM))
			 : "memory");
	v = l2_read_cr0();
	L2_ASSERT(v == c, "CR0 reads 0x%lx after the intercepted writes, expected 0x%lx", v, c);
}

static enum nvm_status expect_sel(struct l2_vcpu *vcpu, const char *at, const char *what,
				  struct stage_result *r)
{
	struct l2_exit x;

	if (nested_expect(vcpu, &x, L2_EXIT_CR, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx info 0x%lx, length %u", what, x.raw, x.info1, x.insn_len);
	if (!x.cr.selective || x.cr.n != 0)
		return stage_fail(r, "%s: exit 0x%lx, expected VMEXIT_CR0_SEL_WRITE (0x65)", what, x.raw);
	if (x.insn_len != 3)
		return stage_fail(r, "%s: instruction length %u, expected 3", what, x.insn_len);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_INTERCEPT_SVM_CR0_SELECTIVE)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_CR0_SEL };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_sel(&vcpu, l2_sel_wr, "MOV to CR0 flipping WP", r) != NVM_PASS ||
	    expect_sel(&vcpu, l2_sel_lmsw, "LMSW setting EM", r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "TS/MP changes ran in L2; MOV to CR0 (WP) and LMSW (EM) exited as "
			  "VMEXIT_CR0_SEL_WRITE");
}
