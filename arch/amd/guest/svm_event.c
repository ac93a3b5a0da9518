// SPDX-License-Identifier: MIT
/*
 * Event injection and interrupt windows for AMD SVM (guest/nested.h ops
 * inject_sw, reinject, irq_window, nmi_window; svm_event.h).
 */
#include "svm_event.h"
#include "svm_guest.h"

/*
 * 15.7.2: EXITINTINFO has EVENTINJ's format (15.20): vector [7:0], type
 * [10:8], EV [11], V [31], error code [63:32]. INT3 and INTO are type 3
 * (exception) like any other; type 4 is INTn only.
 */
void svm_event_decode(const struct vmcb *v, struct l2_exit *x)
{
	const struct vmcb_control_area *c = &v->control;
	u64 e = c->exitintinfo;

	if (e & SVM_EVTINJ_VALID) {
		unsigned int type = (e >> SVM_EVTINJ_TYPE_SHIFT) & 7;

		x->event.valid = true;
		x->event.raw = e;
		x->event.vector = (u8)e;
		x->event.type = type == SVM_EVTINJ_TYPE_NMI ? L2_EVENT_NMI :
				type == SVM_EVTINJ_TYPE_EXCEPTION ? L2_EVENT_EXCEPTION :
				type == SVM_EVTINJ_TYPE_SOFT_INT ? L2_EVENT_SOFTINT : L2_EVENT_EXTINT;
		x->event.has_error_code = e & SVM_EVTINJ_EV;
		x->event.error_code = x->event.has_error_code ? (u32)(e >> 32) : 0;
	}
	if (c->exitcode == VMEXIT_INTR)
		x->intr = L2_INTR_EXTERNAL;
	else if (c->exitcode == VMEXIT_NMI)
		x->intr = L2_INTR_NMI;
	else if (c->exitcode == VMEXIT_VINTR)
		x->intr = L2_INTR_WINDOW;
	else if (c->exitcode == VMEXIT_IRET) {
		x->kind = L2_EXIT_INTR;
		x->intr = L2_INTR_NMI_WINDOW;
	}
}

/*
 * 15.20: an injected INTn (type 4) or exception pushes the RIP in the
 * VMCB as its return address: without NRIPS, L1 moves RIP past the
 * instruction itself (as KVM does for an L1 without NRIPS); with NRIPS,
 * NextRIP says the same.
 */
void svm_inject_sw(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, u32 insn_len)
{
	struct vmcb *v = vcpu->vendor;
	unsigned int t = type == L2_EVENT_SOFTINT ? SVM_EVTINJ_TYPE_SOFT_INT :
			 SVM_EVTINJ_TYPE_EXCEPTION;

	vcpu->rip += insn_len;
	v->control.nrip = vcpu->rip;
	v->control.eventinj = svm_eventinj(vector, t, false, 0);
	TRACE("L1 set EVENTINJ=0x%lx (vector %u, type %u) for the %u-byte instruction; L2 RIP "
	      "moved past it to 0x%lx", v->control.eventinj, vector, t, insn_len, vcpu->rip);
}

/* 15.7.2: "the VMM ... can re-inject the event through EVENTINJ". */
void svm_reinject(struct l2_vcpu *vcpu, const struct l2_exit *x)
{
	struct vmcb *v = vcpu->vendor;

	v->control.eventinj = x->event.valid ? x->event.raw : 0;
	TRACE("L1 copied EXITINTINFO=0x%lx to EVENTINJ", x->event.raw);
}

/*
 * 15.21.4: a virtual interrupt pending in V_IRQ (priority above V_TPR,
 * or V_IGN_TPR) is taken when L2 can take an interrupt; with the VINTR
 * intercept that moment exits to L1 instead. V_INTR_MASKING: L2's
 * RFLAGS.IF masks virtual interrupts only (15.21.1).
 */
void svm_irq_window(struct l2_vcpu *vcpu, bool on)
{
	struct vmcb *v = vcpu->vendor;
	struct vmcb_control_area *c = &v->control;

	if (on) {
		c->vintr |= SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_MASKING |
			    (0xfull << SVM_V_INTR_PRIO_SHIFT);
		c->intercept_misc1 |= SVM_INTERCEPT_VINTR;
	} else {
		c->vintr &= ~SVM_V_IRQ;
		c->intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	}
	TRACE("L1 %s the interrupt window: V_INTR (VMCB 060h)=0x%lx, VINTR intercept %s",
	      on ? "asks for" : "no longer asks for", c->vintr, on ? "on" : "off");
}

/* 15.21.3 (IRET intercept): KVM's way to see an NMI handler end. */
bool svm_nmi_window(struct l2_vcpu *vcpu, bool on)
{
	struct vmcb *v = vcpu->vendor;

	if (on)
		v->control.intercept_misc1 |= SVM_INTERCEPT_IRET;
	else
		v->control.intercept_misc1 &= ~SVM_INTERCEPT_IRET;
	TRACE("L1 %s IRET", on ? "intercepts" : "no longer intercepts");
	return true;
}
