/* SPDX-License-Identifier: MIT */
/*
 * L1 entry and exception stubs. The VMM enters _start in 64-bit mode with
 * paging on (identity map), interrupts off and RDI = GPA of the device tree.
 */
	.section .text.entry, "ax"
	.global _start
_start:
	/* Our own stack: the VMM makes no promise about RSP. */
	lea	l1_stack_top(%rip), %rsp
	xor	%ebp, %ebp
	call	l1_main
1:	hlt
	jmp	1b

/*
 * One stub per vector 0-31: push a zero error code where the CPU pushes
 * none, so every frame has the same layout, then the vector number.
 */
	.text
.macro EXC_STUB vec, has_err
	.global exc_stub_\vec
exc_stub_\vec:
	.if \has_err == 0
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exc_common
.endm

/* Vectors with an error code: 8, 10-14, 17, 21, 29, 30. */
EXC_STUB 0,0;  EXC_STUB 1,0;  EXC_STUB 2,0;  EXC_STUB 3,0
EXC_STUB 4,0;  EXC_STUB 5,0;  EXC_STUB 6,0;  EXC_STUB 7,0
EXC_STUB 8,1;  EXC_STUB 9,0;  EXC_STUB 10,1; EXC_STUB 11,1
EXC_STUB 12,1; EXC_STUB 13,1; EXC_STUB 14,1; EXC_STUB 15,0
EXC_STUB 16,0; EXC_STUB 17,1; EXC_STUB 18,0; EXC_STUB 19,0
EXC_STUB 20,0; EXC_STUB 21,1; EXC_STUB 22,0; EXC_STUB 23,0
EXC_STUB 24,0; EXC_STUB 25,0; EXC_STUB 26,0; EXC_STUB 27,0
EXC_STUB 28,0; EXC_STUB 29,1; EXC_STUB 30,1; EXC_STUB 31,0

/* Save the GPRs as a struct exc_frame (guest/cpu.c), call the C handler. */
exc_common:
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
	call	exception_handler
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

	.section .rodata
	.global exc_stubs
	.balign 8
exc_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad exc_stub_\v
	.endr

	.bss
	.balign 16
	.skip 16384
	.global l1_stack_top
l1_stack_top:
