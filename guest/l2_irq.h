/* SPDX-License-Identifier: MIT */
/*
 * Interrupt vectors 32-255 for L2 (event-injection and interrupt tests):
 * L2's own IDT (guest/l2.c) has the 32 exception vectors only. L2 code
 * calls l2_irq_idt_load() first: it loads a 256-gate IDT whose gates 0-31
 * are those of the IDT L2 runs on (so l2_set_handler keeps working) and
 * whose gates 32-255 lead to stubs (guest/l2_irq.S) that call the handler
 * set here, with the same struct exc_frame (error code 0). A vector without
 * a handler is reported to L1 as L2_HC_EXCEPTION (vector, 0, RIP).
 */
#ifndef NESTVMM_GUEST_L2_IRQ_H
#define NESTVMM_GUEST_L2_IRQ_H

#include "l2.h"

void l2_irq_idt_load(void);
void l2_irq_set_handler(u8 vector, l2_handler h);

#endif
