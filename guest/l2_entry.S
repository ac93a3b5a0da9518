/* SPDX-License-Identifier: MIT */
/*
 * L2's side of the world, in assembly: the register probe behind l2.run and
 * L2's exception stubs. L2 runs on L1's GDT with L1's code selector, on its
 * own stack and its own IDT (guest/l2.c builds the IDT from l2_exc_stubs).
 */

/*
 * unsigned int l2_gpr_probe(u64 seed)
 * Every GPR but RSP and RAX gets l2_gpr_pattern(seed, reg) (guest/l2.h:
 * (seed << 8) ^ (0x5a5a << 48 | reg << 48 | reg)), RAX = L2_HC_RAX(L2_HC_PING), then
 * VMMCALL (AMD) or VMCALL (Intel). Back in L2, count the registers that
 * differ from their pattern. enum l2_gpr numbers: RBX 1, RCX 2, RDX 3,
 * RSI 4, RDI 5, RBP 6, R8-R15 8-15.
 */
#define L2_HC_PING_RAX 0xfffffb1c000004e3	/* L2_HC_RAX(L2_HC_PING), guest/nested.h */

.macro PATTERN reg, num
	movq	%r11, %rax		/* r11 = seed << 8, kept until last */
	xorq	$(\num), %rax
	movabsq	$(0x5a5a000000000000 | (\num << 48)), %r10
	xorq	%r10, %rax
	movq	%rax, \reg
.endm

.macro CHECK reg, num
	movq	8(%rsp), %r10		/* seed << 8 */
	xorq	$(\num), %r10
	movabsq	$(0x5a5a000000000000 | (\num << 48)), %rax
	xorq	%rax, %r10
	cmpq	%r10, \reg
	je	1f
	incl	(%rsp)
1:
.endm

	.text
	.global l2_gpr_probe
l2_gpr_probe:
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	shlq	$8, %rdi
	pushq	%rdi			/* 8(%rsp) after the next push: seed << 8 */
	pushq	$0			/* (%rsp): mismatches */
	movq	%rdi, %r11
	PATTERN	%rbx, 1
	PATTERN	%rcx, 2
	PATTERN	%rdx, 3
	PATTERN	%rsi, 4
	PATTERN	%rbp, 6
	PATTERN	%r8, 8
	PATTERN	%r9, 9
	PATTERN	%r12, 12
	PATTERN	%r13, 13
	PATTERN	%r14, 14
	PATTERN	%r15, 15
	PATTERN	%rdi, 5
	/* r10 and r11 last: they were the scratch registers above. */
	movq	%r11, %rax
	xorq	$11, %rax
	movabsq	$(0x5a5a000000000000 | (11 << 48)), %r10
	xorq	%rax, %r10
	movq	%r10, %r11
	movq	8(%rsp), %rax
	xorq	$10, %rax
	movabsq	$(0x5a5a000000000000 | (10 << 48)), %r10
	xorq	%rax, %r10
	movabsq	$L2_HC_PING_RAX, %rax
	cmpb	$0, l2_use_vmmcall(%rip)
	je	2f
	vmmcall
	jmp	3f
2:	vmcall
3:	/* Check r10 and r11 first, before CHECK uses them. */
	pushq	%r11
	pushq	%r10
	movq	24(%rsp), %rax		/* seed << 8 */
	xorq	$10, %rax
	movabsq	$(0x5a5a000000000000 | (10 << 48)), %r10
	xorq	%r10, %rax
	cmpq	%rax, (%rsp)
	je	4f
	incl	16(%rsp)
4:	movq	24(%rsp), %rax
	xorq	$11, %rax
	movabsq	$(0x5a5a000000000000 | (11 << 48)), %r10
	xorq	%r10, %rax
	cmpq	%rax, 8(%rsp)
	je	5f
	incl	16(%rsp)
5:	addq	$16, %rsp
	CHECK	%rbx, 1
	CHECK	%rcx, 2
	CHECK	%rdx, 3
	CHECK	%rsi, 4
	CHECK	%rdi, 5
	CHECK	%rbp, 6
	CHECK	%r8, 8
	CHECK	%r9, 9
	CHECK	%r12, 12
	CHECK	%r13, 13
	CHECK	%r14, 14
	CHECK	%r15, 15
	popq	%rax			/* mismatches */
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	ret

/* L2's exception stubs: the same frame as L1's (struct exc_frame), another handler. */
#include "exc_stubs.h"
	EXC_STUBS l2_exc, l2_exception
