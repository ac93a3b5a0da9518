// SPDX-License-Identifier: MIT
/*
 * l2.npt.ad-bits: the nested walk sets the accessed flag of the leaf on
 * L2's read and the dirty flag on L2's write, and not the dirty flag on a
 * read.
 *
 * AMD (APM 15.25.5: nested tables have the long-mode format, A = bit 5,
 * D = bit 6 of a leaf, set by the nested walk as by a host walk). Intel
 * (SDM 29.3.5 "Accessed and Dirty Flags for EPT": with EPTP bit 6, bit 8
 * of an entry is set when it is used, bit 9 of a leaf on a write; needs
 * IA32_VMX_EPT_VPID_CAP[21]).
 * L1 gives L2's data page a fresh leaf with A and D clear. L2 reads it and
 * reports: A must be set, D clear. L2 writes it: D must be set.
 */
#include "npt_test.h"

static void l2_code(u64 gpa)
{
	volatile u64 *p = (volatile u64 *)(uintptr_t)gpa;

	l2_hypercall(L2_HC_USER, *p, 0, 0);
	*p = 0xadb175;
}

static enum nvm_status expect_ad(struct l2_vcpu *vcpu, u64 gpa, u32 want, const char *after,
				 struct stage_result *r)
{
	u32 ad = nested->npt_ad(vcpu, gpa, false);

	stage_detail(r, "after %s: leaf for GPA 0x%lx accessed=%d dirty=%d", after, gpa,
		     !!(ad & L2_NPT_ACCESSED), !!(ad & L2_NPT_DIRTY));
	if (ad != want)
		return stage_fail(r, "after %s the leaf for GPA 0x%lx has accessed=%d dirty=%d, "
				  "expected accessed=%d dirty=%d", after, gpa, !!(ad & L2_NPT_ACCESSED),
				  !!(ad & L2_NPT_DIRTY), !!(want & L2_NPT_ACCESSED),
				  !!(want & L2_NPT_DIRTY));
	return NVM_PASS;
}

NVM_TEST(L2_NPT_AD_BITS)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	volatile u64 *page = page_alloc(1);
	u64 gpa = gpa_of((const void *)page);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa, .nested_paging = true,
			      .npt_ad = !npt_is_svm() };
	const char *why;

	if (!npt_is_svm() && !(nested_features & NVM_REQ(EPT_AD)))
		return stage_skip(r, "unsupported: the L0 offers no EPT accessed/dirty flags "
				  "(IA32_VMX_EPT_VPID_CAP[21]=0, feature ept-ad)");
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if ((why = nested->npt_set(&vcpu, gpa, gpa, L2_NPT_RWX)))
		return stage_fail(r, "npt_set(GPA 0x%lx): %s", gpa, why);
	if (expect_ad(&vcpu, gpa, 0, "npt_set", r) != NVM_PASS)
		return NVM_FAIL;
	if (npt_expect_hc(&vcpu, &x, L2_HC_USER, "L2's report after its read", r) != NVM_PASS ||
	    expect_ad(&vcpu, gpa, L2_NPT_ACCESSED, "L2's read", r) != NVM_PASS)
		return NVM_FAIL;
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS ||
	    expect_ad(&vcpu, gpa, L2_NPT_ACCESSED | L2_NPT_DIRTY, "L2's write", r) != NVM_PASS)
		return NVM_FAIL;
	if (*page != 0xadb175)
		return stage_fail(r, "L2's write did not land: 0x%lx", *page);
	return stage_pass(r, "the leaf for GPA 0x%lx: accessed after L2's read (dirty clear), dirty "
			  "after its write", gpa);
}
