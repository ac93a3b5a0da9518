// SPDX-License-Identifier: MIT
/*
 * l2.event.exitintinfo: an exit during the delivery of an event reports
 * that event, and once L1 delivers it again L2's handler runs exactly once
 * (APM 15.7.2 "Exit Interrupt Information": EXITINTINFO; SDM 28.2.4
 * "Information for VM Exits During Event Delivery": IDT-vectoring
 * information and error code; 26.6 for the re-injection).
 *
 * With nested paging, L1 makes the page holding L2's stack not present and
 * injects an event: pushing its frame causes a nested page fault / EPT
 * violation on that page, which must carry the injected event (valid,
 * vector, type, error code) while L2's RIP is still where L1 resumed it.
 * L1 maps the page again, re-injects the event from EXITINTINFO / the
 * IDT-vectoring fields, and L2's handler must then see it once. Three
 * events: #GP with error code 0x1230 (an exception), external interrupt
 * 0x41, and INT 0x80 injected as a software interrupt of length 2 (CD 80):
 * its re-injection must keep the return RIP past the instruction (VMX: the
 * exit reports the length, 28.2.5, and RIP stays at the instruction; SVM
 * without NRIPS: RIP stays where L1 moved it, past the instruction).
 *
 * The INT 0x80 round runs on SVM only where the L0 offers NRIPS. Without
 * it, KVM loses the event: when an exit during its delivery is one KVM
 * handles itself (here: a nested page fault on its own shadow of the
 * re-mapped page), KVM re-injects the INTn by decoding the instruction at
 * RIP (svm_update_soft_interrupt_rip, EMULTYPE_SKIP_SOFT_INT), finds no
 * INTn there because L1 moved RIP past it as APM 15.20 requires, and
 * drops it. Seen under the QEMU L0 (no NRIPS) with Linux 6.12.
 */
#include "test.h"
#include "l2_irq.h"

static volatile u64 seen_vector, seen_error, seen_rip;
static volatile u32 seen_count;
static volatile bool run_soft;   /* set by L1: the INT 0x80 round runs */

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
	l2_irq_idt_load();
	l2_set_handler(X86_VEC_GP, l2_record);
	l2_irq_set_handler(0x41, l2_record);

	u64 resume = l2_hypercall(L2_HC_USER, X86_VEC_GP, 0, 0);
	L2_ASSERT(seen_count == 1, "#GP delivered again after the exit: L2's handler ran %u times, "
		  "expected once", seen_count);
	L2_ASSERT(seen_vector == X86_VEC_GP && seen_error == 0x1230 && seen_rip == resume,
		  "#GP(0x1230) at 0x%lx arrived as vector %lu, error code 0x%lx, RIP 0x%lx",
		  resume, seen_vector, seen_error, seen_rip);

	resume = l2_hypercall(L2_HC_USER, 0x41, 0, 0);
	__asm__ volatile("cli" ::: "memory");
	L2_ASSERT(seen_count == 2, "interrupt 0x41 delivered again after the exit: L2's handlers ran "
		  "%u times in all, expected twice", seen_count);
	L2_ASSERT(seen_vector == 0x41 && seen_rip == resume,
		  "interrupt 0x41 at 0x%lx arrived as vector 0x%lx, RIP 0x%lx", resume, seen_vector,
		  seen_rip);

	if (!run_soft)
		return;
	/* Hypercall, then the INT 0x80 L1 injects the event of (never run itself). */
	l2_irq_set_handler(0x80, l2_record);
	resume = L2_HC_RAX(L2_HC_USER);
	if (l2_use_vmmcall)
		__asm__ volatile(".byte 0x0f, 0x01, 0xd9, 0xcd, 0x80" : "+a"(resume) : "D"(0x80ul) : "memory");
	else
		__asm__ volatile(".byte 0x0f, 0x01, 0xc1, 0xcd, 0x80" : "+a"(resume) : "D"(0x80ul) : "memory");
	L2_ASSERT(seen_count == 3, "INT 0x80 re-injected after the exit: L2's handlers ran %u times "
		  "in all, expected 3", seen_count);
	L2_ASSERT(seen_vector == 0x80 && seen_rip == resume, "INT 0x80: handler saw vector 0x%lx, "
		  "return RIP 0x%lx; expected 0x%lx, past the instruction", seen_vector, seen_rip, resume);
}

static const struct {
	u8 vector;
	enum l2_event type;
	bool has_err;
	u32 err;
	const char *name;
} events[3] = {
	{ X86_VEC_GP, L2_EVENT_EXCEPTION, true, 0x1230, "#GP(0x1230)" },
	{ 0x41, L2_EVENT_EXTINT, false, 0, "external interrupt 0x41" },
	{ 0x80, L2_EVENT_SOFTINT, false, 0, "INT 0x80 (software interrupt, 2 bytes)" },
};

/* The exit the unmapped stack page causes must name the event L1 injected. */
static enum nvm_status check_event(struct l2_vcpu *vcpu, const struct l2_exit *x, int i,
				   u64 resume, u64 stack, struct stage_result *r)
{
	const struct l2_exit_event *e = &x->event;

	if (x->kind != L2_EXIT_NPF || (x->gpa & ~0xfffull) != stack)
		return nested_unexpected(vcpu, x, "a nested page fault on L2's stack page", r);
	stage_detail(r, "%s: NPF at GPA 0x%lx, RIP 0x%lx, event valid=%d vector 0x%x type %u "
		     "error code %s0x%x (raw 0x%lx)", events[i].name, x->gpa, x->rip, e->valid,
		     e->vector, e->type, e->has_error_code ? "" : "(none) ", e->error_code, e->raw);
	if (!e->valid)
		return stage_fail(r, "the NPF during the delivery of %s reports no event "
				  "(EXITINTINFO / IDT-vectoring information 0x%lx: valid bit clear)",
				  events[i].name, e->raw);
	if (e->vector != events[i].vector || e->type != events[i].type ||
	    e->has_error_code != events[i].has_err || e->error_code != events[i].err)
		return stage_fail(r, "the NPF during the delivery of %s reports vector 0x%x type %u "
				  "error code %s0x%x, expected vector 0x%x type %u error code %s0x%x",
				  events[i].name, e->vector, e->type, e->has_error_code ? "" : "none, ",
				  e->error_code, events[i].vector, events[i].type,
				  events[i].has_err ? "" : "none, ", events[i].err);
	if (x->rip != resume)
		return stage_fail(r, "the NPF during the delivery of %s: L2 RIP 0x%lx, expected 0x%lx "
				  "(the event was not delivered)", events[i].name, x->rip, resume);
	/* 28.2.5: for a software event the exit reports the length VM entry used. */
	if (events[i].type == L2_EVENT_SOFTINT && !nested_is_svm() && e->insn_len != 2)
		return stage_fail(r, "the EPT violation during the delivery of %s reports VM-exit "
				  "instruction length %u, expected 2", events[i].name, e->insn_len);
	return NVM_PASS;
}

NVM_TEST(L2_EVENT_EXITINTINFO)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .nested_paging = true };
	struct l2_exit x;
	u64 stack;

	seen_count = 0;
	run_soft = !nested_is_svm() || (nested_features & NVM_REQ(NRIPS));
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	stack = gpa_of(vcpu.stack);
	for (int i = 0; i < (run_soft ? 3 : 2); i++) {
		u64 resume, back;

		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER ||
		    x.hc.arg0 != events[i].vector)
			return nested_unexpected(&vcpu, &x, "L2's request for an event", r);
		if (seen_count != (u32)i)
			return stage_fail(r, "L2's handlers ran %u times before event %d, "
					  "expected %d", seen_count, i + 1, i);
		nested->skip_insn(&vcpu, &x);
		/* Where the handler returns to: L2 checks its frame against RAX. */
		back = vcpu.rip + (events[i].type == L2_EVENT_SOFTINT ? 2 : 0);
		vcpu.gpr[L2_RAX] = back;
		vcpu.rflags |= RFLAGS_IF;       /* SDM 26.3.1.4: an injected INTR needs IF=1 */
		nested->npt_map(&vcpu, stack, stack, false, false);
		if (events[i].type == L2_EVENT_SOFTINT)
			nested->inject_sw(&vcpu, events[i].vector, events[i].type, 2);
		else
			nested->inject(&vcpu, events[i].vector, events[i].type, events[i].has_err,
				       events[i].err);
		resume = vcpu.rip;              /* SVM's inject_sw moved it past the INT */
		if (nested_enter(&vcpu, &x, r) != NVM_PASS ||
		    check_event(&vcpu, &x, i, resume, stack, r) != NVM_PASS)
			return NVM_FAIL;
		nested->npt_map(&vcpu, stack, stack, true, true);
		nested->reinject(&vcpu, &x);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (!run_soft)
		return stage_pass(r, "#GP(0x1230) and interrupt 0x41, injected onto a not-present stack "
				  "page, exited with the event in EXITINTINFO; re-injected, each ran L2's "
				  "handler once (INT 0x80 round not run: no NRIPS, KVM then drops a "
				  "re-injected INTn, see the test's file)");
	return stage_pass(r, "#GP(0x1230), interrupt 0x41 and INT 0x80, injected onto a not-present "
			  "stack page, exited with the event in EXITINTINFO / IDT vectoring; "
			  "re-injected, each ran L2's handler once, INT 0x80 returning past itself");
}
