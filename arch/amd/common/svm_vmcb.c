// SPDX-License-Identifier: MIT
/*
 * Build the VMCB L1 hands to VMRUN, and re-check it the way VMRUN does.
 * Pure functions over plain data (AMD APM vol. 2, 15.5 "VMRUN Instruction",
 * appendix B "Layout of VMCB"): L1 reads its live CPU state and calls them,
 * the unit tests call them with fixtures.
 */
#include <string.h>

#include "nestvmm/svm.h"
#include "nestvmm/x86.h"

#define CR0_CD          (1ull << 30)
#define CR0_NW          (1ull << 29)
#define DR6_INIT        0xffff0ff0ull   /* DR6 after reset */
#define DR7_INIT        0x400ull        /* DR7 after reset */
#define DESC_S          (1ull << 44)    /* code/data (1) or system (0) descriptor */
#define DESC_G          (1ull << 55)    /* 4 KiB limit granularity */

struct vmcb_seg svm_seg_from_gdt(const uint64_t *gdt, uint16_t gdt_limit, uint16_t sel)
{
	struct vmcb_seg s = { .selector = sel };
	unsigned int idx = sel >> 3;
	uint64_t d;

	/* Null selector, LDT selector (TI=1) or beyond the limit: unusable. */
	if (!idx || (sel & 4) || idx * 8 + 7 > gdt_limit)
		return s;
	d = gdt[idx];
	/* Attributes: access byte (47:40) in 7:0, flags (55:52) in 11:8. */
	s.attrib = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 8));
	s.limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	if (d & DESC_G)
		s.limit = (s.limit << 12) | 0xfff;
	s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	/* 64-bit system descriptors (TSS, LDT) take 16 bytes: base 63:32 follows. */
	if (!(d & DESC_S) && idx * 8 + 15 <= gdt_limit)
		s.base |= (gdt[idx + 1] & 0xffffffffull) << 32;
	return s;
}

void svm_vmcb_build(struct vmcb *vmcb, const struct svm_l2_setup *s)
{
	struct vmcb_control_area *c = &vmcb->control;
	struct vmcb_save_area *v = &vmcb->save;

	memset(vmcb, 0, sizeof(*vmcb));

	/* Intercepts: VMRUN is mandatory (15.5.1), VMMCALL is L2's way back,
	 * HLT and shutdown end up in L1 instead of L2 hanging. Exceptions the
	 * test names exit; the others go through L2's own IDT. IN/OUT exit
	 * when IOIO_PROT is on and the IOPM's bit for the port is set. */
	c->intercept_misc1 = SVM_L2_INTERCEPT_MISC1 | (s->intercept_io ? SVM_INTERCEPT_IOIO_PROT : 0);
	c->intercept_misc2 = SVM_L2_INTERCEPT_MISC2;
	c->intercept_exceptions = s->intercept_exceptions;
	c->iopm_base_pa = s->iopm_pa;
	c->msrpm_base_pa = s->msrpm_pa;

	/* ASID 0 belongs to the host: VMRUN refuses it. Flush on first entry. */
	c->guest_asid = s->asid;
	c->tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;

	/* Nested paging: guest-physical goes through the tables at nCR3. */
	if (s->nested_paging) {
		c->np_enable = SVM_NP_ENABLE;
		c->n_cr3 = s->n_cr3;
		v->g_pat = s->g_pat;
	}

	/* Segments: the ones VMRUN loads (ES, CS, SS, DS) and, for
	 * completeness, those only VMLOAD would load (FS, GS, TR, LDTR). */
	v->es = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->es);
	v->cs = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->cs);
	v->ss = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->ss);
	v->ds = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->ds);
	v->fs = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->fs);
	v->gs = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->gs);
	v->tr = svm_seg_from_gdt(s->gdt, s->gdtr_limit, s->tr);
	v->gdtr.base = s->gdtr_base;
	v->gdtr.limit = s->gdtr_limit;
	v->idtr.base = s->idtr_base;
	v->idtr.limit = s->idtr_limit;
	v->cpl = (uint8_t)((v->cs.attrib >> SVM_SEG_DPL_SHIFT) & 3);

	/* Control registers as L1 has them; the guest's EFER.SVME must be 1. */
	v->efer = s->efer | EFER_SVME;
	v->cr0 = s->cr0;
	v->cr3 = s->cr3;
	v->cr4 = s->cr4;
	v->dr6 = DR6_INIT;
	v->dr7 = DR7_INIT;

	/* Where L2 starts: interrupts off (RFLAGS.IF=0), only the fixed bit. */
	v->rflags = RFLAGS_RESERVED_1;
	v->rip = s->rip;
	v->rsp = s->rsp;
	v->rax = s->rax;
}

void svm_iopm_init(uint8_t *iopm, bool intercept_all)
{
	/* One bit per port 0-FFFFh, and the bits past FFFFh that an access
	 * wrapping the top port checks (15.10.1): the whole 12 KiB. */
	memset(iopm, intercept_all ? 0xff : 0, SVM_IOPM_SIZE);
}

uint64_t svm_eventinj(uint8_t vector, unsigned int type, bool has_error_code, uint32_t error_code)
{
	uint64_t e = vector | (uint64_t)(type & 7) << SVM_EVTINJ_TYPE_SHIFT | SVM_EVTINJ_VALID;

	if (has_error_code)
		e |= SVM_EVTINJ_EV | (uint64_t)error_code << 32;
	return e;
}

#define CHECK(cond, text) do { if (cond) { if (n < max) why[n] = (text); n++; } } while (0)

unsigned int svm_vmcb_check(const struct vmcb *vmcb, const char **why, unsigned int max)
{
	const struct vmcb_control_area *c = &vmcb->control;
	const struct vmcb_save_area *v = &vmcb->save;
	bool long_paging = (v->efer & EFER_LME) && (v->cr0 & CR0_PG);
	unsigned int n = 0;

	/* APM 15.5.1 "Basic Operation": VMRUN exits with VMEXIT_INVALID if ... */
	CHECK(!(v->efer & EFER_SVME), "EFER.SVME=0 in the guest state");
	CHECK(!(v->cr0 & CR0_CD) && (v->cr0 & CR0_NW), "CR0.CD=0 with CR0.NW=1");
	CHECK(v->cr0 >> 32, "CR0[63:32] not zero");
	CHECK(v->cr3 >> 52, "CR3 sets bits above 51 (MBZ)");
	CHECK(v->cr4 >> 32, "CR4[63:32] not zero (MBZ)");
	CHECK(v->dr6 >> 32, "DR6[63:32] not zero");
	CHECK(v->dr7 >> 32, "DR7[63:32] not zero");
	CHECK((v->efer & 0xfe) || (v->efer & (1u << 9)) || (v->efer >> 32),
	      "EFER sets reserved bits (MBZ: 7:1, 9, 63:32)");
	CHECK(long_paging && !(v->cr4 & CR4_PAE), "EFER.LME=1 and CR0.PG=1 but CR4.PAE=0");
	CHECK(long_paging && !(v->cr0 & CR0_PE), "EFER.LME=1 and CR0.PG=1 but CR0.PE=0");
	CHECK(long_paging && (v->cr4 & CR4_PAE) && (v->cs.attrib & SVM_SEG_L) &&
	      (v->cs.attrib & SVM_SEG_DB), "EFER.LME, CR0.PG, CR4.PAE, CS.L and CS.D all 1");
	CHECK(!(c->intercept_misc2 & SVM_INTERCEPT_VMRUN), "VMRUN intercept clear");
	CHECK(c->guest_asid == 0, "guest ASID is 0");
	CHECK((c->iopm_base_pa + SVM_IOPM_SIZE - 1) >> 52, "IOPM extends beyond the physical address space");
	CHECK((c->msrpm_base_pa + SVM_MSRPM_SIZE - 1) >> 52, "MSRPM extends beyond the physical address space");
	CHECK(c->tlb_control != SVM_TLB_CONTROL_DO_NOTHING &&
	      c->tlb_control != SVM_TLB_CONTROL_FLUSH_ALL &&
	      c->tlb_control != 3 && c->tlb_control != 7, "TLB_CONTROL is not 0, 1, 3 or 7");
	CHECK((c->np_enable & SVM_NP_ENABLE) && (c->n_cr3 >> 52), "nCR3 sets bits above 51");
	CHECK((c->eventinj >> 31 & 1) && ((c->eventinj >> 8 & 7) == 1 || (c->eventinj >> 8 & 7) > 4),
	      "EVENTINJ valid with a reserved type");
	return n;
}
