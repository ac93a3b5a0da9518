// SPDX-License-Identifier: MIT
/*
 * l2.npt.large-pages: 2 MiB and 1 GiB nested leaves translate every offset
 * inside them, and a 2 MiB leaf split into 4 KiB ones keeps the rest.
 *
 * AMD (APM 15.25.5; 5.3.4 2-Mbyte, 5.3.5 1-Gbyte pages: PS in the PDE /
 * PDPE, 1 GiB needs CPUID 8000_0001h EDX[26]). Intel (SDM 29.3.2, tables
 * 29-3 and 29-5: bit 7 of an EPT PDPTE / PDE; 1 GiB needs
 * IA32_VMX_EPT_VPID_CAP[17]). L2 runs on L1's identity tables, so its
 * linear address is the GPA:
 *  - GPA 1 GiB .. 2 GiB as one 1 GiB leaf onto L1's first GiB: L2 reads
 *    marker A at 1 GiB + its address and writes at 1 GiB + its address + 8;
 *    L1 sees the store.
 *  - GPA 2 GiB + 2 MiB-aligned window onto the 2 MiB of L1's RAM holding
 *    the markers: L2 reads A and B (next page) through it.
 *  - L1 remaps the 4 KiB of A in that window onto page C (splitting the
 *    2 MiB leaf): L2 reads C there, and B still at the next page.
 * Without 1 GiB pages in the L0 the 1 GiB step is left out, and the
 * verdict says so.
 */
#include "npt_test.h"

#define A_VAL 0x4c415247455f4131ul
#define B_VAL 0x4c415247455f4232ul
#define C_VAL 0x4c415247455f4333ul
#define W_VAL 0x4c415247455f5734ul

struct large_args { u64 g1, g2, ab_off; bool one_gig; };

static void l2_code(u64 arg)
{
	const struct large_args *a = (const struct large_args *)(uintptr_t)arg;
	volatile u64 *w2 = (volatile u64 *)(uintptr_t)(a->g2 + a->ab_off);
	u64 v;

	if (a->one_gig) {
		volatile u64 *w1 = (volatile u64 *)(uintptr_t)(a->g1 + a->ab_off);
		v = w1[0];
		L2_ASSERT(v == A_VAL, "through the 1 GiB leaf: 0x%lx, expected 0x%lx", v, A_VAL);
		w1[1] = W_VAL;
	}
	v = w2[0];
	L2_ASSERT(v == A_VAL, "through the 2 MiB leaf: 0x%lx, expected 0x%lx", v, A_VAL);
	v = w2[512];
	L2_ASSERT(v == B_VAL, "through the 2 MiB leaf, next page: 0x%lx, expected 0x%lx", v, B_VAL);
	l2_hypercall(L2_HC_USER, 0, 0, 0);
	v = w2[0];
	L2_ASSERT(v == C_VAL, "after the split, remapped page: 0x%lx, expected 0x%lx", v, C_VAL);
	v = w2[512];
	L2_ASSERT(v == B_VAL, "after the split, next page: 0x%lx, expected 0x%lx", v, B_VAL);
}

NVM_TEST(L2_NPT_LARGE_PAGES)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	volatile u64 *ab = page_alloc(2), *c = page_alloc(1);
	struct large_args *args = page_alloc(1);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa_of(args), .nested_paging = true };
	u64 ab_gpa = gpa_of((const void *)ab), win = ab_gpa & ~0x1ffffful;
	const char *why, *no1g;

	if (l1_mem_size() > (1ul << 30))
		return stage_fail(r, "L1 has 0x%lx bytes of RAM: GPA 1 GiB must be beyond it",
				  l1_mem_size());
	if (((ab_gpa + 4096) & ~0x1ffffful) != win)
		return stage_fail(r, "the marker pages at 0x%lx straddle a 2 MiB boundary", ab_gpa);
	ab[0] = A_VAL;
	ab[512] = B_VAL;
	c[0] = C_VAL;
	/* 1 GiB leaf GPA 1 GiB -> 0: A at 1 GiB + its GPA; 2 MiB window at 2 GiB -> win. */
	*args = (struct large_args){ .g1 = (1ul << 30) + win, .g2 = 2ul << 30,
				     .ab_off = ab_gpa - win };
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	no1g = nested->npt_set(&vcpu, 1ul << 30, 0, L2_NPT_RWX | L2_NPT_1G);
	args->one_gig = !no1g;
	if (no1g)
		stage_detail(r, "no 1 GiB leaf: %s", no1g);
	if ((why = nested->npt_set(&vcpu, 2ul << 30, win, L2_NPT_RWX | L2_NPT_2M)))
		return stage_fail(r, "npt_set(GPA 2 GiB, 2 MiB leaf onto 0x%lx): %s", win, why);
	if (npt_expect_hc(&vcpu, &x, L2_HC_USER, "L2's reads through the large leaves", r) != NVM_PASS)
		return NVM_FAIL;
	if (!no1g && ab[1] != W_VAL)
		return stage_fail(r, "L2's store through the 1 GiB leaf: L1 sees 0x%lx at 0x%lx, "
				  "expected 0x%lx", ab[1], ab_gpa + 8, W_VAL);
	nested->skip_insn(&vcpu, &x);
	if ((why = nested->npt_set(&vcpu, (2ul << 30) + (ab_gpa - win), gpa_of((const void *)c),
				   L2_NPT_RWX)))
		return stage_fail(r, "npt_set(split the 2 MiB leaf): %s", why);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "%s; a 2 MiB leaf (GPA 2 GiB -> 0x%lx) read at two pages, split, one "
			  "page remapped and the other kept", no1g ? "1 GiB leaf not offered" :
			  "a 1 GiB leaf (GPA 1 GiB -> 0) read and written", win);
}
