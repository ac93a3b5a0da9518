/* SPDX-License-Identifier: MIT */
/* State shared by the files of the AMD L1 side. */
#ifndef NESTVMM_SVM_GUEST_H
#define NESTVMM_SVM_GUEST_H

#include "l1.h"

struct svm_caps {
	u32 revision, nasid, features;   /* CPUID 8000000Ah EAX[7:0], EBX, EDX */
	void *hsave;                     /* the page at VM_HSAVE_PA */
};
extern struct svm_caps svm_caps;

/* Nested paging with explicit rights, EXITINFO1 of VMEXIT_NPF (svm_npt_ops.c). */
struct l2_vcpu;
struct l2_exit;
const char *svm_npt_set(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, u32 flags);
u32 svm_npt_ad(struct l2_vcpu *vcpu, u64 gpa, bool clear);
void svm_npf_decode(struct l2_exit *x, u64 info1);
const char *svm_tlb_flush(struct l2_vcpu *vcpu, u32 how);
/* svm_state.c: the nested_ops state hooks (guest/nested.h). */
struct l2_vcpu;
struct l2_state;
enum nvm_status svm_state_save_all(struct l2_vcpu *vcpu, struct stage_result *r);
void svm_state_get(struct l2_vcpu *vcpu, struct l2_state *st);
void svm_state_set(struct l2_vcpu *vcpu, const struct l2_state *st, u32 fields);

#endif
