/* SPDX-License-Identifier: MIT */
/*
 * AMD SVM, L1 side: the world switch into L2.
 *
 * VMRUN (APM vol. 2, 15.5) saves and loads only RAX, RSP, RIP, RFLAGS and
 * the segment/control registers; every other general-purpose register keeps
 * whatever value it has across both VMRUN and #VMEXIT. So svm_vmrun loads
 * L2's GPRs from the vCPU's gpr array before VMRUN and stores them back after
 * #VMEXIT, keeping L1's callee-saved registers on L1's stack (L1's RSP comes
 * back from the host save area at VM_HSAVE_PA).
 *
 * No VMLOAD/VMSAVE: they move FS, GS, TR, LDTR, KernelGsBase and the
 * SYSCALL/SYSENTER MSRs, which VMRUN and #VMEXIT leave alone. L2 runs with
 * L1's values of those and never changes them, so they are still L1's after
 * #VMEXIT; two more intercepted instructions per round trip would buy nothing.
 */

/* u64 gpr[L2_GPR_COUNT] of struct l2_vcpu (guest/nested.h): enum l2_gpr
 * times 8, checked in svm_nested.c with static asserts. RAX (0) and RSP (56)
 * live in the VMCB's save area instead. */
#define G_RBX	8
#define G_RCX	16
#define G_RDX	24
#define G_RSI	32
#define G_RDI	40
#define G_RBP	48
#define G_R8	64
#define G_R9	72
#define G_R10	80
#define G_R11	88
#define G_R12	96
#define G_R13	104
#define G_R14	112
#define G_R15	120

/* struct svm_vmrun_regs (svm_check.h), checked there with static asserts. */
#define SVM_VR_RAX		0
#define SVM_VR_RSP		8
#define SVM_VR_RFLAGS		16
#define SVM_VR_RSP_BEFORE	24
#define SVM_VR_RFLAGS_BEFORE	32

/*
 * u64 svm_vmrun(u64 vmcb_pa, u64 *gpr)
 * Returns 0 after a #VMEXIT, or (vector + 1) | error_code << 32 when VMRUN
 * itself raised an exception (#UD: EFER.SVME=0, #GP: bad VMCB address or
 * CPL != 0); the IDT handler resumes at 3f through .fixup_table.
 */
	.text
	.global svm_vmrun
svm_vmrun:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rsi			/* gprs: found again after #VMEXIT */

	/* L2's GPRs; RAX, RSP and RIP come from the VMCB's save area. */
	movq	%rdi, %rax		/* VMRUN takes the VMCB's physical address in RAX */
	movq	G_RBX(%rsi), %rbx
	movq	G_RCX(%rsi), %rcx
	movq	G_RDX(%rsi), %rdx
	movq	G_RDI(%rsi), %rdi
	movq	G_RBP(%rsi), %rbp
	movq	G_R8(%rsi), %r8
	movq	G_R9(%rsi), %r9
	movq	G_R10(%rsi), %r10
	movq	G_R11(%rsi), %r11
	movq	G_R12(%rsi), %r12
	movq	G_R13(%rsi), %r13
	movq	G_R14(%rsi), %r14
	movq	G_R15(%rsi), %r15
	movq	G_RSI(%rsi), %rsi

	/* For tests of VMRUN itself (svm_check.h): L1's RSP and RFLAGS at
	 * VMRUN, and RAX, RSP, RFLAGS as #VMEXIT left them. No register is
	 * free here: RIP-relative stores only. */
	movq	%rsp, svm_vmrun_regs+SVM_VR_RSP_BEFORE(%rip)
	pushfq
	popq	svm_vmrun_regs+SVM_VR_RFLAGS_BEFORE(%rip)
1:	vmrun	%rax
	movq	%rax, svm_vmrun_regs+SVM_VR_RAX(%rip)
	movq	%rsp, svm_vmrun_regs+SVM_VR_RSP(%rip)
	pushfq
	popq	svm_vmrun_regs+SVM_VR_RFLAGS(%rip)

	/* #VMEXIT: RAX (= VMCB PA), RSP and RIP are L1's again; the rest is L2's. */
	movq	(%rsp), %rax
	movq	%rbx, G_RBX(%rax)
	movq	%rcx, G_RCX(%rax)
	movq	%rdx, G_RDX(%rax)
	movq	%rsi, G_RSI(%rax)
	movq	%rdi, G_RDI(%rax)
	movq	%rbp, G_RBP(%rax)
	movq	%r8, G_R8(%rax)
	movq	%r9, G_R9(%rax)
	movq	%r10, G_R10(%rax)
	movq	%r11, G_R11(%rax)
	movq	%r12, G_R12(%rax)
	movq	%r13, G_R13(%rax)
	movq	%r14, G_R14(%rax)
	movq	%r15, G_R15(%rax)
	xorl	%eax, %eax
	jmp	4f

	/* VMRUN faulted: r10 = vector + 1, r11 = error code (see ASM_SAFE). */
3:	movq	%r11, %rax
	shlq	$32, %rax
	orq	%r10, %rax

4:	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret

	.pushsection .fixup_table, "a"
	.quad	1b, 3b
	.popsection
