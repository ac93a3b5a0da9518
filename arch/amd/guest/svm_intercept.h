/* SPDX-License-Identifier: MIT */
/* The intercept hooks svm_nested.c calls (svm_intercept.c). */
#ifndef NESTVMM_SVM_GUEST_INTERCEPT_H
#define NESTVMM_SVM_GUEST_INTERCEPT_H

#include "nested.h"

/* After the VMCB is built: l2_cfg.intercepts into its intercept vectors. */
void svm_intercept_setup(struct l2_vcpu *vcpu);
/* After an exit is normalised: its intercept details (and length without NRIPS). */
void svm_intercept_decode(struct l2_vcpu *vcpu, struct l2_exit *x);
/* nested_ops.msr_intercept / io_intercept. */
bool svm_msr_intercept(struct l2_vcpu *vcpu, u32 msr, bool read, bool write);
void svm_io_intercept(struct l2_vcpu *vcpu, u16 port, bool intercept);

#endif
