// SPDX-License-Identifier: MIT
/*
 * l2.event.inject-extint: external interrupts L1 injects reach L2's IDT at
 * their vector, once, with the return RIP and RFLAGS L1 resumes L2 with,
 * and the interrupt gate clears RFLAGS.IF inside the handler (APM 15.20
 * "Event Injection", type 0 INTR; SDM 26.6 "Event Injection", 26.6.1.1,
 * type 0 external interrupt; SDM 6.12.1.3: an interrupt gate clears IF).
 *
 * SDM 26.3.1.4 lets VM entry inject an external interrupt only with
 * RFLAGS.IF=1, so L1 sets IF in L2's RFLAGS for both vendors: the frame's
 * RFLAGS must show it, and L2 must run with IF=1 again after the IRET.
 * Two vectors, 0x41 and 0xee, so that a vector cut to fewer bits, or the
 * first one delivered twice, shows.
 */
#include "test.h"
#include "l2_irq.h"

static const u8 vectors[2] = { 0x41, 0xee };
static volatile u64 seen_vector, seen_rip, seen_rflags, seen_inside_rflags;
static volatile u32 seen_count;

static void l2_record(struct exc_frame *f)
{
	u64 fl;

	__asm__ volatile("pushfq; popq %0" : "=r"(fl));
	seen_vector = f->vector;
	seen_rip = f->rip;
	seen_rflags = f->rflags;
	seen_inside_rflags = fl;
	seen_count++;
}

static void l2_code(u64 unused)
{
	(void)unused;
	l2_irq_idt_load();
	for (int i = 0; i < 2; i++) {
		u64 resume, fl;

		l2_irq_set_handler(vectors[i], l2_record);
		resume = l2_hypercall(L2_HC_USER, vectors[i], 0, 0);
		__asm__ volatile("pushfq; popq %0; cli" : "=r"(fl) :: "memory");
		L2_ASSERT(seen_count == (u32)i + 1, "after injecting vector 0x%x: L2's handlers ran %u "
			  "times in all, expected %d", vectors[i], seen_count, i + 1);
		L2_ASSERT(seen_vector == vectors[i], "injected vector 0x%x arrived as vector 0x%lx",
			  vectors[i], seen_vector);
		L2_ASSERT(seen_rip == resume, "vector 0x%x: frame RIP 0x%lx, L1 resumed L2 at 0x%lx",
			  vectors[i], seen_rip, resume);
		L2_ASSERT(seen_rflags & RFLAGS_IF, "vector 0x%x: frame RFLAGS 0x%lx has IF=0, L1 "
			  "entered L2 with IF=1", vectors[i], seen_rflags);
		L2_ASSERT(!(seen_inside_rflags & RFLAGS_IF), "vector 0x%x: RFLAGS 0x%lx in the handler: "
			  "IF=1 through an interrupt gate", vectors[i], seen_inside_rflags);
		L2_ASSERT(fl & RFLAGS_IF, "vector 0x%x: RFLAGS 0x%lx after the handler's IRET: IF=0",
			  vectors[i], fl);
	}
}

NVM_TEST(L2_EVENT_INJECT_EXTINT)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;

	seen_count = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (int i = 0; i < 2; i++) {
		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER || x.hc.arg0 != vectors[i])
			return nested_unexpected(&vcpu, &x, "L2's request for an external interrupt", r);
		nested->skip_insn(&vcpu, &x);
		vcpu.gpr[L2_RAX] = vcpu.rip;
		vcpu.rflags |= RFLAGS_IF;
		nested->inject(&vcpu, vectors[i], L2_EVENT_EXTINT, false, 0);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (seen_count != 2)
		return stage_fail(r, "L2 finished, but its handlers ran %u times, expected 2", seen_count);
	return stage_pass(r, "external interrupts 0x41 and 0xee injected by L1 reached L2's IDT once "
			  "each, with the return RIP and RFLAGS.IF=1, IF=0 in the handler");
}
