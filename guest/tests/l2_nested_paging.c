// SPDX-License-Identifier: MIT
/*
 * l2.nested-paging: L2 behind nested page tables (APM 15.25 "Nested
 * Paging", SDM 29.3 "The extended page table mechanism"). L1 identity-maps
 * RAM for L2, then takes one page away: L2's store to it must exit as a
 * nested page fault (VMEXIT_NPF / EPT violation) naming that GPA, a write,
 * page not present, and must not reach memory. L1 maps the page read-only:
 * the retried store faults again, now on a present page. L1 makes it
 * writable and L2's store lands.
 */
#include "test.h"

#define VALUE 0x4e504621d00dfeedul

static void l2_code(u64 gpa)
{
	*(volatile u64 *)(uintptr_t)gpa = VALUE;
}

/* One expected fault: the right GPA and access, the store not done. */
static enum nvm_status expect_npf(struct l2_vcpu *vcpu, volatile u64 *page, bool present,
				  struct stage_result *r)
{
	struct l2_exit x;
	const char *what = present ? "a nested page fault on the read-only page" :
				     "a nested page fault on the unmapped page";

	if (nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_NPF)
		return nested_unexpected(vcpu, &x, what, r);
	stage_detail(r, "%s: GPA 0x%lx info 0x%lx present=%d write=%d fetch=%d RIP 0x%lx", what,
		     x.gpa, x.info1, x.npf.present, x.npf.write, x.npf.fetch, x.rip);
	if ((x.gpa & ~0xfffull) != gpa_of((const void *)page))
		return stage_fail(r, "%s: fault at GPA 0x%lx, expected 0x%lx", what, x.gpa,
				  gpa_of((const void *)page));
	if (!x.npf.write || x.npf.fetch || x.npf.present != present)
		return stage_fail(r, "%s: decoded as present=%d write=%d fetch=%d (info 0x%lx), "
				  "expected present=%d write=1 fetch=0", what, x.npf.present,
				  x.npf.write, x.npf.fetch, x.info1, present);
	if (*page)
		return stage_fail(r, "%s: the store reached memory anyway (0x%lx)", what, *page);
	return NVM_PASS;
}

NVM_TEST(L2_NESTED_PAGING)
{
	struct l2_vcpu vcpu;
	volatile u64 *page = page_alloc(1);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa_of((const void *)page),
			      .nested_paging = true };
	u64 gpa = gpa_of((const void *)page);

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	nested->npt_map(&vcpu, gpa, gpa, false, false);
	if (expect_npf(&vcpu, page, false, r) != NVM_PASS)
		return NVM_FAIL;
	nested->npt_map(&vcpu, gpa, gpa, true, false);
	if (expect_npf(&vcpu, page, true, r) != NVM_PASS)
		return NVM_FAIL;
	nested->npt_map(&vcpu, gpa, gpa, true, true);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (*page != VALUE)
		return stage_fail(r, "after mapping GPA 0x%lx writable L2 finished, but the page holds "
				  "0x%lx, expected 0x%lx", gpa, *page, VALUE);
	return stage_pass(r, "nested page faults at GPA 0x%lx: not present, then read-only; "
			  "mapped writable, L2's store landed", gpa);
}
