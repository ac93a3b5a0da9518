// SPDX-License-Identifier: MIT
/*
 * l2.npt.reserved: a reserved bit in a nested entry is reported as such.
 *
 * L1 sets the lowest reserved physical-address bit (bit MAXPHYADDR,
 * CPUID 8000_0008h EAX[7:0]) in the present leaf that maps L2's data page.
 * AMD (APM 15.25.6, 5.3.3 reserved bits): VMEXIT_NPF with EXITINFO1 P=1
 * and RSVD (bit 3) set, bit 32 (final GPA), EXITINFO2 = the GPA.
 * Intel (SDM 29.3.3.1): an EPT misconfiguration, exit reason 49, with
 * GUEST_PHYSICAL_ADDRESS = the GPA (no qualification).
 * L1 then clears the bit and L2 reads its data.
 */
#include "npt_test.h"

#define VALUE 0x52535644424954ul   /* "RSVDBIT" */

static void l2_code(u64 gpa)
{
	u64 v = *(volatile u64 *)(uintptr_t)gpa;

	L2_ASSERT(v == VALUE, "L2 read 0x%lx, expected 0x%lx", v, VALUE);
}

NVM_TEST(L2_NPT_RESERVED)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	volatile u64 *page = page_alloc(1);
	u64 gpa = gpa_of((const void *)page) + 0x10;
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa, .nested_paging = true };
	const char *why, *what = "the access through the entry with a reserved bit";

	page[2] = VALUE;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if ((why = nested->npt_set(&vcpu, gpa & ~0xffful, gpa & ~0xffful, L2_NPT_RWX | L2_NPT_RSVD)))
		return stage_fail(r, "npt_set(GPA 0x%lx, reserved bit): %s", gpa, why);
	if (npt_is_svm()) {
		if (npt_expect_npf(&vcpu, &x, gpa, what, r) != NVM_PASS)
			return NVM_FAIL;
		if (!npt_bit(&x, what, "RSVD (bit 3)", x.npfx.rsvd, 1, r) ||
		    !npt_bit(&x, what, "P (bit 0)", x.npf.present, 1, r) ||
		    !npt_bit(&x, what, "RW (bit 1)", x.npf.write, 0, r) ||
		    !npt_bit(&x, what, "final GPA (bit 32)", x.npfx.final, 1, r))
			return NVM_FAIL;
	} else {
		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (!x.npfx.misconfig)
			return nested_unexpected(&vcpu, &x, "an EPT misconfiguration (exit reason 49)", r);
		npt_describe(&x, what, r);
		if (x.gpa != gpa)
			return stage_fail(r, "%s: GUEST_PHYSICAL_ADDRESS 0x%lx, expected 0x%lx", what,
					  x.gpa, gpa);
	}
	if ((why = nested->npt_set(&vcpu, gpa & ~0xffful, gpa & ~0xffful, L2_NPT_RWX)))
		return stage_fail(r, "npt_set(GPA 0x%lx): %s", gpa, why);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "a reserved bit in the leaf for GPA 0x%lx: %s (0x%lx); cleared, L2 read "
			  "its data", gpa, npt_is_svm() ? "NPF with RSVD, EXITINFO1" :
			  "EPT misconfiguration, exit reason", npt_is_svm() ? x.info1 : x.raw);
}
