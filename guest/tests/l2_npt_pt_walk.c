// SPDX-License-Identifier: MIT
/*
 * l2.npt.pt-walk: L2's own page-table walk goes through the nested tables
 * too, and a fault there is told apart from one on the final address.
 *
 * L2 runs on L1's page tables (identity, 2 MiB pages). L1 takes away, in
 * the nested tables, the page holding the page directory that maps linear
 * address LIN (3 GiB + 0x5008, beyond L1's RAM). L2 reads LIN:
 *  1. the walk's read of the PDE faults. AMD (APM 15.25.6): EXITINFO1 bit
 *     33 set (guest page-table access), bit 32 clear, P=0, ID=0, US=1;
 *     EXITINFO2 = the GPA of the PDE itself. Intel (SDM 28.2.1 table 28-7):
 *     bit 7 set (linear address valid), bit 8 clear (an access to a
 *     paging-structure entry), bit 2 clear, bits 5:3 = 000b;
 *     GUEST_PHYSICAL_ADDRESS = the PDE's GPA, GUEST_LINEAR_ADDRESS = LIN.
 *     Whether the walk's access is a read or an A-bit write is the CPU's
 *     business: it is reported in the details, not checked.
 *  2. L1 maps the page-directory page again: the walk completes and the
 *     final GPA (= LIN, identity), which no nested entry maps, faults with
 *     bit 32 set / bits 7 and 8 set, a read (RW=0 / bit 0 set), not present.
 *  3. L1 maps that GPA onto a page of its own: L2 reads its marker.
 */
#include "npt_test.h"

#define LIN    (3ul << 30 | 0x5008)
#define MARKER 0x50545f57414c4b21ul   /* "PT_WALK!" */

static void l2_code(u64 lin)
{
	u64 v = *(volatile u64 *)(uintptr_t)lin;

	L2_ASSERT(v == MARKER, "L2 read 0x%lx at linear 0x%lx, expected 0x%lx", v, lin, MARKER);
}

/* The GPA of the PDE L1's tables (CR3) use for lin; 0 when not a 4-level, 2 MiB-leaf walk. */
static u64 pde_gpa(u64 lin)
{
	const u64 *pml4 = (const u64 *)(uintptr_t)(read_cr3() & 0x000ffffffffff000ul);
	u64 e = pml4[(lin >> 39) & 511];

	if (!(e & PTE_P))
		return 0;
	e = ((const u64 *)(uintptr_t)(e & 0x000ffffffffff000ul))[(lin >> 30) & 511];
	if (!(e & PTE_P) || (e & PTE_PS))
		return 0;
	return (e & 0x000ffffffffff000ul) + 8 * ((lin >> 21) & 511);
}

NVM_TEST(L2_NPT_PT_WALK)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	volatile u64 *page = page_alloc(1);
	struct l2_cfg cfg = { .entry = l2_code, .arg = LIN, .nested_paging = true };
	u64 pde = pde_gpa(LIN), pd = pde & ~0xffful, final = LIN;
	const char *why, *what = "the fault on L2's page-directory entry";

	if (!pde)
		return stage_fail(r, "L1's page tables (CR3 0x%lx) map linear 0x%lx without a page "
				  "directory: this test needs one", read_cr3(), LIN);
	if (l1_mem_size() > (3ul << 30))
		return stage_fail(r, "L1 has 0x%lx bytes of RAM: GPA 0x%lx must be beyond it",
				  l1_mem_size(), LIN);
	page[(LIN & 0xfff) / 8] = MARKER;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if ((why = nested->npt_set(&vcpu, pd, pd, 0)))
		return stage_fail(r, "npt_set(GPA 0x%lx, not present): %s", pd, why);

	/* 1. The walk faults on the PDE. */
	if (npt_expect_npf(&vcpu, &x, pde, what, r) != NVM_PASS)
		return NVM_FAIL;
	if (!npt_bit(&x, what, "guest page-table access (bit 33 / 7 set, 8 clear)", x.npfx.walk, 1, r) ||
	    !npt_bit(&x, what, "final translation (bit 32 / bits 7+8)", x.npfx.final, 0, r) ||
	    !npt_bit(&x, what, "fetch (ID / bit 2)", x.npf.fetch, 0, r) ||
	    !npt_bit(&x, what, "present (P / bits 5:3)", x.npf.present, 0, r))
		return NVM_FAIL;
	if (npt_is_svm() ? !npt_bit(&x, what, "US (bit 2)", x.npfx.user, 1, r) :
			   !npt_bit(&x, what, "GUEST_LINEAR_ADDRESS", x.npfx.gla, LIN, r))
		return NVM_FAIL;

	/* 2. The walk completes; the final GPA has no nested entry. */
	what = "the fault on the final GPA";
	if ((why = nested->npt_set(&vcpu, pd, pd, L2_NPT_RWX)))
		return stage_fail(r, "npt_set(GPA 0x%lx, read/write/execute): %s", pd, why);
	if (npt_expect_npf(&vcpu, &x, final, what, r) != NVM_PASS)
		return NVM_FAIL;
	if (!npt_bit(&x, what, "guest page-table access (bit 33 / 7 set, 8 clear)", x.npfx.walk, 0, r) ||
	    !npt_bit(&x, what, "final translation (bit 32 / bits 7+8)", x.npfx.final, 1, r) ||
	    !npt_bit(&x, what, "write (RW / bit 1)", x.npf.write, 0, r) ||
	    !npt_bit(&x, what, "present (P / bits 5:3)", x.npf.present, 0, r))
		return NVM_FAIL;
	if (!npt_is_svm() && (!npt_bit(&x, what, "read (bit 0)", x.npfx.read, 1, r) ||
			      !npt_bit(&x, what, "GUEST_LINEAR_ADDRESS", x.npfx.gla, LIN, r)))
		return NVM_FAIL;

	/* 3. Mapped: L2 reads the marker through its walk and the nested tables. */
	if ((why = nested->npt_set(&vcpu, final & ~0xffful, gpa_of((const void *)page),
				   L2_NPT_RWX)))
		return stage_fail(r, "npt_set(GPA 0x%lx): %s", final & ~0xffful, why);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "a nested fault in L2's page walk (PDE at GPA 0x%lx) reported as a guest "
			  "table access, the one on the final GPA 0x%lx as final; mapped, L2 read "
			  "its data", pde, final);
}
