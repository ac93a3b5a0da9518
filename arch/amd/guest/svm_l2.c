// SPDX-License-Identifier: MIT
/*
 * AMD SVM, L1 side: build a VMCB, VMRUN the L2 stub, handle #VMEXIT
 * (AMD APM vol. 2, 15.5 "VMRUN Instruction", 15.6 "#VMEXIT", 15.25
 * "Nested Paging").
 *
 * l2.run: L2 shares L1's page tables (CR3 = L1's, no nested paging).
 * l2.nested-paging: L1 gives L2 nested page tables that identity-map RAM
 * except the stub's mailbox page; the stub's first store takes a nested
 * page fault (VMEXIT_NPF) that L1 checks and repairs before the round trips.
 */
#include "nestvmm/svm.h"
#include "svm_guest.h"

/* L2's general-purpose registers; svm_entry.S knows these offsets. */
struct svm_gprs {
	u64 rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(__builtin_offsetof(struct svm_gprs, rdi) == 32, "G_RDI in svm_entry.S");
_Static_assert(__builtin_offsetof(struct svm_gprs, r15) == 104, "G_R15 in svm_entry.S");

u64 svm_vmrun(u64 vmcb_pa, struct svm_gprs *gprs);
extern const char svm_l2_stub[], svm_l2_touch[], svm_l2_vmmcall[];

#define L2_ASID         1
#define VMMCALL_LEN     3        /* 0F 01 D9 */
#define MAX_ROUNDS      1000     /* --iterations is 1-1000 */
#define TOKEN(round)    (0x4e564d4d00000000ull | (round))

/* Pages both stages use, allocated once (page_alloc never frees). */
static struct {
	struct vmcb *vmcb;
	void *iopm, *msrpm;
	volatile u64 *mailbox;   /* [0] round (L2), [1] token (L1), [2] ~token (L2) */
	u8 *stack;
} l2;

static u64 cycles[MAX_ROUNDS];

/* One stage's run: what it checks against. */
struct svm_run {
	struct stage_result *r;
	struct vmcb *vmcb;
	struct svm_gprs g;
	bool nrips;
	bool exited;             /* at least one #VMEXIT (which clears GIF) */
	unsigned int round;      /* round trips completed */
};

static void svm_l2_alloc(void)
{
	if (l2.vmcb)
		return;
	l2.vmcb = page_alloc(1);
	l2.iopm = page_alloc(SVM_IOPM_SIZE / 4096);
	l2.msrpm = page_alloc(SVM_MSRPM_SIZE / 4096);
	l2.mailbox = page_alloc(1);
	l2.stack = page_alloc(1);
}

#define READ_SEG(name) ({ u16 v_; __asm__ volatile("mov %%" #name ", %0" : "=r"(v_)); v_; })

/* L2 starts from L1's live state: same mode, GDT, IDT and (here) CR3. */
static void svm_l2_setup_read(struct svm_l2_setup *s)
{
	struct dtr gdtr, idtr;

	read_gdtr(&gdtr);
	read_idtr(&idtr);
	*s = (struct svm_l2_setup){
		.cr0 = read_cr0(), .cr3 = read_cr3(), .cr4 = read_cr4(),
		.efer = rdmsr(MSR_EFER),
		.gdtr_base = gdtr.base, .gdtr_limit = gdtr.limit,
		.idtr_base = idtr.base, .idtr_limit = idtr.limit,
		.gdt = (const u64 *)(uintptr_t)gdtr.base,
		.cs = read_cs(), .ss = READ_SEG(ss), .ds = read_ds(), .es = READ_SEG(es),
		.fs = READ_SEG(fs), .gs = READ_SEG(gs), .tr = read_tr(),
		.rip = (u64)(uintptr_t)svm_l2_stub,
		.rsp = gpa_of(l2.stack) + 4096,
		.asid = L2_ASID,
		.iopm_pa = gpa_of(l2.iopm), .msrpm_pa = gpa_of(l2.msrpm),
	};
}

/* --- nested page tables --------------------------------------------------- *
 * 4-level, the same format as L1's own (APM 15.25.5); every nested walk is a
 * user access, so every entry has U=1. 2 MiB pages, except the 2 MiB region
 * holding the hole page, which gets a page table with the hole not present.
 */
#define NPT_RW  (PTE_P | PTE_W | PTE_U)
#define SZ_2M   (2ull << 20)
#define SZ_1G   (1ull << 30)

static struct { u64 *pml4; u64 *pte_hole; u64 hole; } npt;

static void svm_npt_build(u64 mem_size, u64 hole)
{
	u64 n_pd = (mem_size + SZ_1G - 1) / SZ_1G;   /* <= 4: RAM is at most 4 GiB */
	u64 *pdpt = page_alloc(1), *pd = page_alloc((unsigned int)n_pd), *pt = page_alloc(1);

	npt.pml4 = page_alloc(1);
	npt.pml4[0] = gpa_of(pdpt) | NPT_RW;
	for (u64 i = 0; i < n_pd; i++)
		pdpt[i] = gpa_of(pd + i * 512) | NPT_RW;
	for (u64 a = 0; a < mem_size; a += SZ_2M)
		pd[a / SZ_2M] = a | NPT_RW | PTE_PS;
	/* The hole's 2 MiB region: 4 KiB pages, the hole itself left not present. */
	u64 base = hole & ~(SZ_2M - 1);
	for (u64 i = 0; i < 512; i++)
		pt[i] = (base + i * 4096) | NPT_RW;
	pt[(hole - base) / 4096] = 0;
	pd[base / SZ_2M] = gpa_of(pt) | NPT_RW;
	npt.pte_hole = &pt[(hole - base) / 4096];
	npt.hole = hole;
	TRACE("L1 built nested page tables: nCR3=0x%lx, identity map of 0x%lx bytes (2 MiB pages), "
	      "GPA 0x%lx left not present", gpa_of(npt.pml4), mem_size, hole);
}

/* --- reporting -------------------------------------------------------------- */

static const char *exit_name(u64 code)
{
	const char *n = svm_exit_name(code);

	return n ? n : "an exit code APM appendix C does not list";
}

/* The VMCB fields VMRUN's checks look at, and the exit's if there was one. */
static void svm_detail_vmcb(struct stage_result *r, const struct vmcb *v, bool exited)
{
	const struct vmcb_control_area *c = &v->control;
	const struct vmcb_save_area *s = &v->save;

	stage_detail(r, "VMCB control: intercepts CR=0x%x DR=0x%x exceptions=0x%x misc1=0x%x misc2=0x%x "
		     "ASID=%u TLB_CONTROL=%u NP_ENABLE=0x%lx N_CR3=0x%lx IOPM_BASE_PA=0x%lx "
		     "MSRPM_BASE_PA=0x%lx EVENTINJ=0x%lx VMCB_CLEAN=0x%x",
		     c->intercept_cr, c->intercept_dr, c->intercept_exceptions, c->intercept_misc1,
		     c->intercept_misc2, c->guest_asid, c->tlb_control, c->np_enable, c->n_cr3,
		     c->iopm_base_pa, c->msrpm_base_pa, c->eventinj, c->vmcb_clean);
	stage_detail(r, "VMCB save: EFER=0x%lx CR0=0x%lx CR3=0x%lx CR4=0x%lx DR6=0x%lx DR7=0x%lx "
		     "RFLAGS=0x%lx RIP=0x%lx RSP=0x%lx CPL=%u CS=0x%x/attr 0x%x SS=0x%x/attr 0x%x G_PAT=0x%lx",
		     s->efer, s->cr0, s->cr3, s->cr4, s->dr6, s->dr7, s->rflags, s->rip, s->rsp,
		     s->cpl, s->cs.selector, s->cs.attrib, s->ss.selector, s->ss.attrib, s->g_pat);
	if (exited)
		stage_detail(r, "exit: EXITCODE=0x%lx (%s) EXITINFO1=0x%lx EXITINFO2=0x%lx EXITINTINFO=0x%lx nRIP=0x%lx",
			     c->exitcode, exit_name(c->exitcode), c->exitinfo1, c->exitinfo2,
			     c->exitintinfo, c->nrip);
}

/* VMRUN itself faulted: L1 never left. */
static enum nvm_status svm_vmrun_faulted(struct svm_run *run, u64 f)
{
	u8 vec = (u8)((f & 0xffffffff) - 1);

	svm_detail_vmcb(run->r, run->vmcb, false);
	return stage_fail(run->r, "VMRUN (RAX=VMCB at 0x%lx) raised %s (error code 0x%lx) in L1 after "
			  "%u round trip(s): L0 refused the instruction (#UD: EFER.SVME=0; #GP: VMCB "
			  "address not page aligned or not RAM, or CPL>0)", gpa_of(run->vmcb),
			  exception_name(vec), f >> 32, run->round);
}

/* #VMEXIT with a code we did not expect: name it and say where L2 was. */
static enum nvm_status svm_exit_unexpected(struct svm_run *run, const char *expected)
{
	const struct vmcb *v = run->vmcb;
	u64 code = v->control.exitcode;

	svm_detail_vmcb(run->r, v, true);
	if (code == VMEXIT_INVALID) {
		const char *why[6];
		unsigned int n = svm_vmcb_check(v, why, 6);

		for (unsigned int i = 0; i < n && i < 6; i++)
			stage_detail(run->r, "APM 15.5.1 check failed: %s", why[i]);
		if (n)
			return stage_fail(run->r, "VMRUN failed its consistency checks (VMEXIT_INVALID, "
					  "exit code -1): %s%s", why[0], n > 1 ? " (and more, see details)" : "");
		return stage_fail(run->r, "VMRUN failed its consistency checks (VMEXIT_INVALID, exit code -1) "
				  "although the VMCB passes the APM 15.5.1 checks nestvmm can judge "
				  "(EFER, CR0, CR3, CR4, DR6/7, intercepts, ASID, TLB_CONTROL): L0 checks more");
	}
	if (code >= VMEXIT_EXCP0 && code < VMEXIT_EXCP0 + 32)
		return stage_fail(run->r, "round %u: expected %s, got %s: L2 raised %s at RIP=0x%lx "
				  "(EXITINFO1=0x%lx error code, EXITINFO2=0x%lx)", run->round + 1, expected,
				  exit_name(code), exception_name((u8)(code - VMEXIT_EXCP0)),
				  v->save.rip, v->control.exitinfo1, v->control.exitinfo2);
	return stage_fail(run->r, "round %u: expected %s, got %s (0x%lx) at L2 RIP=0x%lx, "
			  "EXITINFO1=0x%lx EXITINFO2=0x%lx", run->round + 1, expected, exit_name(code),
			  code, v->save.rip, v->control.exitinfo1, v->control.exitinfo2);
}

/* --- the run ------------------------------------------------------------------ */

static void svm_trace_vmcb(const struct vmcb *v)
{
	const struct vmcb_control_area *c = &v->control;
	const struct vmcb_save_area *s = &v->save;

	if (l1_cfg.trace < NVM_TRACE_STEPS)
		return;
	TRACE("VMCB at 0x%lx: intercept misc1=0x%x (HLT, SHUTDOWN) misc2=0x%x (VMRUN, VMMCALL) "
	      "exceptions=0x%x", gpa_of(v), c->intercept_misc1, c->intercept_misc2,
	      c->intercept_exceptions);
	TRACE("VMCB: ASID=0x%x TLB_CONTROL=0x%x IOPM_BASE_PA=0x%lx MSRPM_BASE_PA=0x%lx "
	      "NP_ENABLE=0x%lx N_CR3=0x%lx", c->guest_asid, c->tlb_control, c->iopm_base_pa,
	      c->msrpm_base_pa, c->np_enable, c->n_cr3);
	TRACE("VMCB: ES=0x%x/0x%x CS=0x%x/0x%x SS=0x%x/0x%x DS=0x%x/0x%x (selector/attrib) CPL=0x%x",
	      s->es.selector, s->es.attrib, s->cs.selector, s->cs.attrib, s->ss.selector,
	      s->ss.attrib, s->ds.selector, s->ds.attrib, s->cpl);
	TRACE("VMCB: GDTR=0x%lx/0x%x IDTR=0x%lx/0x%x TR=0x%x/0x%x", s->gdtr.base, s->gdtr.limit,
	      s->idtr.base, s->idtr.limit, s->tr.selector, s->tr.attrib);
	TRACE("VMCB: EFER=0x%lx CR0=0x%lx CR3=0x%lx CR4=0x%lx DR6=0x%lx DR7=0x%lx G_PAT=0x%lx",
	      s->efer, s->cr0, s->cr3, s->cr4, s->dr6, s->dr7, s->g_pat);
	TRACE("VMCB: RIP=0x%lx (L2 stub) RSP=0x%lx RFLAGS=0x%lx RAX=0x%lx",
	      s->rip, s->rsp, s->rflags, s->rax);
}

/* One VMRUN; returns the cycles L1 spent from VMRUN to back after #VMEXIT. */
static u64 svm_enter(struct svm_run *run, u64 *fault)
{
	u64 t0 = rdtsc();

	*fault = svm_vmrun(gpa_of(run->vmcb), &run->g);
	t0 = rdtsc() - t0;
	run->exited |= !*fault;
	return t0;
}

/* l2.nested-paging, first entry: the stub's store to the mailbox must fault. */
static enum nvm_status svm_expect_npf(struct svm_run *run)
{
	struct vmcb *v = run->vmcb;
	u64 f, t = svm_enter(run, &f);
	u64 info1 = v->control.exitinfo1, info2 = v->control.exitinfo2;

	if (f)
		return svm_vmrun_faulted(run, f);
	TRACE("#VMEXIT %s (0x%lx) at L2 RIP=0x%lx: EXITINFO1=0x%lx EXITINFO2=0x%lx",
	      exit_name(v->control.exitcode), v->control.exitcode, v->save.rip, info1, info2);
	if (v->control.exitcode != VMEXIT_NPF)
		return svm_exit_unexpected(run, "VMEXIT_NPF on the unmapped mailbox page");
	stage_detail(run->r, "nested page fault: EXITINFO1=0x%lx (P=%u RW=%u US=%u final-GPA=%u "
		     "guest-table=%u) EXITINFO2=0x%lx at L2 RIP=0x%lx, %lu cycles",
		     info1, !!(info1 & SVM_NPF_P), !!(info1 & SVM_NPF_RW), !!(info1 & SVM_NPF_US),
		     !!(info1 & SVM_NPF_GUEST_FINAL), !!(info1 & SVM_NPF_GUEST_TABLES), info2,
		     v->save.rip, t);
	if (info2 != npt.hole)
		return stage_fail(run->r, "VMEXIT_NPF for GPA 0x%lx (EXITINFO2), expected the unmapped "
				  "mailbox page 0x%lx", info2, npt.hole);
	if ((info1 & SVM_NPF_P) || !(info1 & SVM_NPF_RW))
		return stage_fail(run->r, "VMEXIT_NPF error code EXITINFO1=0x%lx: expected a write "
				  "(RW=1) to a not-present page (P=0)", info1);
	if (v->save.rip != (u64)(uintptr_t)svm_l2_touch)
		return stage_fail(run->r, "VMEXIT_NPF at L2 RIP=0x%lx, expected the stub's store at 0x%lx",
				  v->save.rip, (u64)(uintptr_t)svm_l2_touch);

	/* Repair: map the page, flush, and resume at the same store. */
	*npt.pte_hole = npt.hole | NPT_RW;
	v->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	TRACE("L1 mapped GPA 0x%lx in the nested page tables, TLB_CONTROL=1, resuming at RIP=0x%lx",
	      npt.hole, v->save.rip);
	return NVM_PASS;
}

/* One round trip: VMRUN, expect VMMCALL and the stub's effects, step over it. */
static enum nvm_status svm_round_trip(struct svm_run *run)
{
	struct vmcb *v = run->vmcb;
	unsigned int n = run->round + 1;
	u64 token = TOKEN(n), f;

	l2.mailbox[1] = token;
	cycles[run->round] = svm_enter(run, &f);
	if (f)
		return svm_vmrun_faulted(run, f);
	if (v->control.exitcode != VMEXIT_VMMCALL)
		return svm_exit_unexpected(run, "VMEXIT_VMMCALL");
	v->control.tlb_control = SVM_TLB_CONTROL_DO_NOTHING;   /* flushed once is enough */

	/* Did L2 run the stub: where it stopped, its registers, its stores. */
	if (v->save.rip != (u64)(uintptr_t)svm_l2_vmmcall)
		return stage_fail(run->r, "round %u: VMEXIT_VMMCALL at L2 RIP=0x%lx, expected the stub's "
				  "VMMCALL at 0x%lx", n, v->save.rip, (u64)(uintptr_t)svm_l2_vmmcall);
	if (run->g.rbx != n || l2.mailbox[0] != n)
		return stage_fail(run->r, "round %u: L2's counter RBX=%lu, mailbox[0]=%lu, expected %u "
				  "(GPRs not carried across VMRUN/#VMEXIT?)", n, run->g.rbx,
				  l2.mailbox[0], n);
	if (l2.mailbox[2] != ~token || v->save.rax != ~token)
		return stage_fail(run->r, "round %u: L2 wrote 0x%lx to memory and RAX=0x%lx in the VMCB, "
				  "expected ~token=0x%lx", n, l2.mailbox[2], v->save.rax, ~token);
	if (run->g.rdi != gpa_of((const void *)l2.mailbox) ||
	    v->save.rsp != gpa_of(l2.stack) + 4096)
		return stage_fail(run->r, "round %u: L2 state changed: RDI=0x%lx RSP=0x%lx", n,
				  run->g.rdi, v->save.rsp);

	/* Step over VMMCALL: next_rip with NRIPS, else by its length ourselves. */
	u64 next = run->nrips ? v->control.nrip : v->save.rip + VMMCALL_LEN;

	if (run->nrips && next != v->save.rip + VMMCALL_LEN)
		return stage_fail(run->r, "round %u: nRIP=0x%lx, expected RIP+3=0x%lx (NRIPS)", n,
				  next, v->save.rip + VMMCALL_LEN);
	TRACE("round %u: VMRUN -> #VMEXIT %s (0x%lx) at RIP=0x%lx, RBX=%lu, %lu cycles; "
	      "RIP -> 0x%lx (%s), resume", n, exit_name(v->control.exitcode),
	      v->control.exitcode, v->save.rip, run->g.rbx, cycles[run->round], next,
	      run->nrips ? "nRIP" : "+3, no NRIPS");
	v->save.rip = next;
	run->round = n;
	return NVM_PASS;
}

static enum nvm_status svm_run(struct svm_run *run, bool nested_paging, unsigned int iterations)
{
	enum nvm_status st;
	u64 mmm[3];

	svm_trace_vmcb(run->vmcb);
	if (nested_paging && (st = svm_expect_npf(run)) != NVM_PASS)
		return st;
	for (unsigned int i = 0; i < iterations; i++)
		if ((st = svm_round_trip(run)) != NVM_PASS)
			return st;

	stats_min_med_max(cycles, iterations, mmm);
	stage_detail(run->r, "%u round trips L1 -> VMRUN -> L2 -> VMMCALL -> #VMEXIT -> L1, rdtsc cycles: "
		     "min=%lu median=%lu max=%lu", iterations, mmm[0], mmm[1], mmm[2]);
	stage_detail(run->r, "L2 RIP advanced %s; ASID=%u; last exit %s at RIP=0x%lx",
		     run->nrips ? "to nRIP (NRIPS)" : "by 3 by L1 (no NRIPS)", L2_ASID,
		     exit_name(run->vmcb->control.exitcode), run->vmcb->save.rip - VMMCALL_LEN);
	return stage_pass(run->r, "%u VMRUN/VMMCALL round trips%s, cycles min/median/max %lu/%lu/%lu",
			  iterations, nested_paging ? " with nested paging after 1 VMEXIT_NPF" : "",
			  mmm[0], mmm[1], mmm[2]);
}

enum nvm_status svm_run_l2(struct stage_result *r, bool nested_paging, unsigned int iterations)
{
	struct svm_l2_setup s;
	struct svm_run run = { .r = r, .nrips = !!(svm_caps.features & CPUID_8000000A_EDX_NRIPS) };
	enum nvm_status st;

	if (nested_paging && !(svm_caps.features & CPUID_8000000A_EDX_NP))
		return stage_skip(r, "CPUID.8000000AH:EDX.NP[0]=0: the VMM/L0 offers no nested paging to L1");
	if (svm_caps.nasid < 2)
		return stage_fail(r, "CPUID.8000000AH:EBX=%u ASIDs: L2 needs ASID 1 (ASID 0 is the host's)",
				  svm_caps.nasid);
	if (iterations > MAX_ROUNDS)
		iterations = MAX_ROUNDS;
	if (!iterations)
		iterations = 1;   /* a pass must rest on at least one round trip */

	/* The VMCB: L1's state, the stub's entry point, intercepts, ASID. */
	svm_l2_alloc();
	svm_l2_setup_read(&s);
	if (nested_paging) {
		svm_npt_build(l1_mem_size(), gpa_of((const void *)l2.mailbox));
		s.nested_paging = true;
		s.n_cr3 = gpa_of(npt.pml4);
		s.g_pat = rdmsr(SVM_MSR_IA32_PAT);
	}
	svm_vmcb_build(l2.vmcb, &s);
	run.vmcb = l2.vmcb;

	/* L2's GPRs: the mailbox in RDI, the round counter in RBX. */
	for (int i = 0; i < 3; i++)
		l2.mailbox[i] = 0;
	run.g.rdi = gpa_of((const void *)l2.mailbox);
	TRACE("L2 GPRs: RDI=0x%lx (mailbox), RBX=0 (round counter); NRIPS %s",
	      run.g.rdi, run.nrips ? "present: RIP from nRIP" : "absent: L1 adds 3 to RIP");

	st = svm_run(&run, nested_paging, iterations);

	/* #VMEXIT cleared GIF (15.17): set it again for the rest of L1's life. */
	if (run.exited)
		__asm__ volatile("stgi" ::: "memory");
	return st;
}
