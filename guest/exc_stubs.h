/* SPDX-License-Identifier: MIT */
/*
 * Exception stubs for vectors 0-31, shared by L1 (guest/entry.S) and L2
 * (guest/l2_entry.S): each stub pushes a zero error code where the CPU
 * pushes none, so every frame has the same layout (struct exc_frame in
 * guest/l1.h), then the vector, and jumps to a common path that saves the
 * GPRs, calls a C handler with the frame and returns with IRETQ.
 *
 * EXC_STUBS prefix, handler: defines prefix_stub_0..31, prefix_common
 * calling handler (EXC_COMMON), and the table prefix_stubs (32 quadwords,
 * in .rodata).
 */

/* Vectors with an error code: 8, 10-14, 17, 21, 29, 30. */
.macro EXC_STUB prefix, vec
	.global \prefix\()_stub_\vec
\prefix\()_stub_\vec:
	.if \vec - 8 && (\vec < 10 || \vec > 14) && \vec - 17 && \vec - 21 && \vec - 29 && \vec - 30
	pushq	$0
	.endif
	pushq	$\vec
	jmp	\prefix\()_common
.endm

/*
 * EXC_COMMON prefix, handler: the path every stub jumps to (prefix_common):
 * save the GPRs, call handler(frame), restore them, drop vector and error
 * code, IRETQ. Also used by L2's interrupt stubs (guest/l2_irq.S).
 */
.macro EXC_COMMON prefix, handler
\prefix\()_common:
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
	call	\handler
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
.endm

.macro EXC_STUBS prefix, handler
	.text
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	EXC_STUB \prefix, \v
	.endr

	EXC_COMMON \prefix, \handler

	.section .rodata
	.global \prefix\()_stubs
	.balign 8
\prefix\()_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad \prefix\()_stub_\v
	.endr
	.text
.endm
