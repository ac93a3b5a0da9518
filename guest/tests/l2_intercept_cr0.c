// SPDX-License-Identifier: MIT
/*
 * l2.intercept.cr0: accesses to CR0 exit to L1 as each vendor defines, and
 * those that must not exit run in L2.
 *
 * SVM (APM 15.8.1 "CR Intercepts", VMEXIT_CR0_READ 0h / _WRITE 10h; 15.33.1
 * the GPR with decode assists): with the CR0 read and write intercepts,
 * MOV from CR0, MOV to CR0, LMSW and CLTS all exit; L1 answers the read.
 *
 * VMX (SDM 25.6.6 "Guest/Host Masks and Read Shadows for CR0 and CR4",
 * 26.1.3, exit reason 28 with table 28-3): L1 owns CR0.TS and CR0.EM
 * (mask), the read shadow holds L2's initial CR0. MOV to CR0 setting TS
 * exits (type 0, the GPR); MOV from CR0 does not exit and reads the
 * shadow; flipping CR0.AM, which L1 does not own, does not exit and takes
 * effect; CLTS does not exit, since the shadow's TS is 0; LMSW setting EM
 * exits (type 3, the source data). VMX has no CR0 read intercept.
 *
 * Writes L1 intercepts are not applied (L1 steps over them): L2 then finds
 * CR0 unchanged.
 */
#include "test.h"

#define CR0_TS (1ull << 3)      /* CR0_MP, CR0_EM: nestvmm/x86.h */
#define CR0_AM (1ull << 18)
#define EMU_CR0 0x4e560031ull               /* what L1 answers for SVM's MOV from CR0 */

extern const char l2_cr0_rd[], l2_cr0_wr[], l2_cr0_lmsw[], l2_cr0_clts[];
extern const char l2v_cr0_wr[], l2v_cr0_lmsw[];
static volatile u64 l1_cr0;                 /* L1's CR0: L2 starts with it */

static inline u64 l2_read_cr0(void)
{
	u64 v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static void __attribute__((noinline)) l2_svm(u64 unused)
{
	u64 v;

	(void)unused;
	__asm__ volatile(".global l2_cr0_rd\nl2_cr0_rd: mov %%cr0, %%rbx" : "=b"(v) :: "memory");
	L2_ASSERT(v == EMU_CR0, "MOV from CR0 (intercepted) gave 0x%lx, expected L1's 0x%llx", v,
		  EMU_CR0);
	__asm__ volatile(".global l2_cr0_wr\nl2_cr0_wr: mov %%rbx, %%cr0" :: "b"(l1_cr0 | CR0_TS)
			 : "memory");
	__asm__ volatile(".global l2_cr0_lmsw\nl2_cr0_lmsw: lmsw %%ax" :: "a"((u16)(l1_cr0 | CR0_EM))
			 : "memory");
	__asm__ volatile(".global l2_cr0_clts\nl2_cr0_clts: clts" ::: "memory");
}

static void __attribute__((noinline)) l2_vmx(u64 unused)
{
	u64 c = l2_read_cr0(), v;

	(void)unused;
	L2_ASSERT(c == l1_cr0, "MOV from CR0 gave 0x%lx, expected the read shadow 0x%lx", c, l1_cr0);
	__asm__ volatile(".global l2v_cr0_wr\nl2v_cr0_wr: mov %%rbx, %%cr0" :: "b"(c | CR0_TS)
			 : "memory");
	v = l2_read_cr0();
	L2_ASSERT(v == c, "CR0 reads 0x%lx after the intercepted MOV to CR0, expected 0x%lx", v, c);
	/* CR0.AM is L2's: no exit, and the change shows. */
	__asm__ volatile("mov %0, %%cr0" :: "r"(c ^ CR0_AM) : "memory");
	v = l2_read_cr0();
	__asm__ volatile("mov %0, %%cr0" :: "r"(c) : "memory");
	L2_ASSERT(v == (c ^ CR0_AM), "CR0 reads 0x%lx after L2 flipped AM (not owned by L1), expected "
		  "0x%lx", v, (u64)(c ^ CR0_AM));
	/* Shadow TS = 0: CLTS does not exit (SDM 26.1.3). */
	__asm__ volatile("clts" ::: "memory");
	__asm__ volatile(".global l2v_cr0_lmsw\nl2v_cr0_lmsw: lmsw %%ax" :: "a"((u16)(c | CR0_EM))
			 : "memory");
	v = l2_read_cr0();
	L2_ASSERT(v == c, "CR0 reads 0x%lx after the intercepted LMSW, expected 0x%lx", v, c);
}

/* One CR0 exit: write, type (where reported), GPR and value (where reported). */
static enum nvm_status expect_cr0(struct l2_vcpu *vcpu, const char *at, bool write, int type,
				  int gpr, u64 value, const char *what, struct l2_exit *x,
				  struct stage_result *r)
{
	if (nested_expect(vcpu, x, L2_EXIT_CR, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx info 0x%lx: CR%u %s type %u GPR %d LMSW 0x%x, length %u",
		     what, x->raw, x->info1, x->cr.n, x->cr.write ? "write" : "read", x->cr.type,
		     x->cr.gpr, x->cr.lmsw, x->insn_len);
	if (x->cr.n != 0 || x->cr.write != write)
		return stage_fail(r, "%s: exit for CR%u %s, expected CR0 %s", what, x->cr.n,
				  x->cr.write ? "write" : "read", write ? "write" : "read");
	if (x->cr.type != L2_CR_UNKNOWN && x->cr.type != type)
		return stage_fail(r, "%s: access type %u, expected %d", what, x->cr.type, type);
	if (x->cr.gpr >= 0 && x->cr.gpr != gpr)
		return stage_fail(r, "%s: GPR %d reported, expected %d", what, x->cr.gpr, gpr);
	if (type == L2_CR_MOV_TO && vcpu->gpr[l2_gpr_slot((unsigned int)gpr)] != value)
		return stage_fail(r, "%s: the source register holds 0x%lx, expected 0x%lx", what,
				  vcpu->gpr[l2_gpr_slot((unsigned int)gpr)], value);
	if (type == L2_CR_LMSW && x->cr.type == L2_CR_LMSW && (x->cr.lmsw & 0xf) != (value & 0xf))
		return stage_fail(r, "%s: LMSW source data 0x%x, expected 0x%lx in bits 3:0", what,
				  x->cr.lmsw, value & 0xf);
	if (!x->insn_len)
		return stage_fail(r, "%s: no instruction length", what);
	nested->skip_insn(vcpu, x);
	return NVM_PASS;
}

NVM_TEST(L2_INTERCEPT_CR0)
{
	bool svm = nested->virt[0] == 'S';
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = svm ? l2_svm : l2_vmx };
	struct l2_exit x;

	l1_cr0 = read_cr0();
	if (svm) {
		cfg.intercepts = L2_ICPT_CR0_READ | L2_ICPT_CR0_WRITE;
		if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
		    expect_cr0(&vcpu, l2_cr0_rd, false, L2_CR_MOV_FROM, X86_RBX, 0, "MOV from CR0",
			       &x, r) != NVM_PASS)
			return NVM_FAIL;
		vcpu.gpr[L2_RBX] = EMU_CR0;
		if (expect_cr0(&vcpu, l2_cr0_wr, true, L2_CR_MOV_TO, X86_RBX, l1_cr0 | CR0_TS,
			       "MOV to CR0", &x, r) != NVM_PASS ||
		    expect_cr0(&vcpu, l2_cr0_lmsw, true, L2_CR_LMSW, X86_RAX, l1_cr0 | CR0_EM,
			       "LMSW", &x, r) != NVM_PASS ||
		    expect_cr0(&vcpu, l2_cr0_clts, true, L2_CR_CLTS, X86_RAX, 0, "CLTS", &x,
			       r) != NVM_PASS ||
		    nested_run_to_done(&vcpu, r) != NVM_PASS)
			return NVM_FAIL;
		return stage_pass(r, "MOV from/to CR0, LMSW and CLTS exited as CR0 read/write");
	}
	cfg.intercepts = L2_ICPT_CR0_WRITE;
	cfg.cr0_mask = CR0_TS | CR0_EM;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_cr0(&vcpu, l2v_cr0_wr, true, L2_CR_MOV_TO, X86_RBX, l1_cr0 | CR0_TS,
		       "MOV to CR0 setting TS (owned)", &x, r) != NVM_PASS ||
	    expect_cr0(&vcpu, l2v_cr0_lmsw, true, L2_CR_LMSW, X86_RAX, l1_cr0 | CR0_EM,
		       "LMSW setting EM (owned)", &x, r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV to CR0 and LMSW changing owned bits exited (type, GPR, source "
			  "data); MOV from CR0 read the shadow, AM and CLTS ran in L2");
}
