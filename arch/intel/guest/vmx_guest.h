/* SPDX-License-Identifier: MIT */
/* State shared by the files of the Intel L1 side. */
#ifndef NESTVMM_VMX_GUEST_H
#define NESTVMM_VMX_GUEST_H

#include "l1.h"

#define MSR_IA32_VMX_CR0_FIXED0 0x486u
#define MSR_IA32_VMX_CR0_FIXED1 0x487u
#define MSR_IA32_VMX_CR4_FIXED0 0x488u
#define MSR_IA32_VMX_CR4_FIXED1 0x489u

#define FEATURE_CONTROL_LOCKED         (1u << 0)
#define FEATURE_CONTROL_VMXON_IN_SMX   (1u << 1)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1u << 2)

struct vmx_caps {
	u64 basic;                       /* IA32_VMX_BASIC */
	u32 revision;                    /* IA32_VMX_BASIC[30:0] */
	void *vmxon_region;
};
extern struct vmx_caps vmx_caps;

/* VMX instructions report failure in RFLAGS (SDM 30.2): CF = VMfailInvalid, ZF = VMfailValid. */
enum vmx_result { VMX_OK, VMX_FAIL_INVALID, VMX_FAIL_VALID, VMX_FAULT };
struct vmx_outcome { enum vmx_result result; struct fault fault; };

struct vmx_outcome vmxon_safe(u64 region_gpa);
enum nvm_status vmx_run_l2(struct stage_result *r, bool nested_paging, unsigned int iterations);

#endif
