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

/* One stub per vector 0-31, the common path to exception_handler() and the table. */
#include "exc_stubs.h"
	EXC_STUBS exc, exception_handler

	.bss
	.balign 16
	.skip 16384
	.global l1_stack_top
l1_stack_top:
