// SPDX-License-Identifier: MIT
/*
 * l2.event.inject-nmi: an NMI L1 injects runs L2's NMI handler (vector 2)
 * once, before L2's next instruction, with the return RIP L1 resumes L2 at
 * (APM 15.20 "Event Injection", type 2 NMI; SDM 26.6.1.1, type 2 NMI).
 * The handler makes a hypercall of its own: an exit and re-entry while L2
 * is inside its NMI handler must neither deliver the NMI again nor lose
 * L2's place (the handler's IRET returns to the RIP L1 resumed L2 at).
 */
#include "test.h"

#define HC_IN_NMI (L2_HC_USER + 1)

static volatile u64 seen_vector, seen_rip;
static volatile u32 seen_count;

static void l2_nmi(struct exc_frame *f)
{
	seen_vector = f->vector;
	seen_rip = f->rip;
	seen_count++;
	l2_hypercall(HC_IN_NMI, seen_count, 0, 0);
}

static void l2_code(u64 unused)
{
	(void)unused;
	l2_set_handler(2, l2_nmi);
	u64 resume = l2_hypercall(L2_HC_USER, 2, 0, 0);
	L2_ASSERT(seen_count == 1, "injected NMI: L2's NMI handler ran %u times, expected once",
		  seen_count);
	L2_ASSERT(seen_vector == 2, "injected NMI arrived as vector %lu", seen_vector);
	L2_ASSERT(seen_rip == resume, "injected NMI: frame RIP 0x%lx, L1 resumed L2 at 0x%lx",
		  seen_rip, resume);
}

NVM_TEST(L2_EVENT_INJECT_NMI)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;

	seen_count = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS || nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER)
		return nested_unexpected(&vcpu, &x, "L2's request for an NMI", r);
	nested->skip_insn(&vcpu, &x);
	vcpu.gpr[L2_RAX] = vcpu.rip;
	nested->inject(&vcpu, 2, L2_EVENT_NMI, false, 0);
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != HC_IN_NMI)
		return nested_unexpected(&vcpu, &x, "the hypercall from L2's NMI handler", r);
	if (x.hc.arg0 != 1)
		return stage_fail(r, "L2's NMI handler ran %lu times before its hypercall, expected once",
				  x.hc.arg0);
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "the NMI L1 injected ran L2's NMI handler once, with the return RIP; "
			  "an exit from inside the handler did not repeat it");
}
