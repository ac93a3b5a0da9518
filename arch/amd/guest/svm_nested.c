// SPDX-License-Identifier: MIT
/* PLACEHOLDER (to be replaced): the nested API (guest/nested.h) for AMD SVM. */
#include "nested.h"
#include "svm_guest.h"
#include "nestvmm/svm.h"

u32 svm_nested_features(u32 edx)
{
	u32 f = 0;

	if (edx & CPUID_8000000A_EDX_NP)
		f |= NVM_REQ(NESTED_PAGING);
	if (edx & CPUID_8000000A_EDX_NRIPS)
		f |= NVM_REQ(NRIPS);
	return f;
}

static enum nvm_status todo_reset(struct l2_vcpu *vcpu, const struct l2_cfg *cfg, struct stage_result *r)
{
	(void)vcpu; (void)cfg;
	return stage_fail(r, "SVM nested API not implemented yet");
}
static enum nvm_status todo_enter(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r)
{
	(void)vcpu; (void)x;
	return stage_fail(r, "SVM nested API not implemented yet");
}
static void todo_skip(struct l2_vcpu *vcpu, const struct l2_exit *x) { (void)vcpu; (void)x; }
static void todo_inject(struct l2_vcpu *vcpu, u8 v, enum l2_event t, bool h, u32 e)
{ (void)vcpu; (void)v; (void)t; (void)h; (void)e; }
static void todo_describe(struct l2_vcpu *vcpu, struct stage_result *r) { (void)vcpu; (void)r; }
static void todo_map(struct l2_vcpu *vcpu, u64 g, u64 h, bool p, bool w)
{ (void)vcpu; (void)g; (void)h; (void)p; (void)w; }

const struct nested_ops nested_ops_svm = {
	.virt = "SVM", .vcpu_reset = todo_reset, .enter = todo_enter, .skip_insn = todo_skip,
	.inject = todo_inject, .describe = todo_describe, .npt_map = todo_map,
};
