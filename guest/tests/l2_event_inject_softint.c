// SPDX-License-Identifier: MIT
/*
 * l2.event.inject-softint: software interrupts and software exceptions L1
 * injects return past the instruction that raised them: INT 0x80 (CD 80,
 * 2 bytes), INT3 (CC, 1 byte, #BP) and INTO (CE, 1 byte, #OF). SDM 26.6.1.3:
 * VM entry pushes GUEST_RIP + the VM-entry instruction length; APM 15.20:
 * EVENTINJ type 4 (INTn) or 3 pushes the RIP in the VMCB, which L1 has
 * moved past the instruction (no NRIPS under QEMU; NextRIP with NRIPS).
 *
 * L2 runs hypercall, INT 0x80, hypercall, INT3, hypercall, INTO, hypercall
 * in one block of code. At each hypercall L1 steps over it, so L2's RIP is
 * at the INT instruction, and injects that instruction's event with its
 * length: the instruction itself must never run. If the length is lost,
 * L2 resumes at the INT instruction and runs it again (the handler runs
 * twice; INTO is invalid in 64-bit mode and raises #UD).
 */
#include "test.h"
#include "l2_irq.h"

static volatile u64 seen_vector, seen_rip;
static volatile u32 seen_count;

static void l2_record(struct exc_frame *f)
{
	seen_vector = f->vector;
	seen_rip = f->rip;
	seen_count++;
}

/* Hypercall, then the instruction L1 injects the event of, three times; a last hypercall. */
#define SOFTINT_SEQ(hc) hc "\n\t.byte 0xcd, 0x80\n\t" hc "\n\t.byte 0xcc\n\t" hc "\n\t" \
			".byte 0xce\n\t" hc "\n\t"

static void l2_code(u64 unused)
{
	u64 rax = L2_HC_RAX(L2_HC_USER);

	(void)unused;
	l2_irq_idt_load();
	l2_irq_set_handler(0x80, l2_record);
	l2_set_handler(3, l2_record);
	l2_set_handler(4, l2_record);
	if (l2_use_vmmcall)
		__asm__ volatile(SOFTINT_SEQ(".byte 0x0f, 0x01, 0xd9") : "+a"(rax) :: "memory");
	else
		__asm__ volatile(SOFTINT_SEQ(".byte 0x0f, 0x01, 0xc1") : "+a"(rax) :: "memory");
}

static const struct {
	u8 vector, len;
	enum l2_event type;
	const char *name;
} events[3] = {
	{ 0x80, 2, L2_EVENT_SOFTINT, "INT 0x80" },
	{ 3, 1, L2_EVENT_SOFT_EXCEPTION, "INT3 (#BP)" },
	{ 4, 1, L2_EVENT_SOFT_EXCEPTION, "INTO (#OF)" },
};

NVM_TEST(L2_EVENT_INJECT_SOFTINT)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;
	u64 next = 0;

	seen_count = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (int i = 0; i <= 3; i++) {
		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER)
			return nested_unexpected(&vcpu, &x, i ? "L2's hypercall after the injected event" :
						 "L2's first hypercall", r);
		if (i) {
			const char *n = events[i - 1].name;

			if (seen_count != (u32)i)
				return stage_fail(r, "after the injected %s L2's handlers ran %u times in "
						  "all, expected %d", n, seen_count, i);
			if (seen_vector != events[i - 1].vector || seen_rip != next)
				return stage_fail(r, "injected %s: handler saw vector 0x%lx, return RIP "
						  "0x%lx; expected vector 0x%x, RIP 0x%lx (past the %u-byte "
						  "instruction)", n, seen_vector, seen_rip,
						  events[i - 1].vector, next, events[i - 1].len);
			if (x.rip != next)
				return stage_fail(r, "after the injected %s L2 went on at 0x%lx, expected "
						  "0x%lx", n, x.rip, next);
		}
		nested->skip_insn(&vcpu, &x);
		if (i == 3)
			break;
		stage_detail(r, "%s at L2 RIP 0x%lx injected with length %u", events[i].name, vcpu.rip,
			     events[i].len);
		next = vcpu.rip + events[i].len;
		nested->inject_sw(&vcpu, events[i].vector, events[i].type, events[i].len);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "INT 0x80, INT3 and INTO injected with lengths 2, 1, 1 ran L2's handler "
			  "once each and returned past the instruction");
}
