/* SPDX-License-Identifier: MIT */
/*
 * Event injection, EXITINTINFO and interrupt windows on the AMD side
 * (APM vol. 2: 15.7.2 "Exit Interrupt Information", 15.20 "Event
 * Injection", 15.21 "Interrupt and LocalAPIC Support"). svm_nested.c
 * calls svm_event_decode for every exit and lists the ops below.
 */
#ifndef NESTVMM_SVM_EVENT_H
#define NESTVMM_SVM_EVENT_H

#include "nested.h"
#include "nestvmm/svm.h"

/* Intercept vector 3 (VMCB 00Ch), APM 15.9 / appendix B. */
#define SVM_INTERCEPT_VINTR        (1u << 4)
#define SVM_INTERCEPT_IRET         (1u << 20)

/* VMCB 060h (APM appendix B, "V_TPR ... V_INTR_VECTOR"). */
#define SVM_V_TPR_MASK             0xffull
#define SVM_V_IRQ                  (1ull << 8)
#define SVM_V_GIF                  (1ull << 9)
#define SVM_V_INTR_PRIO_SHIFT      16
#define SVM_V_IGN_TPR              (1ull << 20)
#define SVM_V_INTR_MASKING         (1ull << 24)
#define SVM_V_GIF_ENABLE           (1ull << 25)
#define SVM_V_INTR_VECTOR_SHIFT    32

/* VMCB 068h: INTERRUPT_SHADOW [0], GUEST_INTERRUPT_MASK [1]. */
#define SVM_INT_SHADOW             (1ull << 0)

#define VMEXIT_IRET                0x074ull

/* EXITINTINFO into x->event, and which interrupt an L2_EXIT_INTR was. */
void svm_event_decode(const struct vmcb *v, struct l2_exit *x);

void svm_inject_sw(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, u32 insn_len);
void svm_reinject(struct l2_vcpu *vcpu, const struct l2_exit *x);
void svm_irq_window(struct l2_vcpu *vcpu, bool on);
bool svm_nmi_window(struct l2_vcpu *vcpu, bool on);

#endif
