/* SPDX-License-Identifier: MIT */
/*
 * AMD SVM, L1 side: the world switch into L2 and the L2 stub itself.
 *
 * VMRUN (APM vol. 2, 15.5) saves and loads only RAX, RSP, RIP, RFLAGS and
 * the segment/control registers; every other general-purpose register keeps
 * whatever value it has across both VMRUN and #VMEXIT. So svm_vmrun loads
 * L2's GPRs from a struct svm_gprs before VMRUN and stores them back after
 * #VMEXIT, keeping L1's callee-saved registers on L1's stack (L1's RSP comes
 * back from the host save area at VM_HSAVE_PA).
 *
 * No VMLOAD/VMSAVE: they move FS, GS, TR, LDTR, KernelGsBase and the
 * SYSCALL/SYSENTER MSRs, which VMRUN and #VMEXIT leave alone. L2 runs with
 * L1's values of those and never changes them, so they are still L1's after
 * #VMEXIT; two more intercepted instructions per round trip would buy nothing.
 */

/* struct svm_gprs (svm_l2.c), offsets checked there with static asserts. */
#define G_RBX	0
#define G_RCX	8
#define G_RDX	16
#define G_RSI	24
#define G_RDI	32
#define G_RBP	40
#define G_R8	48
#define G_R9	56
#define G_R10	64
#define G_R11	72
#define G_R12	80
#define G_R13	88
#define G_R14	96
#define G_R15	104

/*
 * u64 svm_vmrun(u64 vmcb_pa, struct svm_gprs *gprs)
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

1:	vmrun	%rax

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

/*
 * The L2 stub. L1 enters it with RDI = mailbox, RBX = rounds done so far,
 * and leaves a token in mailbox[1]. Each round proves L2 ran: it counts in
 * RBX, writes the count to mailbox[0] (the page the nested-paging stage
 * leaves unmapped at first), reads L1's token and writes back its
 * complement (in RAX and mailbox[2]), then VMMCALLs to L1. L1 resumes it
 * after the 3-byte VMMCALL, which loops to the next round.
 */
	.global svm_l2_stub, svm_l2_touch, svm_l2_vmmcall
svm_l2_stub:
	incq	%rbx
svm_l2_touch:
	movq	%rbx, (%rdi)
	movq	8(%rdi), %rax
	notq	%rax
	movq	%rax, 16(%rdi)
svm_l2_vmmcall:
	vmmcall
	jmp	svm_l2_stub
