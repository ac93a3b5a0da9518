// SPDX-License-Identifier: MIT
/*
 * l2.bench.round-trip: how many cycles one L1 -> L2 -> L1 round trip takes
 * (enter, a PING hypercall exit, skip it), without and, where the L0 offers
 * it, with nested paging. It fails only if an exit is not the PING; the
 * numbers are for scripts/bench.sh --l0 (details: round_trip_cycles ...).
 */
#include "test.h"

#define MAX_ROUNDS 1000          /* --iterations is 1-1000 */

static u64 cycles[MAX_ROUNDS];

static void l2_code(u64 rounds)
{
	for (u64 i = 0; i < rounds; i++)
		l2_hypercall(L2_HC_PING, i, 0, 0);
}

static enum nvm_status measure(bool nested_paging, unsigned int rounds, u64 mmm[3],
			       struct stage_result *r)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .arg = rounds, .nested_paging = nested_paging };
	struct l2_exit x;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (unsigned int i = 0; i < rounds; i++) {
		u64 t0 = rdtsc();
		enum nvm_status st = nested_enter(&vcpu, &x, r);
		cycles[i] = rdtsc() - t0;
		if (st != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_PING || x.hc.arg0 != i)
			return nested_unexpected(&vcpu, &x, "the next PING hypercall", r);
		nested->skip_insn(&vcpu, &x);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	stats_min_med_max(cycles, rounds, mmm);
	stage_detail(r, "round_trip_cycles%s min=%lu median=%lu max=%lu (%u round trips)",
		     nested_paging ? "_nested_paging" : "", mmm[0], mmm[1], mmm[2], rounds);
	return NVM_PASS;
}

NVM_TEST(L2_BENCH_ROUND_TRIP)
{
	unsigned int rounds = l1_cfg.iterations;
	u64 off[3], on[3];
	bool np = nested_features & NVM_REQ(NESTED_PAGING);

	if (rounds > MAX_ROUNDS)
		rounds = MAX_ROUNDS;
	if (!rounds)
		rounds = 1;                  /* a pass must rest on at least one round trip */
	if (measure(false, rounds, off, r) != NVM_PASS)
		return NVM_FAIL;
	if (np) {
		u64 mark = arena_mark();     /* the first L2's tables are not needed any more */
		enum nvm_status st = measure(true, rounds, on, r);
		/* Done with the second L2 before its pages go back (VMX: VMCLEAR it first). */
		if (nested->test_end)
			nested->test_end();
		arena_release(mark);
		if (st != NVM_PASS)
			return NVM_FAIL;
		return stage_pass(r, "%u round trips, median %lu cycles (%lu with nested paging)",
				  rounds, off[1], on[1]);
	}
	return stage_pass(r, "%u round trips, median %lu cycles (no nested paging offered)",
			  rounds, off[1]);
}
