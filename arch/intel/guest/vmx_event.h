/* SPDX-License-Identifier: MIT */
/*
 * Event injection, IDT-vectoring information and interrupt/NMI windows on
 * the Intel side (SDM vol. 3C: 26.6 "Event Injection", 26.7.5-26.7.6
 * interrupt-/NMI-window exiting, 28.2.4 "Information for VM Exits During
 * Event Delivery"). vmx_nested.c calls vmx_event_decode for every exit and
 * lists the ops below.
 */
#ifndef NESTVMM_VMX_EVENT_H
#define NESTVMM_VMX_EVENT_H

#include "nested.h"

/* IDT-vectoring information into x->event, and which interrupt an L2_EXIT_INTR was. */
void vmx_event_decode(u32 reason, struct l2_exit *x);

void vmx_inject_sw(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, u32 insn_len);
void vmx_reinject(struct l2_vcpu *vcpu, const struct l2_exit *x);
void vmx_irq_window(struct l2_vcpu *vcpu, bool on);
bool vmx_nmi_window(struct l2_vcpu *vcpu, bool on);

#endif
