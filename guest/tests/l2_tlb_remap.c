// SPDX-License-Identifier: MIT
/*
 * l2.tlb.remap: L1 points one L2 GPA at another page, flushes as the
 * manual requires, and L2's next read sees the new page.
 *
 * Flushes, one per round:
 *  1. this guest's context: AMD TLB_CONTROL = 3 (FlushByAsid) or 1 (APM
 *     15.16.1); Intel INVEPT single-context (SDM 29.4.3.1, 31.3).
 *  2. everything: TLB_CONTROL = 1 / INVEPT all-context.
 *  3. AMD only: L2 moves to another ASID and nothing is flushed — entries
 *     of the old ASID are never used for the new one (15.16.1). On Intel
 *     guest-physical mappings are tagged by the EPTP, not the VPID (29.4.1),
 *     so there is no such round.
 * L2 reads GPA G (3 GiB + 0x9000, beyond L1's RAM, identity in L1's page
 * tables, so only the nested entry decides which page it is) and reports
 * the value; L1 rewrites the nested leaf for G without the flush npt_set
 * would do, then flushes as above.
 *
 * Our emulated L0s' nested KVM flushes on every nested entry and tracks
 * L1's writes to its nested tables, so here the test can only show that
 * nothing breaks: a missing flush in L1 is not caught under them (and the
 * test never leaves one out); on hardware it must still be right.
 */
#include "npt_test.h"

#define G      (3ul << 30 | 0x9000)
#define ROUNDS 4

static void l2_code(u64 unused)
{
	(void)unused;
	for (int i = 0; i < ROUNDS; i++)
		l2_hypercall(L2_HC_USER, *(volatile u64 *)(uintptr_t)G, 0, 0);
}

NVM_TEST(L2_TLB_REMAP)
{
	static const u32 how[ROUNDS] = { 0, L2_TLB_CONTEXT, L2_TLB_ALL, L2_TLB_NEW_TAG };
	static const char *const names[ROUNDS] = { "first mapping", "context flush", "full flush",
						   "new ASID" };
	struct l2_vcpu vcpu;
	struct l2_exit x;
	u64 *pages = page_alloc(ROUNDS);
	struct l2_cfg cfg = { .entry = l2_code, .nested_paging = true };
	const char *why, *skipped = NULL;
	char what[64];

	if (l1_mem_size() > (3ul << 30))
		return stage_fail(r, "L1 has 0x%lx bytes of RAM: GPA 0x%lx must be beyond it",
				  l1_mem_size(), G);
	for (int i = 0; i < ROUNDS; i++)
		pages[i * 512] = 0x524d4150000000ul | (u64)i << 8 | 0xa5;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (int i = 0; i < ROUNDS; i++) {
		u64 page = gpa_of(&pages[i * 512]);

		if (i > 0)
			nested->skip_insn(&vcpu, &x);
		if ((why = nested->npt_set(&vcpu, G & ~0xffful, page,
					   L2_NPT_RWX | (i ? L2_NPT_NOFLUSH : 0))))
			return stage_fail(r, "npt_set(GPA 0x%lx -> 0x%lx): %s", G, page, why);
		if (i && (why = nested->tlb_flush(&vcpu, how[i]))) {
			/* Not offered here: the previous page stays expected; say which round. */
			stage_detail(r, "round %d (%s) not run: %s", i, names[i], why);
			skipped = names[i];
			nested->npt_set(&vcpu, G & ~0xffful, gpa_of(&pages[(i - 1) * 512]), L2_NPT_RWX);
			page = gpa_of(&pages[(i - 1) * 512]);
		}
		snprintf(what, sizeof(what), "L2's read after the %s", names[i]);
		if (npt_expect_hc(&vcpu, &x, L2_HC_USER, what, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.hc.arg0 != *(u64 *)(uintptr_t)page)
			return stage_fail(r, "%s: L2 read 0x%lx at GPA 0x%lx, expected 0x%lx from page "
					  "0x%lx (the nested leaf now points there)", what, x.hc.arg0,
					  G, *(u64 *)(uintptr_t)page, page);
	}
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (skipped)
		return stage_pass(r, "GPA 0x%lx remapped, L2 saw each new page after a context flush and "
				  "a full flush (round \"%s\" not run, see details)", G, skipped);
	return stage_pass(r, "GPA 0x%lx remapped, L2 saw each new page after a context flush, a full "
			  "flush and a new ASID", G);
}
