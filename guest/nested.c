// SPDX-License-Identifier: MIT
/*
 * The vendor-neutral half of the nested API (guest/nested.h): what every
 * test does with an exit, written once over the normalised struct l2_exit.
 */
#include "nested.h"

const struct nested_ops *nested;
u32 nested_features;

const char *l2_exit_kind_name(enum l2_exit_kind k)
{
	static const char *const names[] = {
		[L2_EXIT_HYPERCALL] = "hypercall", [L2_EXIT_EXCEPTION] = "exception",
		[L2_EXIT_NPF] = "nested page fault", [L2_EXIT_IO] = "I/O",
		[L2_EXIT_MSR] = "MSR access", [L2_EXIT_CPUID] = "CPUID", [L2_EXIT_HLT] = "HLT",
		[L2_EXIT_INTR] = "interrupt", [L2_EXIT_SHUTDOWN] = "shutdown",
		[L2_EXIT_INVALID] = "failed entry", [L2_EXIT_OTHER] = "other exit",
		/* the intercepts (issue 10 item 3) */
		[L2_EXIT_RDTSC] = "RDTSC", [L2_EXIT_RDTSCP] = "RDTSCP", [L2_EXIT_RDPMC] = "RDPMC",
		[L2_EXIT_INVLPG] = "INVLPG", [L2_EXIT_PAUSE] = "PAUSE", [L2_EXIT_CR] = "CR access",
		[L2_EXIT_DR] = "DR access",
	};
	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

enum nvm_status nested_unexpected(struct l2_vcpu *vcpu, const struct l2_exit *x,
				  const char *expected, struct stage_result *r)
{
	nested->describe(vcpu, r);
	switch (x->kind) {
	case L2_EXIT_INVALID:
		return stage_fail(r, "expected %s, but the entry failed: %s (raw 0x%lx)", expected,
				  x->why, x->raw);
	case L2_EXIT_EXCEPTION:
		return stage_fail(r, "expected %s, got %s in L2 at RIP=0x%lx (error code 0x%x%s), exit 0x%lx",
				  expected, exception_name(x->vector), x->rip, x->error_code,
				  x->has_error_code ? "" : ", none", x->raw);
	case L2_EXIT_NPF:
		return stage_fail(r, "expected %s, got a nested page fault at GPA 0x%lx, RIP=0x%lx "
				  "(info 0x%lx), exit 0x%lx", expected, x->gpa, x->rip, x->info1, x->raw);
	case L2_EXIT_HYPERCALL:
		return stage_fail(r, "expected %s, got hypercall 0x%lx(0x%lx, 0x%lx, 0x%lx) at RIP=0x%lx",
				  expected, x->hc.code, x->hc.arg0, x->hc.arg1, x->hc.arg2, x->rip);
	default:
		return stage_fail(r, "expected %s, got %s (exit 0x%lx) at L2 RIP=0x%lx, info 0x%lx/0x%lx",
				  expected, l2_exit_kind_name(x->kind), x->raw, x->rip, x->info1, x->info2);
	}
}

/* L2 reports its own failures by hypercall; turn those into the test's reason. */
enum nvm_status nested_enter(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r)
{
	if (nested->enter(vcpu, x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x->kind != L2_EXIT_HYPERCALL)
		return NVM_PASS;
	/* The one hypercall protocol (guest/l2.h): code in RAX, arguments in RDI, RSI, RDX. */
	x->hc.code = vcpu->gpr[L2_RAX];
	x->hc.arg0 = vcpu->gpr[L2_RDI];
	x->hc.arg1 = vcpu->gpr[L2_RSI];
	x->hc.arg2 = vcpu->gpr[L2_RDX];
	/* RAX as L2 left it: the code and its complement (L2_HC_RAX). */
	if (x->hc.code != L2_HC_RAX((u32)x->hc.code)) {
		nested->describe(vcpu, r);
		return stage_fail(r, "hypercall at L2 RIP=0x%lx with RAX=0x%lx, which is no code L2 "
				  "sends (code in bits 31:0, its complement in 63:32): L2's RAX changed "
				  "between its VMMCALL/VMCALL and L1 (L0 saves RAX in the VMCB/VMCS "
				  "on the exit)", x->rip, x->hc.code);
	}
	x->hc.code = (u32)x->hc.code;
	if (x->hc.code == L2_HC_FAIL) {
		const struct l2_report *rep = (const struct l2_report *)(uintptr_t)x->hc.arg0;
		/* L2 is ours, but its pointer is still checked before L1 follows it. */
		if (x->hc.arg0 < 4096 || x->hc.arg0 + sizeof(*rep) > l1_mem_size())
			return stage_fail(r, "L2 reported a failure with a bad report pointer 0x%lx",
					  x->hc.arg0);
		/* L1's vsnprintf has no precision: copy with a terminator of our own. */
		char msg[sizeof(rep->msg)];
		memcpy(msg, rep->msg, sizeof(msg));
		msg[sizeof(msg) - 1] = '\0';
		return stage_fail(r, "L2 assertion failed at %s:%u: %s",
				  rep->file ? rep->file : "?", rep->line, msg);
	}
	if (x->hc.code == L2_HC_EXCEPTION) {
		nested->describe(vcpu, r);
		return stage_fail(r, "L2 took %s (vector %lu, error code 0x%lx) at RIP=0x%lx "
				  "through its own IDT", exception_name((u8)x->hc.arg0), x->hc.arg0,
				  x->hc.arg1, x->hc.arg2);
	}
	return NVM_PASS;
}

enum nvm_status nested_run_to_done(struct l2_vcpu *vcpu, struct stage_result *r)
{
	struct l2_exit x;

	if (nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_DONE)
		return nested_unexpected(vcpu, &x, "L2's DONE hypercall", r);
	if (x.hc.arg0)
		return stage_fail(r, "L2 finished with result 0x%lx, expected 0", x.hc.arg0);
	return NVM_PASS;
}

/*
 * --migrate: reach the VMM after every L2 exit, so that it can save the vCPU
 * and restore it into a fresh VM there, with L2's state in the VMCB/VMCS
 * between two entries (vmm/run.c migrate_after_exit). The vendor's enter is
 * wrapped once, so tests that call nested->enter directly sync too.
 */
static struct nested_ops sync_ops;
static enum nvm_status (*vendor_enter)(struct l2_vcpu *, struct l2_exit *, struct stage_result *);

static enum nvm_status enter_then_sync(struct l2_vcpu *vcpu, struct l2_exit *x,
				       struct stage_result *r)
{
	enum nvm_status st = vendor_enter(vcpu, x, r);

	chan_flush();
	return st;
}

void nested_sync_after_exits(void)
{
	if (!nested || nested == &sync_ops)
		return;
	sync_ops = *nested;
	vendor_enter = nested->enter;
	sync_ops.enter = enter_then_sync;
	nested = &sync_ops;
}
