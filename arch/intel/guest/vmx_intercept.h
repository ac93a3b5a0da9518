/* SPDX-License-Identifier: MIT */
/* The intercept hooks vmx_nested.c calls (vmx_intercept.c). */
#ifndef NESTVMM_VMX_GUEST_INTERCEPT_H
#define NESTVMM_VMX_GUEST_INTERCEPT_H

#include "nested.h"

/* After the VMCS image is written (current VMCS): l2_cfg.intercepts into its controls. */
enum nvm_status vmx_intercept_setup(struct l2_vcpu *vcpu, struct stage_result *r);
/* After exit_decode: the intercept details of basic exit reason `basic`. */
void vmx_intercept_decode(struct l2_vcpu *vcpu, u32 basic, struct l2_exit *x);
/* nested_ops.msr_intercept / io_intercept. */
bool vmx_msr_intercept(struct l2_vcpu *vcpu, u32 msr, bool read, bool write);
void vmx_io_intercept(struct l2_vcpu *vcpu, u16 port, bool intercept);

#endif
