// SPDX-License-Identifier: MIT
/*
 * l2.irq.nmi-window: after an NMI L1 injects, L2 stays blocked for NMIs
 * until its handler's IRET, and a requested NMI window opens exactly
 * there, not while the handler still runs (exits from inside it, and the
 * entries after them, keep the blocking).
 *
 * VMX: "NMI-window exiting" with "virtual NMIs" (SDM 26.7.6, 25.3 "virtual
 * NMIs", exit reason 8): the injected NMI sets virtual-NMI blocking, IRET
 * clears it, the exit comes at the interrupted RIP. SVM has no NMI window
 * exit: L1 intercepts IRET (APM 15.9, VMEXIT_IRET 74h), which exits
 * before the IRET runs, with RIP at the IRETQ (48 CF) of L2's stub.
 */
#include "test.h"

#define HC_IN_NMI  (L2_HC_USER + 1)
#define HC_AFTER   (L2_HC_USER + 2)

static volatile u64 seen_rip;
static volatile u32 seen_count;

static void l2_nmi(struct exc_frame *f)
{
	seen_rip = f->rip;
	seen_count++;
	l2_hypercall(HC_IN_NMI, 1, 0, 0);   /* L1 asks for the NMI window here */
	l2_hypercall(HC_IN_NMI, 2, 0, 0);   /* still blocked: a plain hypercall exit */
}

static void l2_code(u64 unused)
{
	(void)unused;
	l2_set_handler(2, l2_nmi);
	u64 resume = l2_hypercall(L2_HC_USER, 2, 0, 0);
	l2_hypercall(HC_AFTER, resume, 0, 0);
	L2_ASSERT(seen_count == 1 && seen_rip == resume, "L2's NMI handler ran %u times, frame RIP "
		  "0x%lx; expected once at 0x%lx", seen_count, seen_rip, resume);
}

static enum nvm_status expect_hc(struct l2_vcpu *vcpu, struct l2_exit *x, u64 code, u64 arg,
				 const char *what, struct stage_result *r)
{
	if (nested_enter(vcpu, x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x->kind != L2_EXIT_HYPERCALL || x->hc.code != code || x->hc.arg0 != arg)
		return nested_unexpected(vcpu, x, what, r);
	nested->skip_insn(vcpu, x);
	return NVM_PASS;
}

NVM_TEST(L2_IRQ_NMI_WINDOW)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;
	bool svm = nested_is_svm();
	u64 resume;

	seen_count = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if (!nested->nmi_window(&vcpu, false))
		return stage_skip(r, "unsupported: the L0 offers no \"virtual NMIs\" / \"NMI-window "
				  "exiting\" (IA32_VMX_PINBASED_CTLS[37], PROCBASED_CTLS[54])");
	if (expect_hc(&vcpu, &x, L2_HC_USER, 2, "L2's request for an NMI", r) != NVM_PASS)
		return NVM_FAIL;
	resume = vcpu.rip;
	vcpu.gpr[L2_RAX] = resume;
	nested->inject(&vcpu, 2, L2_EVENT_NMI, false, 0);
	if (expect_hc(&vcpu, &x, HC_IN_NMI, 1, "the first hypercall in L2's NMI handler", r) != NVM_PASS)
		return NVM_FAIL;
	nested->nmi_window(&vcpu, true);
	if (expect_hc(&vcpu, &x, HC_IN_NMI, 2, "the second hypercall in L2's NMI handler (NMIs "
		      "still blocked: no NMI-window exit)", r) != NVM_PASS)
		return NVM_FAIL;

	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_INTR || x.intr != L2_INTR_NMI_WINDOW)
		return nested_unexpected(&vcpu, &x, svm ? "the IRET intercept at the end of L2's NMI "
					 "handler" : "the NMI-window exit after L2's NMI handler", r);
	if (svm && *(const u16 *)(uintptr_t)x.rip != 0xcf48)
		return stage_fail(r, "VMEXIT_IRET at L2 RIP 0x%lx, which holds 0x%04x, not IRETQ (48 CF)",
				  x.rip, *(const u16 *)(uintptr_t)x.rip);
	if (!svm && x.rip != resume)
		return stage_fail(r, "NMI-window exit at L2 RIP 0x%lx, expected 0x%lx where the NMI "
				  "handler's IRET returns", x.rip, resume);
	stage_detail(r, "%s at L2 RIP 0x%lx", svm ? "VMEXIT_IRET" : "NMI-window exit", x.rip);
	nested->nmi_window(&vcpu, false);
	if (expect_hc(&vcpu, &x, HC_AFTER, resume, "L2's hypercall after its NMI handler", r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "no NMI-window exit inside L2's NMI handler (two exits there); %s",
			  svm ? "VMEXIT_IRET at its IRETQ" : "the NMI-window exit right after its IRET");
}
