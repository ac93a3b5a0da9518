// SPDX-License-Identifier: MIT
/*
 * l2.insn.svm.vmload-vmsave: VMLOAD and VMSAVE move exactly the state
 * VMRUN and #VMEXIT leave alone (AMD APM vol. 2, 15.5.2 "VMSAVE and
 * VMLOAD Instructions"; vol. 3 VMLOAD/VMSAVE): FS, GS, TR and LDTR with
 * their hidden state (base, limit, attributes), KernelGsBase, STAR, LSTAR,
 * CSTAR, SFMASK, SYSENTER_CS, SYSENTER_ESP and SYSENTER_EIP.
 *
 * L1 VMSAVEs its own state (the page is poisoned first: each field must be
 * the live value), VMLOADs a page with a distinct pattern in every field
 * and reads the patterns back live (RDMSR, MOV from FS/GS, STR, SLDT); L2
 * runs on them (VMRUN loads none of them) and checks what it sees; after
 * the #VMEXIT L1 VMSAVEs into another poisoned page, which must hold every
 * pattern, hidden state included. Then L1 VMLOADs its own state again.
 * SYSENTER_ESP/EIP and SFMASK patterns stay within 32 bits (AMD keeps only
 * those); TR keeps L1's TSS (base, attributes), with another limit.
 */
#include "test.h"
#include "../svm_check.h"

#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_SFMASK         0xc0000084u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define MSR_SYSENTER_CS    0x174u
#define MSR_SYSENTER_ESP   0x175u
#define MSR_SYSENTER_EIP   0x176u

/* The fields VMLOAD/VMSAVE move, by name, with the MSR that shows each live. */
struct ls_field { const char *name; u32 off; u32 msr; };
#define SAVE_OFF(f) ((u32)__builtin_offsetof(struct vmcb_save_area, f))
static const struct ls_field msr_fields[] = {
	{ "KernelGsBase", SAVE_OFF(kernel_gs_base), MSR_KERNEL_GS_BASE },
	{ "STAR", SAVE_OFF(star), MSR_STAR },
	{ "LSTAR", SAVE_OFF(lstar), MSR_LSTAR },
	{ "CSTAR", SAVE_OFF(cstar), MSR_CSTAR },
	{ "SFMASK", SAVE_OFF(sfmask), MSR_SFMASK },
	{ "SYSENTER_CS", SAVE_OFF(sysenter_cs), MSR_SYSENTER_CS },
	{ "SYSENTER_ESP", SAVE_OFF(sysenter_esp), MSR_SYSENTER_ESP },
	{ "SYSENTER_EIP", SAVE_OFF(sysenter_eip), MSR_SYSENTER_EIP },
	{ "FS.base", SAVE_OFF(fs.base), MSR_FS_BASE },
	{ "GS.base", SAVE_OFF(gs.base), MSR_GS_BASE },
};
#define N_MSR_FIELDS (sizeof(msr_fields) / sizeof(msr_fields[0]))

static u64 field(const struct vmcb *v, const struct ls_field *f)
{
	return *(const u64 *)((const u8 *)&v->save + f->off);
}

static u16 read_fs(void) { u16 s; __asm__ volatile("mov %%fs, %0" : "=r"(s)); return s; }
static u16 read_gs(void) { u16 s; __asm__ volatile("mov %%gs, %0" : "=r"(s)); return s; }
static u16 read_ldtr(void) { u16 s; __asm__ volatile("sldt %0" : "=r"(s)); return s; }

/* What L2 must see: the patterns, live (VMRUN loaded none of them). */
static void l2_code(u64 arg)
{
	const struct vmcb *p = (const struct vmcb *)(uintptr_t)arg;

	for (unsigned int i = 0; i < N_MSR_FIELDS; i++) {
		u64 live = rdmsr(msr_fields[i].msr);

		L2_ASSERT(live == field(p, &msr_fields[i]), "L2 read %s=0x%lx, L1 VMLOADed 0x%lx",
			  msr_fields[i].name, live, field(p, &msr_fields[i]));
	}
	L2_ASSERT(read_fs() == p->save.fs.selector && read_gs() == p->save.gs.selector,
		  "L2's FS/GS selectors 0x%x/0x%x, L1 VMLOADed 0x%x/0x%x", read_fs(), read_gs(),
		  p->save.fs.selector, p->save.gs.selector);
	L2_ASSERT(read_tr() == p->save.tr.selector && read_ldtr() == p->save.ldtr.selector,
		  "L2's TR/LDTR selectors 0x%x/0x%x, L1 VMLOADed 0x%x/0x%x", read_tr(), read_ldtr(),
		  p->save.tr.selector, p->save.ldtr.selector);
}

static bool seg_eq(const struct vmcb_seg *a, const struct vmcb_seg *b)
{
	return a->selector == b->selector && a->attrib == b->attrib && a->limit == b->limit &&
	       a->base == b->base;
}

static enum nvm_status vmloadsave(enum svm_insn i, const void *page, struct stage_result *r)
{
	struct fault f = svm_insn_safe(i, gpa_of(page));

	if (f.faulted)
		return stage_fail(r, "%s (RAX=0x%lx) raised %s (error code 0x%x)", svm_insn_name(i),
				  gpa_of(page), exception_name(f.vector), f.error_code);
	return NVM_PASS;
}

/* Every VMLOAD/VMSAVE field of `got` equals `want`; else fail naming the first. */
static enum nvm_status compare(const char *what, const struct vmcb *got, const struct vmcb *want,
			       struct stage_result *r)
{
	static const char *const seg_names[] = { "FS", "GS", "TR", "LDTR" };
	const struct vmcb_seg *gs[] = { &got->save.fs, &got->save.gs, &got->save.tr, &got->save.ldtr };
	const struct vmcb_seg *ws[] = { &want->save.fs, &want->save.gs, &want->save.tr, &want->save.ldtr };

	for (unsigned int i = 0; i < N_MSR_FIELDS; i++)
		if (field(got, &msr_fields[i]) != field(want, &msr_fields[i]))
			return stage_fail(r, "%s: %s=0x%lx, expected 0x%lx", what, msr_fields[i].name,
					  field(got, &msr_fields[i]), field(want, &msr_fields[i]));
	for (unsigned int i = 0; i < 4; i++)
		if (!seg_eq(gs[i], ws[i]))
			return stage_fail(r, "%s: %s selector/attrib/limit/base 0x%x/0x%x/0x%x/0x%lx, "
					  "expected 0x%x/0x%x/0x%x/0x%lx", what, seg_names[i],
					  gs[i]->selector, gs[i]->attrib, gs[i]->limit, gs[i]->base,
					  ws[i]->selector, ws[i]->attrib, ws[i]->limit, ws[i]->base);
	return NVM_PASS;
}

/* VMSAVE into a page whose every byte is poison: what it leaves is what VMSAVE wrote. */
static enum nvm_status vmsave_poisoned(struct vmcb *page, struct stage_result *r)
{
	memset(page, 0xa5, sizeof(*page));
	return vmloadsave(SVM_INSN_VMSAVE, page, r);
}

NVM_TEST(L2_INSN_SVM_VMLOAD_VMSAVE)
{
	struct vmcb *own = page_alloc(1), *pat = page_alloc(1), *after = page_alloc(1);
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa_of(pat) };
	enum nvm_status st;

	/* 1. VMSAVE stores the live values. */
	if (vmsave_poisoned(own, r) != NVM_PASS)
		return NVM_FAIL;
	for (unsigned int i = 0; i < N_MSR_FIELDS; i++) {
		u64 live = rdmsr(msr_fields[i].msr);

		if (field(own, &msr_fields[i]) != live)
			return stage_fail(r, "VMSAVE stored %s=0x%lx, RDMSR reads 0x%lx",
					  msr_fields[i].name, field(own, &msr_fields[i]), live);
	}
	if (own->save.fs.selector != read_fs() || own->save.gs.selector != read_gs() ||
	    own->save.tr.selector != read_tr() || own->save.ldtr.selector != read_ldtr())
		return stage_fail(r, "VMSAVE stored FS/GS/TR/LDTR selectors 0x%x/0x%x/0x%x/0x%x, live "
				  "0x%x/0x%x/0x%x/0x%x", own->save.fs.selector, own->save.gs.selector,
				  own->save.tr.selector, own->save.ldtr.selector, read_fs(), read_gs(),
				  read_tr(), read_ldtr());

	/* 2. Distinct patterns, all harmless to L1 while loaded. */
	memcpy(pat, own, sizeof(*pat));
	pat->save.fs = (struct vmcb_seg){ 0x0013, own->save.fs.attrib, 0x000f1234, 0x00007f0011110000ull };
	pat->save.gs = (struct vmcb_seg){ 0x0011, own->save.gs.attrib, 0x000f5678, 0xffff800022220000ull };
	pat->save.tr.limit = 0x0fff;
	pat->save.ldtr = (struct vmcb_seg){ 0x0030, 0x0082, 0x00000456, 0xffff800033330000ull };
	pat->save.kernel_gs_base = 0xffff800044440000ull;
	pat->save.star = 0x0023001055550000ull;
	pat->save.lstar = 0xffff800066660000ull;
	pat->save.cstar = 0xffff800077770000ull;
	pat->save.sfmask = 0x00047700ull;
	pat->save.sysenter_cs = 0x1b08ull;
	pat->save.sysenter_esp = 0x5a5a1000ull;
	pat->save.sysenter_eip = 0x6b6b2000ull;

	/* 3. VMLOAD loads them: live values are the patterns. */
	if (vmloadsave(SVM_INSN_VMLOAD, pat, r) != NVM_PASS)
		return NVM_FAIL;
	st = NVM_PASS;
	for (unsigned int i = 0; i < N_MSR_FIELDS && st == NVM_PASS; i++) {
		u64 live = rdmsr(msr_fields[i].msr);

		if (live != field(pat, &msr_fields[i]))
			st = stage_fail(r, "after VMLOAD RDMSR %s=0x%lx, expected 0x%lx (VMLOAD did not load it)",
					msr_fields[i].name, live, field(pat, &msr_fields[i]));
	}
	if (st == NVM_PASS && (read_fs() != pat->save.fs.selector || read_gs() != pat->save.gs.selector ||
			       read_tr() != pat->save.tr.selector || read_ldtr() != pat->save.ldtr.selector))
		st = stage_fail(r, "after VMLOAD FS/GS/TR/LDTR selectors 0x%x/0x%x/0x%x/0x%x, expected "
				"0x%x/0x%x/0x%x/0x%x", read_fs(), read_gs(), read_tr(), read_ldtr(),
				pat->save.fs.selector, pat->save.gs.selector, pat->save.tr.selector,
				pat->save.ldtr.selector);

	/* 4. L2 runs on them; 5. after #VMEXIT VMSAVE stores every pattern. */
	if (st == NVM_PASS && (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
			       nested_run_to_done(&vcpu, r) != NVM_PASS))
		st = NVM_FAIL;
	if (st == NVM_PASS && vmsave_poisoned(after, r) == NVM_PASS)
		st = compare("VMSAVE after L2 ran", after, pat, r);
	else if (st == NVM_PASS)
		st = NVM_FAIL;

	/* L1's own state back, whatever happened. */
	if (vmloadsave(SVM_INSN_VMLOAD, own, r) != NVM_PASS)
		return NVM_FAIL;
	if (st != NVM_PASS)
		return NVM_FAIL;
	if (rdmsr(MSR_STAR) != own->save.star || read_ldtr() != own->save.ldtr.selector)
		return stage_fail(r, "VMLOAD of L1's own state: STAR=0x%lx LDTR=0x%x, expected 0x%lx 0x%x",
				  rdmsr(MSR_STAR), read_ldtr(), own->save.star, own->save.ldtr.selector);
	return stage_pass(r, "VMSAVE stored and VMLOAD loaded FS, GS, TR, LDTR (hidden state), "
			  "KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP; L2 saw them");
}
