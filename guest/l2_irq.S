/* SPDX-License-Identifier: MIT */
/*
 * Stubs for L2's interrupt vectors 32-255 (guest/l2_irq.h): 16 bytes
 * each from l2_irq_stubs, so the stub of vector v is at
 * l2_irq_stubs + (v - 32) * 16. Each pushes error code 0 and its vector,
 * as the exception stubs do (guest/exc_stubs.h), and jumps to the same
 * common path (EXC_COMMON), which calls l2_irq_dispatch(frame).
 */
#include "exc_stubs.h"

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

	EXC_COMMON l2_irq, l2_irq_dispatch
