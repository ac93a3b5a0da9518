// SPDX-License-Identifier: MIT
/*
 * l2.timer.vmx.preemption: the VMX-preemption timer L1 gives L2 (SDM 26.5.1
 * "VMX-Preemption Timer", 26.7.4, 27.2.1.1, 28.2 exit reason 52). KVM does
 * not hand L1's timer to the CPU: it emulates it for L2 with a host timer
 * (nested_vmx_start_preemption_timer), and delivers the exit itself, so
 * this is KVM's code, not the CPU's, under test. Three rounds:
 *
 *   1. value 0: the exit (reason 52) comes before L2 runs any instruction,
 *      so L2's RIP at the exit is its entry point;
 *   2. a small value while L2 spins on RDTSC for far longer than the timer
 *      should run: the exit comes, at a RIP inside the loop, and with "save
 *      VMX-preemption timer value" the saved value is 0 (28.3.4);
 *   3. a large value and an L2 that hypercalls at once: no timer exit, and
 *      the value saved at that exit has counted down but not expired, so
 *      the next entry (which loads it) would resume the count.
 *
 * The timer counts down once per 2^X TSC ticks, X = IA32_VMX_MISC[4:0].
 */
#include "test.h"
#include "../vmx_check.h"

#define SMALL_VALUE 64u                /* timer units for round 2 */
#define LARGE_VALUE 0x7fffffffu        /* round 3: must not expire */
#define SPIN_FACTOR 4096u              /* round 2: L2 spins this many timer periods */

extern const char l2_timer_spin[];

/* Round 2: spin on RDTSC until `ticks` have passed; tell L1 if the timer never fired. */
static void __attribute__((noinline)) l2_spin(u64 ticks)
{
	u64 start = rdtsc(), now;

	__asm__ volatile(".global l2_timer_spin\nl2_timer_spin:" ::: "memory");
	do
		now = rdtsc();
	while (now - start < ticks);
	l2_hypercall(L2_HC_RAX(L2_HC_USER), now - start, 0, 0);
}

/* Round 3: one hypercall right away, then done. */
static void l2_ping(u64 unused)
{
	(void)unused;
	l2_hypercall(L2_HC_RAX(L2_HC_PING), 0, 0, 0);
}

/* Reset L2 with entry/arg, then arm the timer with `value` and save its value at exits. */
static enum nvm_status timer_reset(struct l2_vcpu *vcpu, void (*entry)(u64), u64 arg, u32 value,
				   struct stage_result *r)
{
	struct l2_cfg cfg = { .entry = entry, .arg = arg };

	if (nested->vcpu_reset(vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_EXIT], VM_EXIT_SAVE_VMX_PREEMPTION_TIMER))
		return stage_fail(r, "the L0 offers the preemption timer but not the exit control "
				  "\"save VMX-preemption timer value\" (bit 22)");
	if (vmx_check_write(PIN_BASED_VM_EXEC_CONTROL,
			    vmx_check_read(PIN_BASED_VM_EXEC_CONTROL) | PIN_BASED_VMX_PREEMPTION_TIMER) ||
	    vmx_check_write(VM_EXIT_CONTROLS,
			    vmx_check_read(VM_EXIT_CONTROLS) | VM_EXIT_SAVE_VMX_PREEMPTION_TIMER) ||
	    vmx_check_write(VMCS_PREEMPTION_TIMER_VALUE, value))
		return stage_fail(r, "VMWRITE of the preemption-timer controls or value failed: "
				  "VM-instruction error %lu", vmx_check_read(VM_INSTRUCTION_ERROR));
	return NVM_PASS;
}

static bool is_timer_exit(const struct l2_exit *x)
{
	return x->kind == L2_EXIT_OTHER && x->raw == EXIT_REASON_PREEMPTION_TIMER;
}

NVM_TEST(L2_TIMER_VMX_PREEMPTION)
{
	unsigned int rate = vmx_caps.misc & 0x1f;   /* IA32_VMX_MISC[4:0] */
	u64 spin = ((u64)SMALL_VALUE << rate) * SPIN_FACTOR;
	struct l2_vcpu vcpu;
	struct l2_exit x;
	u64 saved;

	/* Round 1: value 0 exits before L2's first instruction (26.7.4). */
	if (timer_reset(&vcpu, l2_ping, 0, 0, r) != NVM_PASS ||
	    nested->enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (!is_timer_exit(&x))
		return nested_unexpected(&vcpu, &x, "a preemption-timer exit (52) before L2's first "
					 "instruction (timer value 0)", r);
	if (x.rip != (u64)(uintptr_t)l2_start)
		return stage_fail(r, "timer value 0: the exit came at L2 RIP 0x%lx, expected its "
				  "entry point 0x%lx (no instruction may run, SDM 26.7.4)", x.rip,
				  (u64)(uintptr_t)l2_start);

	/* Round 2: a small value expires while L2 spins. */
	if (timer_reset(&vcpu, l2_spin, spin, SMALL_VALUE, r) != NVM_PASS ||
	    nested->enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind == L2_EXIT_HYPERCALL && x.hc.code == L2_HC_USER)
		return stage_fail(r, "timer value %u (x 2^%u TSC ticks) never expired: L2 spun for "
				  "0x%lx ticks, %u times as long, without a preemption-timer exit",
				  SMALL_VALUE, rate, x.hc.arg0, SPIN_FACTOR);
	if (!is_timer_exit(&x))
		return nested_unexpected(&vcpu, &x, "a preemption-timer exit (52) while L2 spins", r);
	saved = vmx_check_read(VMCS_PREEMPTION_TIMER_VALUE);
	stage_detail(r, "round 2: exit 52 at L2 RIP 0x%lx (spin loop at 0x%lx), saved value 0x%lx",
		     x.rip, (u64)(uintptr_t)l2_timer_spin, saved);
	if (saved != 0)
		return stage_fail(r, "after the preemption-timer exit the saved timer value is 0x%lx, "
				  "expected 0 (SDM 28.3.4)", saved);

	/* Round 3: a large value does not expire before L2's hypercall, and counts down. */
	if (timer_reset(&vcpu, l2_ping, 0, LARGE_VALUE, r) != NVM_PASS ||
	    nested->enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_PING)
		return nested_unexpected(&vcpu, &x, "L2's PING with timer value 0x7fffffff", r);
	saved = vmx_check_read(VMCS_PREEMPTION_TIMER_VALUE);
	stage_detail(r, "round 3: PING exit, saved value 0x%lx of 0x%x", saved, LARGE_VALUE);
	if (saved == 0 || saved >= LARGE_VALUE)
		return stage_fail(r, "after L2's hypercall the saved timer value is 0x%lx, expected "
				  "below 0x%x (it counted) and above 0 (it did not expire)", saved,
				  LARGE_VALUE);
	return stage_pass(r, "value 0 exited before L2's first instruction; value %u (2^%u TSC ticks "
			  "each) expired while L2 spun, saving 0; a large value counted down to 0x%lx "
			  "by L2's hypercall", SMALL_VALUE, rate, saved);
}
