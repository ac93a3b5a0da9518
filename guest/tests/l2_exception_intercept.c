// SPDX-License-Identifier: MIT
/*
 * l2.exception.intercept: exceptions L1 intercepts exit to L1 with the vector,
 * the error code and the RIP of the faulting instruction, and never reach
 * L2's own IDT (APM 15.12 "Exception Intercepts": EXITINFO1 holds the error
 * code; SDM 27.2.2 "Information for VM Exits Due to Vectored Events": the
 * VM-exit interruption information and error code).
 *
 * L2 executes UD2 (#UD, no error code), then loads DS with selector 0x1233
 * (GDT index 0x246, RPL 3), which lies beyond L1's GDT limit: #GP with error
 * code 0x1230, the selector with its RPL bits cleared (SDM 6.13 "Error Code":
 * index, TI=0, IDT=0, EXT=0). L1 steps over each faulting instruction
 * itself: an exception exit has no instruction length.
 */
#include "test.h"

extern const char l2_exc_ud[], l2_exc_gp[];

static void __attribute__((noinline)) l2_code(u64 unused)
{
	(void)unused;
	__asm__ volatile(".global l2_exc_ud\n"
			 "l2_exc_ud: ud2\n\t"
			 "mov $0x1233, %%eax\n\t"
			 ".global l2_exc_gp\n"
			 "l2_exc_gp: mov %%eax, %%ds\n\t"      /* 8E D8: 2 bytes */
			 ::: "rax", "memory");
}

static enum nvm_status expect_exception(struct l2_vcpu *vcpu, u8 vector, bool has_err, u32 err,
					const char *at, struct stage_result *r)
{
	struct l2_exit x;
	const char *what = vector == X86_VEC_UD ? "the intercepted #UD" : "the intercepted #GP";

	if (nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_EXCEPTION || x.vector != vector)
		return nested_unexpected(vcpu, &x, what, r);
	stage_detail(r, "%s: exit 0x%lx at RIP 0x%lx, error code %s0x%x", what, x.raw, x.rip,
		     x.has_error_code ? "" : "(none) ", x.error_code);
	if (x.rip != gpa_of(at))
		return stage_fail(r, "%s exited at L2 RIP 0x%lx, expected the faulting instruction at 0x%lx",
				  what, x.rip, gpa_of(at));
	if (x.has_error_code != has_err || (has_err && x.error_code != err))
		return stage_fail(r, "%s: error code %s0x%x, expected %s0x%x", what,
				  x.has_error_code ? "" : "none, ", x.error_code,
				  has_err ? "" : "none, ", err);
	vcpu->rip = x.rip + 2;                    /* UD2 and MOV DS,AX are 2 bytes each */
	return NVM_PASS;
}

NVM_TEST(L2_EXCEPTION_INTERCEPT)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code,
			      .intercept_exceptions = (1u << X86_VEC_UD) | (1u << X86_VEC_GP) };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_exception(&vcpu, X86_VEC_UD, false, 0, l2_exc_ud, r) != NVM_PASS ||
	    expect_exception(&vcpu, X86_VEC_GP, true, 0x1230, l2_exc_gp, r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "#UD and #GP(0x1230) exited to L1 with vector, error code and RIP; "
			  "L2's IDT saw neither");
}
