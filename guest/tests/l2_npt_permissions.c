// SPDX-License-Identifier: MIT
/*
 * l2.npt.permissions: reads and writes against each right a nested entry
 * can give, and the access and rights the fault reports.
 *
 * AMD (APM 15.25.5, 15.25.6): a read of a not-present page: P=0, RW=0,
 * ID=0, US=1, bit 32; a write to a present read-only page: P=1, RW=1.
 * Intel (SDM 28.2.1 table 28-7, 29.3.3.2): a read of a not-present page:
 * bit 0 (read) set, bits 5:3 = 000b; a write to a read+execute page: bit 1
 * (write) set, bit 0 clear, bits 5:3 = 101b (readable, executable); bit 7
 * and 8 set, the linear address = the GPA (L2 on L1's identity tables).
 * A read-only page must be readable (L2 gets the value) and a read/write
 * page without execute must take the store.
 */
#include "npt_test.h"

#define OLD 0x5045524d5f4f4c44ul   /* "PERM_OLD" */
#define NEW 0x5045524d5f4e4557ul   /* "PERM_NEW" */

static void l2_code(u64 gpa)
{
	volatile u64 *p = (volatile u64 *)(uintptr_t)gpa;
	u64 v = *p;

	l2_hypercall(L2_HC_USER, v, 0, 0);
	*p = NEW;
}

/* The bits every fault of this test shares; then the access-specific ones. */
static enum nvm_status check(const struct l2_exit *x, const char *what, bool write, u8 allowed,
			     u64 gpa, struct stage_result *r)
{
	if (!npt_bit(x, what, "write (RW / bit 1)", x->npf.write, write, r) ||
	    !npt_bit(x, what, "fetch (ID / bit 2)", x->npf.fetch, 0, r) ||
	    !npt_bit(x, what, "final translation (bit 32 / bits 7+8)", x->npfx.final, 1, r) ||
	    !npt_bit(x, what, "guest page-table access (bit 33)", x->npfx.walk, 0, r))
		return NVM_FAIL;
	if (npt_is_svm())
		return npt_bit(x, what, "P (bit 0)", x->npf.present, allowed != 0, r) &&
		       npt_bit(x, what, "US (bit 2)", x->npfx.user, 1, r) &&
		       npt_bit(x, what, "RSVD (bit 3)", x->npfx.rsvd, 0, r) ? NVM_PASS : NVM_FAIL;
	return npt_bit(x, what, "read (bit 0)", x->npfx.read, !write, r) &&
	       npt_bit(x, what, "entry rights (bits 5:3)", x->npfx.allowed, allowed, r) &&
	       npt_bit(x, what, "linear address valid (bit 7)", x->npfx.gla_valid, 1, r) &&
	       npt_bit(x, what, "GUEST_LINEAR_ADDRESS", x->npfx.gla, gpa, r) ? NVM_PASS : NVM_FAIL;
}

NVM_TEST(L2_NPT_PERMISSIONS)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	volatile u64 *page = page_alloc(1);
	u64 gpa = gpa_of((const void *)page);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa, .nested_paging = true };
	const char *why;

	*page = OLD;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	/* Not present: the read faults. */
	if ((why = nested->npt_set(&vcpu, gpa, gpa, 0)))
		return stage_fail(r, "npt_set(GPA 0x%lx, not present): %s", gpa, why);
	if (npt_expect_npf(&vcpu, &x, gpa, "the read of the not-present page", r) != NVM_PASS ||
	    check(&x, "the read of the not-present page", false, 0, gpa, r) != NVM_PASS)
		return NVM_FAIL;
	/* Read and execute: the read gets the value, the write faults on a present page. */
	if ((why = nested->npt_set(&vcpu, gpa, gpa, L2_NPT_R | L2_NPT_X)))
		return stage_fail(r, "npt_set(GPA 0x%lx, read/execute): %s", gpa, why);
	if (npt_expect_hc(&vcpu, &x, L2_HC_USER, "L2's report of its read of the read-only page",
			  r) != NVM_PASS)
		return NVM_FAIL;
	if (x.hc.arg0 != OLD)
		return stage_fail(r, "L2 read 0x%lx from the read-only page, expected 0x%lx", x.hc.arg0,
				  OLD);
	nested->skip_insn(&vcpu, &x);
	if (npt_expect_npf(&vcpu, &x, gpa, "the write to the read/execute page", r) != NVM_PASS ||
	    check(&x, "the write to the read/execute page", true, L2_NPT_R | L2_NPT_X, gpa,
		  r) != NVM_PASS)
		return NVM_FAIL;
	if (*page != OLD)
		return stage_fail(r, "the faulting write reached memory: 0x%lx", *page);
	/* Read and write, not execute: the store lands. */
	if ((why = nested->npt_set(&vcpu, gpa, gpa, L2_NPT_R | L2_NPT_W)))
		return stage_fail(r, "npt_set(GPA 0x%lx, read/write): %s", gpa, why);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (*page != NEW)
		return stage_fail(r, "mapped read/write, L2's store did not land: 0x%lx, expected 0x%lx",
				  *page, NEW);
	return stage_pass(r, "GPA 0x%lx: a read of it not present and a write of it read/execute "
			  "faulted with the access and rights the manual gives; read-only it was "
			  "readable, read/write it took the store", gpa);
}
