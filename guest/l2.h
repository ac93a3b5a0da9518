/* SPDX-License-Identifier: MIT */
/*
 * The tiny library L2 code uses. L2 runs in 64-bit ring 0 on L1's GDT, on
 * its own stack and its own IDT (guest/l2.c), and reaches L1 only through
 * l2_hypercall(): VMMCALL on AMD, VMCALL on Intel, the function code in RAX
 * (enum l2_hc in guest/nested.h) and up to three arguments in RDI, RSI, RDX.
 * L1 may set RAX before it resumes L2: that is the hypercall's return value.
 *
 * L2 code must not call L1 functions that talk to the VMM (chan_send,
 * TRACE, GUEST_ASSERT): its port I/O exits to L1, not to the VMM.
 */
#ifndef NESTVMM_GUEST_L2_H
#define NESTVMM_GUEST_L2_H

#include "nested.h"

/* 1 when L2 must use VMMCALL (AMD), 0 for VMCALL (Intel); set by vcpu_reset. */
extern u8 l2_use_vmmcall;

u64 l2_hypercall(u64 code, u64 a0, u64 a1, u64 a2);

/* Report a failed check in L2 to L1 (L2_HC_FAIL); L1 fails the test with it. */
void __attribute__((noreturn)) l2_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define L2_ASSERT(cond, ...) do { if (!(cond)) l2_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)

/*
 * Load every general-purpose register but RSP and RAX with a pattern from
 * seed (see l2_gpr_pattern), make an L2_HC_PING hypercall, and count the
 * registers that came back changed: L1 and L0 must keep L2's GPRs intact
 * across the exit and the re-entry.
 */
unsigned int l2_gpr_probe(u64 seed);
static inline u64 l2_gpr_pattern(u64 seed, enum l2_gpr reg)
{
	return (seed << 8) ^ (0x5a5a000000000000ull | ((u64)reg << 48) | reg);
}

/* Exception handlers L2 code may install in its own IDT (NULL: report to L1). */
struct exc_frame;
typedef void (*l2_handler)(struct exc_frame *f);
void l2_set_handler(u8 vector, l2_handler h);

/* Where L2 starts: l2_start(arg, entry) on L2's stack; vendor code points RIP here. */
void l2_start(u64 arg, void (*entry)(u64));
/* L2's IDT, for the vendor code to put in the VMCB/VMCS. */
void l2_idt_get(struct dtr *idtr);

#endif
