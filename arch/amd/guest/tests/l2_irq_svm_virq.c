// SPDX-License-Identifier: MIT
/*
 * l2.irq.svm.virq: a virtual interrupt L1 posts in the VMCB (V_IRQ with
 * V_INTR_VECTOR, V_IGN_TPR, V_INTR_MASKING; APM 15.21.4 "Injecting
 * Virtual (INTR) Interrupts", 15.21.1 "Virtualizing APIC.TPR") waits
 * while L2 has RFLAGS.IF=0, then is taken through L2's IDT at
 * V_INTR_VECTOR right after STI and its one-instruction shadow; the
 * processor clears V_IRQ when it takes it, and L1 sees that in the VMCB
 * after the next exit (V_IRQ set until then).
 */
#include "test.h"
#include "l2_irq.h"
#include "../svm_event.h"

#define VIRQ_VECTOR 0x42

extern const char l2_virq_open[];
static volatile u64 seen_vector, seen_rip;
static volatile u32 seen_count;

static void l2_record(struct exc_frame *f)
{
	seen_vector = f->vector;
	seen_rip = f->rip;
	seen_count++;
}

static void l2_code(u64 unused)
{
	u64 rax = L2_HC_RAX(L2_HC_USER);

	(void)unused;
	l2_irq_idt_load();
	l2_irq_set_handler(VIRQ_VECTOR, l2_record);
	/* Three VMMCALLs: L1 posts V_IRQ after the first; IF=0 until the STI. */
	__asm__ volatile("vmmcall\n\tnop\n\tvmmcall\n\tsti\n\tnop\n\t"
			 ".global l2_virq_open\nl2_virq_open: cli\n\tvmmcall\n\t"
			 : "+a"(rax) :: "memory");
}

static enum nvm_status next_hc(struct l2_vcpu *vcpu, struct l2_exit *x, const char *what,
			       struct stage_result *r)
{
	if (nested_enter(vcpu, x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x->kind != L2_EXIT_HYPERCALL || x->hc.code != L2_HC_USER)
		return nested_unexpected(vcpu, x, what, r);
	nested->skip_insn(vcpu, x);
	return NVM_PASS;
}

NVM_TEST(L2_IRQ_SVM_VIRQ)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;
	struct vmcb *v;

	seen_count = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    next_hc(&vcpu, &x, "L2's first VMMCALL", r) != NVM_PASS)
		return NVM_FAIL;
	v = vcpu.vendor;
	v->control.vintr = SVM_V_IRQ | SVM_V_IGN_TPR | SVM_V_INTR_MASKING |
			   (0xfull << SVM_V_INTR_PRIO_SHIFT) |
			   ((u64)VIRQ_VECTOR << SVM_V_INTR_VECTOR_SHIFT);
	stage_detail(r, "L1 posted V_INTR (VMCB 060h)=0x%lx", v->control.vintr);

	if (next_hc(&vcpu, &x, "L2's second VMMCALL, with RFLAGS.IF=0", r) != NVM_PASS)
		return NVM_FAIL;
	if (seen_count)
		return stage_fail(r, "the virtual interrupt reached L2 (vector 0x%lx, RIP 0x%lx) while "
				  "its RFLAGS.IF=0 (V_INTR_MASKING=1)", seen_vector, seen_rip);
	if (!(v->control.vintr & SVM_V_IRQ))
		return stage_fail(r, "V_IRQ clear in the VMCB after an exit with IF=0 (V_INTR 0x%lx): "
				  "the pending virtual interrupt was dropped", v->control.vintr);

	if (next_hc(&vcpu, &x, "L2's VMMCALL after STI", r) != NVM_PASS)
		return NVM_FAIL;
	if (seen_count != 1 || seen_vector != VIRQ_VECTOR || seen_rip != gpa_of(l2_virq_open))
		return stage_fail(r, "after STI: L2's handler ran %u times, last with vector 0x%lx at "
				  "RIP 0x%lx; expected once, vector 0x%x at 0x%lx (after STI; NOP)",
				  seen_count, seen_vector, seen_rip, VIRQ_VECTOR, gpa_of(l2_virq_open));
	if (v->control.vintr & SVM_V_IRQ)
		return stage_fail(r, "V_IRQ still set in the VMCB (V_INTR 0x%lx) after L2 took the "
				  "virtual interrupt", v->control.vintr);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "V_IRQ vector 0x%x waited for RFLAGS.IF, reached L2's IDT once after STI "
			  "and its shadow, and the VMCB's V_IRQ was cleared", VIRQ_VECTOR);
}
