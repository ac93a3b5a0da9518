/* SPDX-License-Identifier: MIT */
/*
 * Stubs for L2's interrupt vectors 32-255 (guest/l2_irq.h): 16 bytes
 * each from l2_irq_stubs, so the stub of vector v is at
 * l2_irq_stubs + (v - 32) * 16. Each pushes error code 0 and its vector,
 * as the exception stubs do (guest/exc_stubs.h), then the GPRs, calls
 * l2_irq_dispatch(frame) and returns with IRETQ.
 */
	.text
	.balign 16
	.global l2_irq_stubs
l2_irq_stubs:
	.set	vec, 32
	.rept	224
	pushq	$0
	pushq	$vec
	jmp	l2_irq_common
	.balign	16
	.set	vec, vec + 1
	.endr

l2_irq_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	mov	%rsp, %rdi
	call	l2_irq_dispatch
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	add	$16, %rsp		/* vector and error code */
	iretq
