// SPDX-License-Identifier: MIT
/*
 * l2.insn.svm.gif: CLGI and STGI executed by L2 under virtual GIF (AMD APM
 * vol. 2, 15.17 "Global Interrupt Flag, STGI and CLGI Instructions"; the
 * "Virtual GIF" section of chapter 15; VMCB layout, appendix B). With
 * V_GIF_ENABLE (VMCB offset 060h bit 25) set by L1, CLGI/STGI that L1 does not intercept
 * clear/set V_GIF (bit 9) instead of the real GIF; VMRUN loads V_GIF from
 * the VMCB and #VMEXIT writes it back, so L1 reads what L2 did:
 *
 *  1. L2 starts with the V_GIF=1 L1 gave it: at its first hypercall V_GIF=1;
 *  2. after L2's CLGI V_GIF=0; 3. after its STGI V_GIF=1;
 *  4. L1 clears V_GIF before the next VMRUN: at L2's next hypercall it is
 *     still 0 (VMRUN took it from the VMCB);
 *  5. with L1's CLGI intercept set (vector 4 bit 5), L2's CLGI exits with
 *     VMEXIT_CLGI (85h) at the CLGI, before it changes V_GIF (15.9: an
 *     intercepted instruction does not execute).
 *
 * Requires VGIF (CPUID 8000_000Ah:EDX[16]); the real GIF of L1 is not
 * observable here (no interrupt source in L1).
 */
#include "test.h"
#include "../svm_check.h"

#define VINTR_V_GIF         (1ull << 9)    /* VMCB 060h bit 9 */
#define VINTR_V_GIF_ENABLE  (1ull << 25)   /* VMCB 060h bit 25 */
#define SVM_INTERCEPT_STGI  (1u << 4)      /* intercept vector 4 */
#define SVM_INTERCEPT_CLGI  (1u << 5)
#define VMEXIT_CLGI         0x085ull

extern const char l2_gif_clgi_intercepted[];

static void l2_code(u64 unused)
{
	(void)unused;
	l2_hypercall(L2_HC_USER, 1, 0, 0);
	__asm__ volatile("clgi" ::: "memory");
	l2_hypercall(L2_HC_USER, 2, 0, 0);
	__asm__ volatile("stgi" ::: "memory");
	l2_hypercall(L2_HC_USER, 3, 0, 0);
	l2_hypercall(L2_HC_USER, 4, 0, 0);
	__asm__ volatile(".global l2_gif_clgi_intercepted\n"
			 "l2_gif_clgi_intercepted: clgi" ::: "memory");
	l2_hypercall(L2_HC_USER, 5, 0, 0);
}

/* Enter; expect L2's hypercall `step` and V_GIF == want; step past it. */
static enum nvm_status expect_step(struct l2_vcpu *vcpu, u64 step, bool want, const char *after,
				   struct stage_result *r)
{
	const struct vmcb *v = vcpu->vendor;
	struct l2_exit x;
	bool vgif;

	if (nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER || x.hc.arg0 != step)
		return nested_unexpected(vcpu, &x, "L2's step hypercall", r);
	vgif = v->control.vintr & VINTR_V_GIF;
	if (vgif != want)
		return stage_fail(r, "step %lu, %s: V_GIF=%u in the VMCB (V_INTR 0x%lx), expected %u",
				  step, after, vgif, v->control.vintr, want);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_INSN_SVM_GIF)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct vmcb *v;
	struct l2_exit x;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	v = vcpu.vendor;
	v->control.vintr |= VINTR_V_GIF_ENABLE | VINTR_V_GIF;
	if (expect_step(&vcpu, 1, true, "L1 entered with V_GIF=1", r) != NVM_PASS ||
	    expect_step(&vcpu, 2, false, "after L2's CLGI", r) != NVM_PASS ||
	    expect_step(&vcpu, 3, true, "after L2's STGI", r) != NVM_PASS)
		return NVM_FAIL;
	v->control.vintr &= ~VINTR_V_GIF;
	if (expect_step(&vcpu, 4, false, "L1 cleared V_GIF before VMRUN", r) != NVM_PASS)
		return NVM_FAIL;

	/* 5: intercepted, CLGI exits before it executes. */
	v->control.vintr |= VINTR_V_GIF;
	v->control.intercept_misc2 |= SVM_INTERCEPT_CLGI;
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.raw != VMEXIT_CLGI)
		return nested_unexpected(&vcpu, &x, "VMEXIT_CLGI (85h) for L2's intercepted CLGI", r);
	if (x.rip != gpa_of(l2_gif_clgi_intercepted))
		return stage_fail(r, "VMEXIT_CLGI at L2 RIP=0x%lx, expected the CLGI at 0x%lx", x.rip,
				  gpa_of(l2_gif_clgi_intercepted));
	if (!(v->control.vintr & VINTR_V_GIF))
		return stage_fail(r, "the intercepted CLGI cleared V_GIF (V_INTR 0x%lx): it executed",
				  v->control.vintr);
	v->control.intercept_misc2 &= ~SVM_INTERCEPT_CLGI;
	vcpu.rip = x.rip + 3;                      /* CLGI is 0F 01 DD */
	if (expect_step(&vcpu, 5, true, "after the intercepted CLGI", r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "with V_GIF_ENABLE L2's CLGI/STGI cleared/set V_GIF, VMRUN took V_GIF "
			  "from the VMCB, an intercepted CLGI exited (85h) at the CLGI without effect");
}
