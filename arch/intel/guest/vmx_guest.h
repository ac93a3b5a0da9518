/* SPDX-License-Identifier: MIT */
/* State shared by the files of the Intel L1 side. */
#ifndef NESTVMM_VMX_GUEST_H
#define NESTVMM_VMX_GUEST_H

#include "l1.h"
#include "nestvmm/vmx.h"

/* What l1.enable read from the capability MSRs (0: the MSR does not exist). */
struct vmx_caps {
	u64 basic;                       /* IA32_VMX_BASIC */
	u64 ctl[VMX_CTL_COUNT];          /* per control: TRUE_ MSR when BASIC[55] */
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid_cap;
	u32 revision;                    /* IA32_VMX_BASIC[30:0] */
	void *vmxon_region;
};
extern struct vmx_caps vmx_caps;

/* VMX instructions report failure in RFLAGS (SDM 31.2): CF = VMfailInvalid, ZF = VMfailValid. */
enum vmx_result { VMX_OK, VMX_FAIL_INVALID, VMX_FAIL_VALID, VMX_FAULT };
struct vmx_outcome { enum vmx_result result; struct fault fault; };
const char *vmx_result_name(enum vmx_result res);

struct vmx_outcome vmxon_safe(u64 region_gpa);
/* NVM_REQ() bits for what the capability MSRs offer (vmx_nested.c). */
u32 vmx_nested_features(const struct vmx_caps *c);

/*
 * VMLAUNCH (resume 0) or VMRESUME L2 with the registers in gpr[] (indexed
 * by enum l2_gpr; RSP is the VMCS's, its slot is not touched). Returns
 * VMX_OK after a VM exit (gpr[] then holds L2's registers), else how the
 * instruction failed (VMX_FAIL_INVALID / VMX_FAIL_VALID).
 */
enum vmx_result vmx_enter(u64 *gpr, u64 resume);
extern u64 vmx_host_rsp;        /* HOST_RSP last written by vmx_enter; 0 forces a write */
extern const char vmx_exit_host_rip[];
/* RFLAGS right after the last failed VMLAUNCH/VMRESUME, and right after the last VM exit. */
extern u64 vmx_fail_rflags, vmx_exit_rflags;

/* EPT with explicit rights, the EPT-violation qualification (vmx_ept_ops.c). */
struct l2_vcpu;
struct l2_exit;
const char *vmx_npt_set(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, u32 flags);
u32 vmx_npt_ad(struct l2_vcpu *vcpu, u64 gpa, bool clear);
void vmx_ept_exit_decode(struct l2_exit *x, u64 qualification, u64 gla);
const char *vmx_tlb_flush(struct l2_vcpu *vcpu, u32 how);
#define VMX_EPTP_AD_ENABLE (1ull << 6)   /* 25.6.11: accessed/dirty flags for EPT */

/* vmx_state.c: the nested_ops state hooks (guest/nested.h). */
struct l2_vcpu;
struct l2_state;
enum nvm_status vmx_state_save_all(struct l2_vcpu *vcpu, struct stage_result *r);
void vmx_state_get(struct l2_vcpu *vcpu, struct l2_state *st);
void vmx_state_set(struct l2_vcpu *vcpu, const struct l2_state *st, u32 fields);

#endif
