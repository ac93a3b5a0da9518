// SPDX-License-Identifier: MIT
/*
 * The nested API (guest/nested.h) for AMD SVM (AMD APM vol. 2, chapter 15):
 * a fresh VMCB per vcpu_reset, VMRUN/#VMEXIT through svm_vmrun
 * (svm_entry.S), every exit normalised into struct l2_exit, nested page
 * tables (15.25) with flushes through TLB_CONTROL (15.16).
 *
 * The pure parts (VMCB builder, VMRUN checks, exit names and lengths,
 * nested page tables, EVENTINJ) are in arch/amd/common and unit-tested.
 */
#include "l2.h"
#include "nested.h"
#include "svm_guest.h"
#include "svm_intercept.h"
#include "svm_event.h"
#include "nestvmm/svm.h"

#define L2_ASID 1   /* ASID 0 is the host's: VMRUN refuses it */

u64 svm_vmrun(u64 vmcb_pa, u64 *gpr);

/* svm_entry.S addresses vcpu->gpr[] by these offsets. */
_Static_assert(L2_RBX * 8 == 8 && L2_RDI * 8 == 40 && L2_RBP * 8 == 48, "G_* in svm_entry.S");
_Static_assert(L2_R8 * 8 == 64 && L2_R15 * 8 == 120, "G_* in svm_entry.S");

/* A #VMEXIT cleared GIF (15.17); test_end sets it again with STGI. */
static bool svm_gif_clear;

/* Nested page-table pages come from the per-test arena; L1's GPA == pointer. */
static u64 *svm_npt_alloc(void *ctx, u64 *pa)
{
	void *p = page_alloc(1);

	(void)ctx;
	*pa = gpa_of(p);
	return p;
}

static u64 *svm_npt_table(void *ctx, u64 pa)
{
	(void)ctx;
	return (u64 *)(uintptr_t)pa;
}

static const struct svm_npt_mem svm_npt_mem = { svm_npt_alloc, svm_npt_table, NULL };

static const char *exit_name(u64 code)
{
	const char *n = svm_exit_name(code);

	return n ? n : "an exit code APM appendix C does not list";
}

/* 15.16: flush only L2's ASID when the L0 offers FlushByAsid, else everything. */
static u8 svm_tlb_flush_cmd(void)
{
	return svm_caps.features & SVM_CPUID_EDX_FLUSH_BY_ASID ? SVM_TLB_CONTROL_FLUSH_ASID :
								  SVM_TLB_CONTROL_FLUSH_ALL;
}

#define READ_SEG(name) ({ u16 v_; __asm__ volatile("mov %%" #name ", %0" : "=r"(v_)); v_; })

/* L2 starts in L1's mode, on L1's GDT and CR3, with its own stack and IDT. */
static void svm_setup_read(struct svm_l2_setup *s, const struct l2_vcpu *vcpu, u64 iopm_pa,
			   u64 msrpm_pa)
{
	struct dtr gdtr, idtr;

	read_gdtr(&gdtr);
	l2_idt_get(&idtr);
	*s = (struct svm_l2_setup){
		.cr0 = read_cr0(), .cr3 = read_cr3(), .cr4 = read_cr4(),
		.efer = rdmsr(MSR_EFER),
		.gdtr_base = gdtr.base, .gdtr_limit = gdtr.limit,
		.idtr_base = idtr.base, .idtr_limit = idtr.limit,
		.gdt = (const u64 *)(uintptr_t)gdtr.base,
		.cs = read_cs(), .ss = READ_SEG(ss), .ds = read_ds(), .es = READ_SEG(es),
		.fs = READ_SEG(fs), .gs = READ_SEG(gs), .tr = read_tr(),
		/* l2_start(arg, entry) as if called: RSP 8 below the top. */
		.rip = (u64)(uintptr_t)l2_start,
		.rsp = gpa_of(vcpu->stack) + 4096 - 8,
		.asid = L2_ASID,
		.intercept_exceptions = vcpu->cfg.intercept_exceptions,
		.intercept_io = !vcpu->cfg.io_passthrough,
		.iopm_pa = iopm_pa, .msrpm_pa = msrpm_pa,
	};
}

static void svm_trace_vmcb(const struct vmcb *v)
{
	const struct vmcb_control_area *c = &v->control;
	const struct vmcb_save_area *s = &v->save;

	TRACE("VMCB at 0x%lx: intercept misc1=0x%x (HLT, SHUTDOWN%s) misc2=0x%x (VMRUN, VMMCALL) "
	      "exceptions=0x%x IOPM_BASE_PA=0x%lx", gpa_of(v), c->intercept_misc1,
	      c->intercept_misc1 & SVM_INTERCEPT_IOIO_PROT ? ", IOIO_PROT: every port" : "",
	      c->intercept_misc2, c->intercept_exceptions, c->iopm_base_pa);
	TRACE("VMCB: ASID=%u TLB_CONTROL=%u NP_ENABLE=0x%lx N_CR3=0x%lx G_PAT=0x%lx",
	      c->guest_asid, c->tlb_control, c->np_enable, c->n_cr3, s->g_pat);
	TRACE("VMCB: CS=0x%x/0x%x SS=0x%x/0x%x (selector/attrib) CPL=%u GDTR=0x%lx/0x%x "
	      "IDTR=0x%lx/0x%x (L2's IDT) EFER=0x%lx CR0=0x%lx CR3=0x%lx CR4=0x%lx",
	      s->cs.selector, s->cs.attrib, s->ss.selector, s->ss.attrib, s->cpl, s->gdtr.base,
	      s->gdtr.limit, s->idtr.base, s->idtr.limit, s->efer, s->cr0, s->cr3, s->cr4);
}

static enum nvm_status svm_vcpu_reset(struct l2_vcpu *vcpu, const struct l2_cfg *cfg,
				      struct stage_result *r)
{
	struct svm_l2_setup s;
	struct vmcb *vmcb;
	u8 *iopm;
	void *msrpm;

	*vcpu = (struct l2_vcpu){ .cfg = *cfg };
	if (!cfg->entry)
		return stage_fail(r, "vcpu_reset: the test's l2_cfg has no entry function for L2");
	if (svm_caps.nasid < 2)
		return stage_fail(r, "CPUID.8000000AH:EBX=%u ASIDs: L2 needs ASID 1 (ASID 0 is the host's)",
				  svm_caps.nasid);
	if (cfg->nested_paging && !(svm_caps.features & CPUID_8000000A_EDX_NP))
		return stage_fail(r, "the test asks for nested paging, but CPUID.8000000AH:EDX.NP[0]=0: "
				  "the L0 offers none to L1");

	/* Everything from the test's arena: fresh (zero) pages each reset. */
	vmcb = page_alloc(1);
	iopm = page_alloc(SVM_IOPM_SIZE / 4096);
	msrpm = page_alloc(SVM_MSRPM_SIZE / 4096);   /* MSR_PROT is off: checked, not read */
	vcpu->stack = page_alloc(1);
	if (!cfg->io_passthrough)
		svm_iopm_init(iopm, true);
	svm_setup_read(&s, vcpu, gpa_of(iopm), gpa_of(msrpm));
	if (cfg->nested_paging) {
		vcpu->ncr3 = svm_npt_identity(&svm_npt_mem, l1_mem_size());
		s.nested_paging = true;
		s.n_cr3 = vcpu->ncr3;
		s.g_pat = rdmsr(SVM_MSR_IA32_PAT);
		TRACE("L1 built nested page tables: nCR3=0x%lx, identity map of 0x%lx bytes in 2 MiB pages",
		      vcpu->ncr3, l1_mem_size());
	}
	svm_vmcb_build(vmcb, &s);
	vmcb->control.tsc_offset = cfg->tsc_offset;   /* 15.30.5: L2's TSC = L1's + TSC_OFFSET */
	vcpu->vendor = vmcb;
	svm_intercept_setup(vcpu);

	/* What enter() syncs into the VMCB: l2_start(arg, entry) with interrupts off. */
	vcpu->rip = vmcb->save.rip;
	vcpu->rflags = vmcb->save.rflags;
	vcpu->gpr[L2_RSP] = vmcb->save.rsp;
	vcpu->gpr[L2_RDI] = cfg->arg;
	vcpu->gpr[L2_RSI] = (u64)(uintptr_t)cfg->entry;
	l2_use_vmmcall = 1;
	if (l1_cfg.trace >= NVM_TRACE_STEPS) {
		TRACE("L1 reset L2's vCPU: RIP=0x%lx (l2_start) RDI=0x%lx (arg) RSI=0x%lx (entry) "
		      "RSP=0x%lx (own stack), I/O %s, exceptions exiting 0x%x", vcpu->rip,
		      cfg->arg, vcpu->gpr[L2_RSI], vcpu->gpr[L2_RSP],
		      cfg->io_passthrough ? "passed through" : "intercepted (IOPM all ones)",
		      cfg->intercept_exceptions);
		svm_trace_vmcb(vmcb);
	}
	return NVM_PASS;
}

/* VMEXIT_INVALID: name the APM 15.5.1 check the VMCB fails, if nestvmm can tell. */
static void svm_invalid_why(const struct vmcb *v, char *why, size_t size)
{
	const char *checks[1];
	unsigned int n = svm_vmcb_check(v, checks, 1);

	if (n)
		snprintf(why, size, "VMRUN consistency check failed (VMEXIT_INVALID): %s%s", checks[0],
			 n > 1 ? " (and more)" : "");
	else
		snprintf(why, size, "VMEXIT_INVALID although the VMCB passes every APM 15.5.1 check "
			 "nestvmm can judge: L0 checks more");
}

/* The exit as the neutral code sees it (guest/nested.h). */
static void svm_exit_normalise(struct l2_vcpu *vcpu, struct l2_exit *x)
{
	const struct vmcb *v = vcpu->vendor;
	const struct vmcb_control_area *c = &v->control;
	u64 code = c->exitcode;

	*x = (struct l2_exit){
		.kind = L2_EXIT_OTHER, .raw = code, .info1 = c->exitinfo1, .info2 = c->exitinfo2,
		.rip = v->save.rip,
		.insn_len = svm_exit_insn_len(code, v->save.rip, c->nrip, c->exitinfo2,
					      svm_caps.features & CPUID_8000000A_EDX_NRIPS),
	};
	if (code >= VMEXIT_EXCP0 && code < VMEXIT_EXCP0 + 32) {
		/* 15.12: EXITINFO1 holds the error code of those that push one. */
		x->kind = L2_EXIT_EXCEPTION;
		x->vector = (u8)(code - VMEXIT_EXCP0);
		x->has_error_code = exception_has_error_code(x->vector);
		x->error_code = x->has_error_code ? (u32)c->exitinfo1 : 0;
		return;
	}
	switch (code) {
	case VMEXIT_VMMCALL:
		x->kind = L2_EXIT_HYPERCALL;    /* nested_enter reads the call from the GPRs */
		break;
	case VMEXIT_NPF:
		/* 15.25.6: EXITINFO2 the faulting GPA, EXITINFO1 a #PF-style error code. */
		x->kind = L2_EXIT_NPF;
		x->gpa = c->exitinfo2;
		x->npf.present = c->exitinfo1 & SVM_NPF_P;
		x->npf.write = c->exitinfo1 & SVM_NPF_RW;
		x->npf.fetch = c->exitinfo1 & SVM_NPF_ID;
		svm_npf_decode(x, c->exitinfo1);
		break;
	case VMEXIT_IOIO: x->kind = L2_EXIT_IO; break;
	case VMEXIT_MSR: x->kind = L2_EXIT_MSR; break;
	case VMEXIT_CPUID: x->kind = L2_EXIT_CPUID; break;
	case VMEXIT_HLT: x->kind = L2_EXIT_HLT; break;
	case VMEXIT_INTR: case VMEXIT_NMI: case VMEXIT_VINTR: x->kind = L2_EXIT_INTR; break;
	case VMEXIT_SHUTDOWN: x->kind = L2_EXIT_SHUTDOWN; break;
	case VMEXIT_INVALID:
		x->kind = L2_EXIT_INVALID;
		svm_invalid_why(v, x->why, sizeof(x->why));
		break;
	}
	svm_intercept_decode(vcpu, x);
}

static void svm_describe(struct l2_vcpu *vcpu, struct stage_result *r);

static enum nvm_status svm_enter(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r)
{
	struct vmcb *v = vcpu->vendor;
	struct vmcb_control_area *c = &v->control;
	u64 f;

	/* VMRUN loads RAX, RSP, RIP and RFLAGS from the save area, the rest from gpr[]. */
	v->save.rax = vcpu->gpr[L2_RAX];
	v->save.rsp = vcpu->gpr[L2_RSP];
	v->save.rip = vcpu->rip;
	v->save.rflags = vcpu->rflags;
	TRACE("VMRUN #%u: VMCB 0x%lx, L2 RIP=0x%lx RSP=0x%lx RAX=0x%lx, TLB_CONTROL=%u EVENTINJ=0x%lx",
	      vcpu->entries + 1, gpa_of(v), vcpu->rip, vcpu->gpr[L2_RSP], vcpu->gpr[L2_RAX],
	      c->tlb_control, c->eventinj);
	f = svm_vmrun(gpa_of(v), vcpu->gpr);
	if (f) {
		u8 vec = (u8)((f & 0xffffffff) - 1);

		svm_describe(vcpu, r);
		return stage_fail(r, "VMRUN (RAX=VMCB at 0x%lx) raised %s (error code 0x%lx) in L1 after "
				  "%u entries: L0 refused the instruction (#UD: EFER.SVME=0; #GP: VMCB "
				  "address not page aligned or not RAM, or CPL>0)", gpa_of(v),
				  exception_name(vec), f >> 32, vcpu->entries);
	}
	svm_gif_clear = true;

	/* #VMEXIT wrote L2's RAX, RSP, RIP and RFLAGS to the save area. */
	vcpu->gpr[L2_RAX] = v->save.rax;
	vcpu->gpr[L2_RSP] = v->save.rsp;
	vcpu->rip = v->save.rip;
	vcpu->rflags = v->save.rflags;
	/* A completed VMRUN did the flush: it does not repeat. An event whose
	 * delivery the exit interrupted is in EXITINTINFO (15.7.2, same format
	 * as EVENTINJ): inject it again, or L2 would lose it. */
	if (c->exitcode != VMEXIT_INVALID) {
		c->tlb_control = SVM_TLB_CONTROL_DO_NOTHING;
		c->eventinj = c->exitintinfo & SVM_EVTINJ_VALID ? c->exitintinfo : 0;
		vcpu->entries++;
	}
	svm_exit_normalise(vcpu, x);
	svm_event_decode(v, x);   /* EXITINTINFO, interrupt kinds (svm_event.c) */
	TRACE("#VMEXIT %s (0x%lx) at L2 RIP=0x%lx: EXITINFO1=0x%lx EXITINFO2=0x%lx EXITINTINFO=0x%lx "
	      "nRIP=0x%lx -> %s, length %u", exit_name(x->raw), x->raw, x->rip, x->info1, x->info2,
	      c->exitintinfo, c->nrip, l2_exit_kind_name(x->kind), x->insn_len);
	if (c->eventinj)
		TRACE("the exit interrupted the delivery of an event: EVENTINJ=0x%lx for the next VMRUN",
		      c->eventinj);
	return NVM_PASS;
}

/* Past the exiting instruction: its length came from nRIP (NRIPS), IOIO's
 * EXITINFO2 or, for VMMCALL without NRIPS, the 3 bytes 0F 01 D9. */
static void svm_skip_insn(struct l2_vcpu *vcpu, const struct l2_exit *x)
{
	const struct vmcb *v = vcpu->vendor;

	GUEST_ASSERT(x->insn_len, "skip_insn after %s (0x%lx) at L2 RIP=0x%lx: no instruction "
		     "length known for this exit", exit_name(x->raw), x->raw, x->rip);
	vcpu->rip = x->rip + x->insn_len;
	TRACE("L1 moved L2's RIP past the %u-byte instruction to 0x%lx (%s)", x->insn_len, vcpu->rip,
	      x->raw == VMEXIT_IOIO ? "EXITINFO2 of VMEXIT_IOIO" :
	      v->control.nrip == vcpu->rip ? "nRIP, NRIPS" : "VMMCALL's length, no nRIP");
}

static void svm_inject(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, bool has_error_code,
		       u32 error_code)
{
	static const u8 evtinj_type[] = {
		[L2_EVENT_EXTINT] = SVM_EVTINJ_TYPE_INTR, [L2_EVENT_NMI] = SVM_EVTINJ_TYPE_NMI,
		[L2_EVENT_EXCEPTION] = SVM_EVTINJ_TYPE_EXCEPTION,
		[L2_EVENT_SOFTINT] = SVM_EVTINJ_TYPE_SOFT_INT,
	};
	struct vmcb *v = vcpu->vendor;

	GUEST_ASSERT((unsigned int)type < sizeof(evtinj_type), "inject: event type %d unknown", type);
	/* 15.20: the next VMRUN delivers it through L2's IDT before L2's first instruction. */
	v->control.eventinj = svm_eventinj(vector, evtinj_type[type], has_error_code, error_code);
	TRACE("L1 set EVENTINJ=0x%lx: vector %u, type %u%s", v->control.eventinj, vector,
	      evtinj_type[type], has_error_code ? ", with error code" : "");
}

/* The VMCB fields VMRUN's checks look at, and the last exit's. */
static void svm_describe(struct l2_vcpu *vcpu, struct stage_result *r)
{
	const struct vmcb *v = vcpu->vendor;
	const struct vmcb_control_area *c;
	const struct vmcb_save_area *s;

	if (!v) {
		stage_detail(r, "no VMCB: vcpu_reset did not complete");
		return;
	}
	c = &v->control;
	s = &v->save;
	stage_detail(r, "VMCB 0x%lx control: intercepts CR=0x%x DR=0x%x exceptions=0x%x misc1=0x%x "
		     "misc2=0x%x ASID=%u TLB_CONTROL=%u NP_ENABLE=0x%lx N_CR3=0x%lx IOPM_BASE_PA=0x%lx "
		     "MSRPM_BASE_PA=0x%lx EVENTINJ=0x%lx VMCB_CLEAN=0x%x", gpa_of(v),
		     c->intercept_cr, c->intercept_dr, c->intercept_exceptions, c->intercept_misc1,
		     c->intercept_misc2, c->guest_asid, c->tlb_control, c->np_enable, c->n_cr3,
		     c->iopm_base_pa, c->msrpm_base_pa, c->eventinj, c->vmcb_clean);
	stage_detail(r, "VMCB save: EFER=0x%lx CR0=0x%lx CR3=0x%lx CR4=0x%lx DR6=0x%lx DR7=0x%lx "
		     "RFLAGS=0x%lx RIP=0x%lx RSP=0x%lx RAX=0x%lx CPL=%u CS=0x%x/attr 0x%x SS=0x%x/attr 0x%x "
		     "IDTR=0x%lx/0x%x G_PAT=0x%lx", s->efer, s->cr0, s->cr3, s->cr4, s->dr6, s->dr7,
		     s->rflags, s->rip, s->rsp, s->rax, s->cpl, s->cs.selector, s->cs.attrib,
		     s->ss.selector, s->ss.attrib, s->idtr.base, s->idtr.limit, s->g_pat);
	if (vcpu->entries || c->exitcode)
		stage_detail(r, "last exit: EXITCODE=0x%lx (%s) EXITINFO1=0x%lx EXITINFO2=0x%lx "
			     "EXITINTINFO=0x%lx nRIP=0x%lx, %u entries", c->exitcode,
			     exit_name(c->exitcode), c->exitinfo1, c->exitinfo2, c->exitintinfo,
			     c->nrip, vcpu->entries);
	if (c->exitcode == VMEXIT_INVALID) {
		const char *why[6];
		unsigned int n = svm_vmcb_check(v, why, 6);

		for (unsigned int i = 0; i < n && i < 6; i++)
			stage_detail(r, "APM 15.5.1 check failed: %s", why[i]);
	}
}

static void svm_npt_map_page(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, bool present, bool writable)
{
	struct vmcb *v = vcpu->vendor;
	unsigned int changed;

	GUEST_ASSERT(vcpu->ncr3, "npt_map(GPA 0x%lx) on an L2 without nested paging", gpa);
	changed = svm_npt_map(&svm_npt_mem, vcpu->ncr3, gpa, hpa, present, writable);
	/* 15.16: the TLB may still hold the old translation (and, after a
	 * split, the 2 MiB one): flush L2's entries on the next VMRUN. */
	v->control.tlb_control = svm_tlb_flush_cmd();
	TRACE("L1 mapped GPA 0x%lx -> 0x%lx %s in the nested page tables%s%s; TLB_CONTROL=%u "
	      "for the next VMRUN", gpa, hpa, !present ? "not present" : writable ? "writable" :
	      "read-only", changed & SVM_NPT_SPLIT ? ", split its 2 MiB page" : "",
	      changed & SVM_NPT_NEW_TABLE ? ", added a table" : "", v->control.tlb_control);
}

/* #VMEXIT left GIF clear: set it again before the next test (or the end). */
static void svm_test_end(void)
{
	if (!svm_gif_clear)
		return;
	__asm__ volatile("stgi" ::: "memory");
	svm_gif_clear = false;
}

const struct nested_ops nested_ops_svm = {
	.virt = "SVM",
	.vcpu_reset = svm_vcpu_reset,
	.enter = svm_enter,
	.skip_insn = svm_skip_insn,
	.inject = svm_inject,
	.describe = svm_describe,
	.npt_map = svm_npt_map_page,
	.test_end = svm_test_end,
	.msr_intercept = svm_msr_intercept,
	.io_intercept = svm_io_intercept,
	/* svm_event.c */
	.inject_sw = svm_inject_sw,
	.reinject = svm_reinject,
	.irq_window = svm_irq_window,
	.nmi_window = svm_nmi_window,
	.npt_set = svm_npt_set,
	.npt_ad = svm_npt_ad,
	.tlb_flush = svm_tlb_flush,
	.state_save_all = svm_state_save_all,     /* svm_state.c */
	.state_get = svm_state_get,
	.state_set = svm_state_set,
};
