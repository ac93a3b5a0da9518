// SPDX-License-Identifier: MIT
/*
 * L2's state in the VMCB save area, for the entry/exit state tests
 * (guest/nested.h: struct l2_state, state_get/state_set).
 *
 * #VMEXIT writes into the guest's VMCB (APM vol. 2, 15.6 "#VMEXIT"): ES,
 * CS, SS, DS (selector, base, limit, attributes), GDTR, IDTR, EFER, CR0,
 * CR2, CR3, CR4, RFLAGS, RIP, RSP, RAX, DR7, DR6, CPL, the interrupt
 * shadow (control area 068h) and, with NRIPS, nRIP. FS, GS, TR, LDTR are
 * not among them: they stay in the CPU for VMSAVE, so this file reports
 * the VMCB's copies but does not mark them saved. G_PAT and DBGCTL are
 * left out as well: the first is no #VMEXIT field without nested paging,
 * the second only with LBR virtualization, which the QEMU L0 lacks.
 */
#include "nested.h"
#include "svm_guest.h"
#include "nestvmm/svm.h"

/* Interrupt shadow (APM table B-1, offset 068h): bit 0. */
#define SVM_INTERRUPT_SHADOW 1ull

static void seg_get(struct l2_seg *d, const struct vmcb_seg *s)
{
	*d = (struct l2_seg){ .selector = s->selector, .attrib = s->attrib, .limit = s->limit,
			      .base = s->base };
}

static void seg_set(struct vmcb_seg *d, const struct l2_seg *s)
{
	*d = (struct vmcb_seg){ .selector = s->selector, .attrib = (u16)(s->attrib & 0xfff),
				.limit = s->limit, .base = s->base };
}

/* Nothing to ask: VMRUN and #VMEXIT always move the state above. */
enum nvm_status svm_state_save_all(struct l2_vcpu *vcpu, struct stage_result *r)
{
	(void)vcpu;
	(void)r;
	return NVM_PASS;
}

void svm_state_get(struct l2_vcpu *vcpu, struct l2_state *st)
{
	const struct vmcb *v = vcpu->vendor;
	const struct vmcb_save_area *s = &v->save;
	const struct vmcb_seg *segs[L2_SEG_COUNT] = {
		[L2_ES] = &s->es, [L2_CS] = &s->cs, [L2_SS] = &s->ss, [L2_DS] = &s->ds,
		[L2_FS] = &s->fs, [L2_GS] = &s->gs, [L2_LDTR] = &s->ldtr, [L2_TR] = &s->tr,
	};

	*st = (struct l2_state){
		.cr0 = s->cr0, .cr2 = s->cr2, .cr3 = s->cr3, .cr4 = s->cr4, .efer = s->efer,
		.rip = s->rip, .rsp = s->rsp, .rflags = s->rflags, .rax = s->rax,
		.gdtr = { s->gdtr.base, s->gdtr.limit }, .idtr = { s->idtr.base, s->idtr.limit },
		.dr7 = s->dr7, .pat = s->g_pat, .debugctl = s->dbgctl,
		.shadow = v->control.interrupt_shadow & SVM_INTERRUPT_SHADOW ? L2_SHADOW_STI : 0,
		.next_rip = v->control.nrip,
		.saved = L2_ST_CR | L2_ST_CR2 | L2_ST_EFER | L2_ST_SEG | L2_ST_DTR | L2_ST_DR7 |
			 L2_ST_SHADOW | L2_ST_REGS,
	};
	for (int i = 0; i < L2_SEG_COUNT; i++)
		seg_get(&st->seg[i], segs[i]);
	if (svm_caps.features & CPUID_8000000A_EDX_NRIPS)
		st->saved |= L2_ST_NEXT_RIP;
}

void svm_state_set(struct l2_vcpu *vcpu, const struct l2_state *st, u32 fields)
{
	struct vmcb *v = vcpu->vendor;
	struct vmcb_save_area *s = &v->save;

	if (fields & L2_ST_CR) {
		s->cr0 = st->cr0;
		s->cr3 = st->cr3;
		s->cr4 = st->cr4;
	}
	if (fields & L2_ST_CR2)
		s->cr2 = st->cr2;
	if (fields & L2_ST_EFER)
		s->efer = st->efer;
	if (fields & L2_ST_SEG) {
		seg_set(&s->es, &st->seg[L2_ES]);
		seg_set(&s->cs, &st->seg[L2_CS]);
		seg_set(&s->ss, &st->seg[L2_SS]);
		seg_set(&s->ds, &st->seg[L2_DS]);
		/* 15.5.1: VMRUN takes CPL from the VMCB, not from CS. */
		s->cpl = (u8)((st->seg[L2_CS].attrib >> SVM_SEG_DPL_SHIFT) & 3);
	}
	if (fields & L2_ST_SEG_OTHER) {
		seg_set(&s->fs, &st->seg[L2_FS]);
		seg_set(&s->gs, &st->seg[L2_GS]);
		seg_set(&s->ldtr, &st->seg[L2_LDTR]);
		seg_set(&s->tr, &st->seg[L2_TR]);
	}
	if (fields & L2_ST_DTR) {
		s->gdtr.base = st->gdtr.base;
		s->gdtr.limit = st->gdtr.limit;
		s->idtr.base = st->idtr.base;
		s->idtr.limit = st->idtr.limit;
	}
	if (fields & L2_ST_DR7)
		s->dr7 = st->dr7;
	if (fields & L2_ST_PAT)
		s->g_pat = st->pat;
	if (fields & L2_ST_DEBUGCTL)
		s->dbgctl = st->debugctl;
	if (fields & L2_ST_SHADOW)
		v->control.interrupt_shadow = st->shadow ? SVM_INTERRUPT_SHADOW : 0;
	/* RAX, RSP, RIP and RFLAGS reach the VMCB through enter (svm_nested.c). */
	if (fields & L2_ST_REGS) {
		vcpu->rip = st->rip;
		vcpu->gpr[L2_RSP] = st->rsp;
		vcpu->rflags = st->rflags;
		vcpu->gpr[L2_RAX] = st->rax;
	}
	/* 15.15: a field L1 changed must not be cached by the CPU as clean. */
	v->control.vmcb_clean = 0;
}
