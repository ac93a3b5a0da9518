/* SPDX-License-Identifier: MIT */
/*
 * VM entry and VM exit for L1 (SDM vol. 3C, 28 "VM entries", 29 "VM exits").
 *
 * VM entry loads only RSP, RIP and RFLAGS of L2 from the VMCS; VM exit
 * loads only RSP and RIP of L1 (HOST_RSP, HOST_RIP). So vmx_enter keeps
 * L1's callee-saved registers and the register array pointer on the
 * stack at HOST_RSP, and vmx_exit_host_rip finds them there again.
 */

/* Offsets in struct l2_vcpu's gpr[] (enum l2_gpr, guest/nested.h); RSP (56) is the VMCS's. */
#define R_RAX 0
#define R_RBX 8
#define R_RCX 16
#define R_RDX 24
#define R_RSI 32
#define R_RDI 40
#define R_RBP 48
#define R_R8  64
#define R_R9  72
#define R_R10 80
#define R_R11 88
#define R_R12 96
#define R_R13 104
#define R_R14 112
#define R_R15 120

#define VMCS_HOST_RSP 0x6c14

	.text
/* enum vmx_result vmx_enter(u64 gpr[L2_GPR_COUNT] (rdi), u64 resume (rsi)) */
	.global vmx_enter
vmx_enter:
	push	%rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi			/* regs: 0(%rsp) when L2 exits */

	/* HOST_RSP: one VMWRITE only when this stack position is new. */
	cmp	vmx_host_rsp(%rip), %rsp
	je	1f
	mov	%rsp, vmx_host_rsp(%rip)
	mov	$VMCS_HOST_RSP, %eax
	vmwrite	%rsp, %rax
	jbe	.Lfail			/* CF or ZF: the VMWRITE failed */
1:
	/* L2's registers; RFLAGS (ZF from the test) survives the MOVs. */
	test	%rsi, %rsi
	mov	R_RAX(%rdi), %rax
	mov	R_RBX(%rdi), %rbx
	mov	R_RCX(%rdi), %rcx
	mov	R_RDX(%rdi), %rdx
	mov	R_RSI(%rdi), %rsi
	mov	R_RBP(%rdi), %rbp
	mov	R_R8(%rdi), %r8
	mov	R_R9(%rdi), %r9
	mov	R_R10(%rdi), %r10
	mov	R_R11(%rdi), %r11
	mov	R_R12(%rdi), %r12
	mov	R_R13(%rdi), %r13
	mov	R_R14(%rdi), %r14
	mov	R_R15(%rdi), %r15
	mov	R_RDI(%rdi), %rdi
	jnz	2f
	vmlaunch
	jmp	.Lfail
2:	vmresume
	/* Still here: the instruction failed; CF = VMfailInvalid, ZF = VMfailValid. */
.Lfail:
	pushfq				/* RFLAGS as the failure left it, for vmx_check.c */
	popq	vmx_fail_rflags(%rip)
	mov	$1, %eax		/* VMX_FAIL_INVALID */
	jc	3f
	mov	$2, %eax		/* VMX_FAIL_VALID */
3:	add	$8, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

/* HOST_RIP: every VM exit lands here with RSP = HOST_RSP, RFLAGS = 2. */
	.global vmx_exit_host_rip
vmx_exit_host_rip:
	pushfq				/* RFLAGS as the VM exit loaded it (28.5.3: 2) */
	popq	vmx_exit_rflags(%rip)
	push	%rdi			/* L2's RDI; regs now at 8(%rsp) */
	mov	8(%rsp), %rdi
	mov	%rax, R_RAX(%rdi)
	mov	%rbx, R_RBX(%rdi)
	mov	%rcx, R_RCX(%rdi)
	mov	%rdx, R_RDX(%rdi)
	mov	%rsi, R_RSI(%rdi)
	mov	%rbp, R_RBP(%rdi)
	mov	%r8, R_R8(%rdi)
	mov	%r9, R_R9(%rdi)
	mov	%r10, R_R10(%rdi)
	mov	%r11, R_R11(%rdi)
	mov	%r12, R_R12(%rdi)
	mov	%r13, R_R13(%rdi)
	mov	%r14, R_R14(%rdi)
	mov	%r15, R_R15(%rdi)
	popq	R_RDI(%rdi)
	add	$8, %rsp
	xor	%eax, %eax		/* VMX_OK */
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret

	.bss
	.balign 8
	.global vmx_host_rsp
vmx_host_rsp:
	.quad	0
	.global vmx_fail_rflags, vmx_exit_rflags
vmx_fail_rflags:
	.quad	0
vmx_exit_rflags:
	.quad	0
