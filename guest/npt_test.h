/* SPDX-License-Identifier: MIT */
/*
 * What the l2.npt.* tests share: enter L2 expecting one nested page fault
 * (VMEXIT_NPF, APM 15.25.6 / EPT violation, SDM 28.2.1 table 28-7) at an
 * exact GPA, and compare each decoded bit with what the manual says,
 * naming the bit, the expected and the actual value.
 */
#ifndef NESTVMM_GUEST_NPT_TEST_H
#define NESTVMM_GUEST_NPT_TEST_H

#include "test.h"

static inline bool npt_is_svm(void)
{
	return nested_is_svm();
}

/* Everything the exit said, into the details (each test calls it once per fault). */
static inline void npt_describe(const struct l2_exit *x, const char *what, struct stage_result *r)
{
	stage_detail(r, "%s: exit 0x%lx GPA 0x%lx info 0x%lx RIP 0x%lx: present=%d write=%d fetch=%d "
		     "read=%d user=%d rsvd=%d final=%d walk=%d allowed=%u gla_valid=%d gla=0x%lx "
		     "misconfig=%d", what, x->raw, x->gpa, x->info1, x->rip, x->npf.present,
		     x->npf.write, x->npf.fetch, x->npfx.read, x->npfx.user, x->npfx.rsvd,
		     x->npfx.final, x->npfx.walk, x->npfx.allowed, x->npfx.gla_valid, x->npfx.gla,
		     x->npfx.misconfig);
}

/* Enter L2; the exit must be a nested page fault at exactly gpa. */
static inline enum nvm_status npt_expect_npf(struct l2_vcpu *vcpu, struct l2_exit *x, u64 gpa,
					     const char *what, struct stage_result *r)
{
	if (nested_enter(vcpu, x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x->kind != L2_EXIT_NPF)
		return nested_unexpected(vcpu, x, what, r);
	npt_describe(x, what, r);
	if (x->gpa != gpa)
		return stage_fail(r, "%s: GPA 0x%lx (%s), expected 0x%lx", what, x->gpa,
				  npt_is_svm() ? "EXITINFO2" : "GUEST_PHYSICAL_ADDRESS", gpa);
	return NVM_PASS;
}

/* One decoded bit against the manual: false (and r failed) on a mismatch. */
static inline bool npt_bit(const struct l2_exit *x, const char *what, const char *bit, u64 actual,
			   u64 expected, struct stage_result *r)
{
	if (actual == expected)
		return true;
	stage_fail(r, "%s: %s is %lu, expected %lu (%s 0x%lx)", what, bit, actual, expected,
		   npt_is_svm() ? "EXITINFO1" : "qualification", x->info1);
	return false;
}

/* Enter L2; the exit must be the hypercall `code` (L2_HC_USER...). */
static inline enum nvm_status npt_expect_hc(struct l2_vcpu *vcpu, struct l2_exit *x, u64 code,
					    const char *what, struct stage_result *r)
{
	if (nested_enter(vcpu, x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x->kind != L2_EXIT_HYPERCALL || x->hc.code != code)
		return nested_unexpected(vcpu, x, what, r);
	return NVM_PASS;
}

#endif
