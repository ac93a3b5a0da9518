// SPDX-License-Identifier: MIT
/*
 * l2.irq.window: with an interrupt window requested, L2 exits exactly when
 * it becomes able to take a maskable interrupt, not before: while
 * RFLAGS.IF=0 it runs on (its next hypercall exits as a hypercall), and
 * after STI it exits once the STI's interrupt shadow (one instruction) is
 * over, at the instruction after the one that follows STI. VMX:
 * "interrupt-window exiting" (SDM 26.7.5, exit reason 7; 27.2.3 blocking
 * by STI). SVM: V_IRQ pending with the VINTR intercept (APM 15.21.4,
 * VMEXIT_VINTR), V_INTR_MASKING and V_IGN_TPR set.
 */
#include "test.h"

extern const char l2_win_hc_a[], l2_win_open_a[], l2_win_hc_i[], l2_win_open_i[];

/* RAX is L2_HC_RAX(L2_HC_USER) at each hypercall; L2 starts with IF=0. One copy per vendor. */
#define WINDOW_SEQ(hc, v) hc "\n\t" "nop\n\t.global l2_win_hc_" v "\nl2_win_hc_" v ": " hc "\n\t" \
		       "sti\n\tnop\n\t.global l2_win_open_" v "\nl2_win_open_" v ": " hc "\n\tcli\n\t"

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u64 rax = L2_HC_RAX(L2_HC_USER);

	(void)unused;
	if (l2_use_vmmcall)
		__asm__ volatile(WINDOW_SEQ(".byte 0x0f, 0x01, 0xd9", "a") : "+a"(rax) :: "memory");
	else
		__asm__ volatile(WINDOW_SEQ(".byte 0x0f, 0x01, 0xc1", "i") : "+a"(rax) :: "memory");
}

NVM_TEST(L2_IRQ_WINDOW)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;
	u64 hc_at, open_at;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	/* vcpu_reset chose the hypercall instruction: the labels of that copy. */
	hc_at = gpa_of(l2_use_vmmcall ? l2_win_hc_a : l2_win_hc_i);
	open_at = gpa_of(l2_use_vmmcall ? l2_win_open_a : l2_win_open_i);
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER)
		return nested_unexpected(&vcpu, &x, "L2's first hypercall", r);
	nested->skip_insn(&vcpu, &x);
	nested->irq_window(&vcpu, true);

	/* IF=0: L2 runs on to its next hypercall. */
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.rip != hc_at)
		return nested_unexpected(&vcpu, &x, "L2's hypercall at l2_win_hc with RFLAGS.IF=0 "
					 "(the window is closed)", r);
	nested->skip_insn(&vcpu, &x);

	/* STI; NOP: the window opens after the NOP. */
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_INTR || x.intr != L2_INTR_WINDOW)
		return nested_unexpected(&vcpu, &x, "the interrupt-window exit after STI; NOP", r);
	if (x.rip != open_at)
		return stage_fail(r, "interrupt-window exit at L2 RIP 0x%lx, expected 0x%lx (after STI "
				  "and the one instruction of its shadow)", x.rip, open_at);
	if (!(vcpu.rflags & RFLAGS_IF))
		return stage_fail(r, "interrupt-window exit with L2's RFLAGS 0x%lx: IF=0", vcpu.rflags);
	nested->irq_window(&vcpu, false);

	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.rip != open_at)
		return nested_unexpected(&vcpu, &x, "L2's hypercall at l2_win_open", r);
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "no interrupt-window exit while IF=0; one exactly after STI and its "
			  "shadow, at 0x%lx", open_at);
}
