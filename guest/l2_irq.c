// SPDX-License-Identifier: MIT
/*
 * L2's 256-vector IDT (guest/l2_irq.h). Runs in L2: no VMM channel.
 */
#include "l2_irq.h"

struct l2_gate { u64 lo, hi; };

static struct l2_gate l2_irq_idt[256] __attribute__((aligned(16)));
static l2_handler l2_irq_handlers[256];
extern const char l2_irq_stubs[];

void l2_irq_set_handler(u8 vector, l2_handler h)
{
	l2_irq_handlers[vector] = h;
}

/* Called by l2_irq_common (guest/l2_irq.S) on L2's stack. */
void l2_irq_dispatch(struct exc_frame *f);
void l2_irq_dispatch(struct exc_frame *f)
{
	l2_handler h = l2_irq_handlers[f->vector & 255];

	if (h) {
		h(f);
		return;
	}
	l2_hypercall(L2_HC_EXCEPTION, f->vector, 0, f->rip);
}

/* SDM 6.14.1: 64-bit interrupt gates (type 0xE, present, DPL 0) on L1's code selector. */
void l2_irq_idt_load(void)
{
	struct dtr cur, idtr = { sizeof(l2_irq_idt) - 1, gpa_of(l2_irq_idt) };
	const struct l2_gate *old;

	__asm__ volatile("sidt %0" : "=m"(cur));
	old = (const struct l2_gate *)(uintptr_t)cur.base;
	for (unsigned int v = 0; v < 32 && v * 16 + 15 <= cur.limit; v++)
		l2_irq_idt[v] = old[v];
	for (unsigned int v = 32; v < 256; v++) {
		u64 a = (u64)(uintptr_t)(l2_irq_stubs + (v - 32) * 16);

		l2_irq_idt[v].lo = (a & 0xffff) | ((u64)L1_SEL_CODE << 16) | (0x8eull << 40) |
				   ((a >> 16 & 0xffff) << 48);
		l2_irq_idt[v].hi = a >> 32;
	}
	__asm__ volatile("lidt %0" :: "m"(idtr) : "memory");
}
