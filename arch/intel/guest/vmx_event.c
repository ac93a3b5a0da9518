// SPDX-License-Identifier: MIT
/*
 * Event injection and interrupt/NMI windows for Intel VMX (guest/nested.h
 * ops inject_sw, reinject, irq_window, nmi_window; vmx_event.h). All of
 * them act on the current VMCS, which is the vcpu's from vcpu_reset on.
 */
#include "vmx_event.h"
#include "vmx_guest.h"

/* VMREAD/VMWRITE of the current VMCS (31.3); failures leave 0 / the field unchanged. */
static u64 ev_vmread(u32 field)
{
	u64 v = 0;

	__asm__ volatile("vmread %[f], %[v]" : [v] "+r"(v) : [f] "r"((u64)field) : "cc");
	return v;
}

static void ev_vmwrite(u32 field, u64 val)
{
	__asm__ volatile("vmwrite %[v], %[f]" :: [v] "r"(val), [f] "r"((u64)field) : "cc", "memory");
}

/* 25.9.3 / 25.8.3: the interruption types in both fields. */
static u8 event_type_of(unsigned int t)
{
	switch (t) {
	case INTR_TYPE_NMI: return L2_EVENT_NMI;
	case INTR_TYPE_HARD_EXCEPTION: return L2_EVENT_EXCEPTION;
	case INTR_TYPE_SOFT_INTR: return L2_EVENT_SOFTINT;
	case INTR_TYPE_PRIV_SOFT_EXCEPTION:
	case INTR_TYPE_SOFT_EXCEPTION: return L2_EVENT_SOFT_EXCEPTION;
	default: return L2_EVENT_EXTINT;
	}
}

static bool type_is_soft(unsigned int t)
{
	return t == INTR_TYPE_SOFT_INTR || t == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	       t == INTR_TYPE_SOFT_EXCEPTION;
}

/*
 * 28.2.4: an exit during event delivery saves the event in the
 * IDT-vectoring information field (vector [7:0], type [10:8], error code
 * valid [11], valid [31]), its error code, and for software events the
 * instruction length in the VM-exit instruction-length field (28.2.5).
 */
void vmx_event_decode(u32 reason, struct l2_exit *x)
{
	u32 basic = VMX_EXIT_REASON_BASIC(reason);
	u32 idt = (u32)ev_vmread(IDT_VECTORING_INFO_FIELD);

	if (idt & INTR_INFO_VALID) {
		unsigned int t = INTR_INFO_TYPE(idt);

		x->event.valid = true;
		x->event.raw = idt;
		x->event.vector = (u8)INTR_INFO_VECTOR(idt);
		x->event.type = event_type_of(t);
		x->event.has_error_code = idt & INTR_INFO_DELIVER_CODE;
		if (x->event.has_error_code)
			x->event.error_code = (u32)ev_vmread(IDT_VECTORING_ERROR_CODE);
		if (type_is_soft(t))
			x->event.insn_len = (u32)ev_vmread(VM_EXIT_INSTRUCTION_LEN);
	}
	if (basic == EXIT_REASON_EXTERNAL_INTERRUPT)
		x->intr = L2_INTR_EXTERNAL;
	else if (basic == EXIT_REASON_EXCEPTION_NMI && x->kind == L2_EXIT_INTR)
		x->intr = L2_INTR_NMI;
	else if (basic == EXIT_REASON_INTERRUPT_WINDOW)
		x->intr = L2_INTR_WINDOW;
	else if (basic == EXIT_REASON_NMI_WINDOW)
		x->intr = L2_INTR_NMI_WINDOW;
}

/*
 * 26.6.1.3: a software interrupt or software exception is delivered as if
 * the insn_len-byte instruction at GUEST_RIP raised it: the frame's return
 * RIP is GUEST_RIP + VM-entry instruction length. RIP stays.
 */
void vmx_inject_sw(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, u32 insn_len)
{
	unsigned int t = type == L2_EVENT_SOFTINT ? INTR_TYPE_SOFT_INTR : INTR_TYPE_SOFT_EXCEPTION;
	u32 info = vmx_entry_intr_info(vector, t, false);

	(void)vcpu;
	ev_vmwrite(VM_ENTRY_INTR_INFO_FIELD, info);
	ev_vmwrite(VM_ENTRY_INSTRUCTION_LEN, insn_len);
	TRACE("inject vector %u type %u: VM-entry interruption information 0x%x, instruction "
	      "length %u, at GUEST_RIP 0x%lx", vector, t, info, insn_len, vcpu->rip);
}

/* 28.2.4 "... the VMM can re-inject the event": IDT vectoring -> VM-entry fields. */
void vmx_reinject(struct l2_vcpu *vcpu, const struct l2_exit *x)
{
	u32 info = (u32)x->event.raw & (INTR_INFO_VALID | INTR_INFO_DELIVER_CODE | 0x7ffu);

	(void)vcpu;
	if (!x->event.valid)
		info = 0;
	ev_vmwrite(VM_ENTRY_INTR_INFO_FIELD, info);
	if (x->event.has_error_code)
		ev_vmwrite(VM_ENTRY_EXCEPTION_ERROR_CODE, x->event.error_code);
	if (type_is_soft(INTR_INFO_TYPE(info)))
		ev_vmwrite(VM_ENTRY_INSTRUCTION_LEN, x->event.insn_len);
	TRACE("L1 copied IDT-vectoring information 0x%lx to VM-entry interruption information 0x%x "
	      "(error code 0x%x, length %u)", x->event.raw, info, x->event.error_code,
	      x->event.insn_len);
}

/* 26.7.5: with "interrupt-window exiting", an exit as soon as RFLAGS.IF=1 and no STI/MOV SS blocking. */
void vmx_irq_window(struct l2_vcpu *vcpu, bool on)
{
	u32 proc = (u32)ev_vmread(CPU_BASED_VM_EXEC_CONTROL);

	(void)vcpu;
	proc = on ? proc | CPU_BASED_INTR_WINDOW_EXITING : proc & ~CPU_BASED_INTR_WINDOW_EXITING;
	ev_vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc);
	TRACE("primary processor-based controls 0x%x: interrupt-window exiting %s", proc,
	      on ? "on" : "off");
}

/*
 * 26.7.6: with "NMI-window exiting" (which needs "virtual NMIs", which
 * needs "NMI exiting", 26.2.1.1), an exit as soon as there is no
 * virtual-NMI blocking (and no STI/MOV SS blocking).
 */
bool vmx_nmi_window(struct l2_vcpu *vcpu, bool on)
{
	u32 pin_bits = PIN_BASED_NMI_EXITING | PIN_BASED_VIRTUAL_NMIS;
	u32 pin, proc;

	(void)vcpu;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PIN], pin_bits) ||
	    !vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_NMI_WINDOW_EXITING))
		return false;
	pin = (u32)ev_vmread(PIN_BASED_VM_EXEC_CONTROL);
	if ((pin & pin_bits) != pin_bits)
		ev_vmwrite(PIN_BASED_VM_EXEC_CONTROL, pin | pin_bits);
	proc = (u32)ev_vmread(CPU_BASED_VM_EXEC_CONTROL);
	proc = on ? proc | CPU_BASED_NMI_WINDOW_EXITING : proc & ~CPU_BASED_NMI_WINDOW_EXITING;
	ev_vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc);
	TRACE("pin-based controls 0x%x (NMI exiting, virtual NMIs), primary 0x%x: NMI-window "
	      "exiting %s", pin | pin_bits, proc, on ? "on" : "off");
	return true;
}
