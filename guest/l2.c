// SPDX-License-Identifier: MIT
/*
 * The L2 runtime: where L2 starts, how it calls L1, and its own IDT. All of
 * it runs in L2 (except l2_idt_get, which vendor code calls in L1 to fill
 * the VMCB/VMCS), so none of it may touch the VMM channel.
 */
#include "l2.h"

u8 l2_use_vmmcall;

static struct idt_gate {
	u64 lo, hi;
} l2_idt[32] __attribute__((aligned(16)));
static l2_handler l2_handlers[32];
static struct l2_report l2_report;
extern const u64 l2_exc_stubs[32];

u64 l2_hypercall(u64 code, u64 a0, u64 a1, u64 a2)
{
	u64 ret = L2_HC_RAX(code);

	/* The register protocol is the same for both; only the instruction differs. */
	if (l2_use_vmmcall)
		__asm__ volatile("vmmcall" : "+a"(ret) : "D"(a0), "S"(a1), "d"(a2) : "memory");
	else
		__asm__ volatile("vmcall" : "+a"(ret) : "D"(a0), "S"(a1), "d"(a2) : "memory");
	return ret;
}

void l2_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	l2_report.file = file;
	l2_report.line = (u32)line;
	va_start(ap, fmt);
	vsnprintf(l2_report.msg, sizeof(l2_report.msg), fmt, ap);
	va_end(ap);
	/* L1 ends the test on L2_HC_FAIL; should it resume anyway, ask again. */
	for (;;)
		l2_hypercall(L2_HC_FAIL, gpa_of(&l2_report), 0, 0);
}

/*
 * L2's first instruction: the vendor code sets RIP here, RDI = the test's
 * argument, RSI = its entry, RSP = top of L2's stack minus 8 (as after a call).
 */
void l2_start(u64 arg, void (*entry)(u64))
{
	entry(arg);
	for (;;)
		l2_hypercall(L2_HC_DONE, 0, 0, 0);
}

void l2_set_handler(u8 vector, l2_handler h)
{
	if (vector < 32)
		l2_handlers[vector] = h;
}

/* Called by l2_exc_common (guest/l2_entry.S) on L2's stack. */
void l2_exception(struct exc_frame *f)
{
	l2_handler h = l2_handlers[f->vector & 31];

	if (h) {
		h(f);
		return;
	}
	/* No handler: tell L1, which ends the test unless it expected this. */
	l2_hypercall(L2_HC_EXCEPTION, f->vector, f->error_code, f->rip);
}

/* Gates to L2's stubs, built once (the IDT is read-only after that). */
void l2_idt_get(struct dtr *idtr)
{
	if (!l2_idt[0].lo)
		for (int v = 0; v < 32; v++) {
			u64 a = l2_exc_stubs[v];

			l2_idt[v].lo = (a & 0xffff) | ((u64)L1_SEL_CODE << 16) | (0x8eull << 40) |
				       ((a >> 16 & 0xffff) << 48);
			l2_idt[v].hi = a >> 32;
		}
	idtr->limit = sizeof(l2_idt) - 1;
	idtr->base = gpa_of(l2_idt);
}
