// SPDX-License-Identifier: MIT
/*
 * l2.tsc.offset: L2's RDTSC returns L1's TSC plus the offset L1 gave it,
 * modulo 2^64, at every entry, and keeps counting up across exits.
 *
 * AMD (APM 15.30.5 "TSC Offset": RDTSC in the guest returns TSC +
 * VMCB.TSC_OFFSET). Intel (SDM 26.6.5 / 27.5 and 25.6.5: with "use TSC
 * offsetting" and no "RDTSC exiting", RDTSC returns TSC + the TSC offset;
 * TSC scaling is not used: neither of our L0s offers a ratio).
 * Each round L1 reads its TSC (t0), enters L2, which reads its TSC and
 * hypercalls it back, and reads its TSC again (t1): L2's value minus the
 * offset must lie in [t0, t1], and each round's value above the last.
 * Offsets: +2^62 and -2^62 (L2's TSC wraps below L1's), 4 rounds each.
 */
#include "npt_test.h"

#define ROUNDS 4

static void l2_code(u64 unused)
{
	(void)unused;
	for (int i = 0; i < ROUNDS; i++)
		l2_hypercall(L2_HC_USER, rdtsc(), 0, 0);
}

static enum nvm_status run(u64 offset, const char *name, struct stage_result *r)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	struct l2_cfg cfg = { .entry = l2_code, .tsc_offset = offset };
	u64 prev = 0;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (int i = 0; i < ROUNDS; i++) {
		u64 t0 = rdtsc(), t1, l2;

		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		t1 = rdtsc();
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER)
			return nested_unexpected(&vcpu, &x, "L2's TSC report", r);
		l2 = x.hc.arg0;
		if (i == 0)
			stage_detail(r, "offset %s 0x%lx: L1 0x%lx..0x%lx, L2 0x%lx (L2 - offset 0x%lx)",
				     name, offset, t0, t1, l2, l2 - offset);
		/* Unsigned: L2 - offset - t0 <= t1 - t0, whatever wraps. */
		if (l2 - offset - t0 > t1 - t0)
			return stage_fail(r, "offset %s 0x%lx, round %d: L2's TSC 0x%lx minus the offset "
					  "is 0x%lx, outside L1's 0x%lx..0x%lx (TSC_OFFSET not applied "
					  "as L1 set it)", name, offset, i, l2, l2 - offset, t0, t1);
		if (i && (long)(l2 - prev) <= 0)
			return stage_fail(r, "offset %s, round %d: L2's TSC went from 0x%lx to 0x%lx",
					  name, i, prev, l2);
		prev = l2;
		nested->skip_insn(&vcpu, &x);
	}
	return nested_run_to_done(&vcpu, r);
}

NVM_TEST(L2_TSC_OFFSET)
{
	if (run(1ul << 62, "+2^62", r) != NVM_PASS || run(-(1ul << 62), "-2^62", r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "L2's RDTSC = L1's TSC + TSC offset (+2^62 and -2^62) in each of %d "
			  "rounds, increasing across exits", ROUNDS);
}
