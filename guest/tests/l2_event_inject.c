// SPDX-License-Identifier: MIT
/*
 * l2.event.inject: an exception L1 injects is delivered through L2's own IDT
 * before L2's next instruction, with its error code when it has one and
 * none when it has not, and the RIP L2 resumes at (APM 15.20 "Event
 * Injection"; SDM 26.6 "Event Injection" and 26.6.1.1 "Details of Vectored
 * Event Injection").
 *
 * L2 asks L1 twice by hypercall; after the first L1 injects #GP with error
 * code 0x1230, after the second #UD. L1 returns in RAX the RIP it resumes L2
 * at, and L2's handlers check each frame against it.
 */
#include "test.h"

static volatile u64 seen_vector, seen_error, seen_rip;
static volatile u32 seen_count;

static void l2_record(struct exc_frame *f)
{
	seen_vector = f->vector;
	seen_error = f->error_code;
	seen_rip = f->rip;
	seen_count++;
}

static void l2_code(u64 unused)
{
	(void)unused;
	l2_set_handler(X86_VEC_GP, l2_record);
	l2_set_handler(X86_VEC_UD, l2_record);

	u64 resume = l2_hypercall(L2_HC_USER, X86_VEC_GP, 0, 0);
	L2_ASSERT(seen_count == 1, "injected #GP: L2's handler ran %u times, expected once", seen_count);
	L2_ASSERT(seen_vector == X86_VEC_GP && seen_error == 0x1230,
		  "injected #GP(0x1230) arrived as vector %lu with error code 0x%lx", seen_vector, seen_error);
	L2_ASSERT(seen_rip == resume, "injected #GP: frame RIP 0x%lx, L1 resumed L2 at 0x%lx",
		  seen_rip, resume);

	resume = l2_hypercall(L2_HC_USER, X86_VEC_UD, 0, 0);
	L2_ASSERT(seen_count == 2, "injected #UD: L2's handlers ran %u times in all, expected twice",
		  seen_count);
	/* No error code pushed: the stub's zero stands in its place. */
	L2_ASSERT(seen_vector == X86_VEC_UD && seen_error == 0,
		  "injected #UD arrived as vector %lu with error code 0x%lx", seen_vector, seen_error);
	L2_ASSERT(seen_rip == resume, "injected #UD: frame RIP 0x%lx, L1 resumed L2 at 0x%lx",
		  seen_rip, resume);
}

NVM_TEST(L2_EVENT_INJECT)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;

	seen_count = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (int i = 0; i < 2; i++) {
		u8 vector = i ? X86_VEC_UD : X86_VEC_GP;

		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER || x.hc.arg0 != vector)
			return nested_unexpected(&vcpu, &x, "L2's request for an injection", r);
		nested->skip_insn(&vcpu, &x);
		vcpu.gpr[L2_RAX] = vcpu.rip;
		nested->inject(&vcpu, vector, L2_EVENT_EXCEPTION, !i, i ? 0 : 0x1230);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "#GP(0x1230) and #UD injected by L1 reached L2's IDT with the right "
			  "error code and return RIP");
}
