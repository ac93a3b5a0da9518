// SPDX-License-Identifier: MIT
/*
 * l2.state.interrupt-shadow: an exit right after STI or MOV SS reports
 * that L2 was in an interrupt shadow, and an exit outside one does not.
 *
 * APM vol. 2, 15.21.5 "Interrupt Shadows": the VMCB's INTERRUPT_SHADOW bit
 * (offset 068h, bit 0) says whether the guest is in an interrupt shadow at
 * #VMEXIT; it is saved there (15.6) for either cause. SDM vol. 3C, 25.4.2
 * table 25-3 "Format of Interruptibility State": bit 0 blocking by STI,
 * bit 1 blocking by MOV SS, saved at every VM exit (28.3.4).
 *
 * L2 makes three hypercalls: one with interrupts off and no shadow, one
 * as the instruction right after STI, one right after MOV SS (with
 * interrupts off again). L1 reads the interruptibility state after each.
 * L2 runs with no interrupt source of its own, and L1 programs none.
 */
#include "test.h"

#define HC_PLAIN   L2_HC_USER
#define HC_STI     (L2_HC_USER + 1)
#define HC_MOV_SS  (L2_HC_USER + 2)

static void l2_code(u64 unused)
{
	u64 code;

	(void)unused;
	l2_hypercall(HC_PLAIN, 0, 0, 0);
	/* The hypercall is the one instruction in STI's shadow. */
	code = L2_HC_RAX(HC_STI);
	if (l2_use_vmmcall)
		__asm__ volatile("sti\n\tvmmcall\n\tcli" : "+a"(code) :: "memory");
	else
		__asm__ volatile("sti\n\tvmcall\n\tcli" : "+a"(code) :: "memory");
	/* And the one in MOV SS's (SS reloaded with itself). */
	code = L2_HC_RAX(HC_MOV_SS);
	if (l2_use_vmmcall)
		__asm__ volatile("mov %%ss, %%ecx\n\tmov %%ecx, %%ss\n\tvmmcall"
				 : "+a"(code) :: "rcx", "memory");
	else
		__asm__ volatile("mov %%ss, %%ecx\n\tmov %%ecx, %%ss\n\tvmcall"
				 : "+a"(code) :: "rcx", "memory");
}

/* How the vendor names the state: SVM has one bit, VMX tells STI from MOV SS. */
static const char *shadow_name(u32 s)
{
	if (nested->virt[0] == 'S')
		return s ? "INTERRUPT_SHADOW=1" : "INTERRUPT_SHADOW=0";
	return !s ? "no blocking" : s == L2_SHADOW_STI ? "blocking by STI" :
	       s == L2_SHADOW_MOV_SS ? "blocking by MOV SS" : "blocking by STI and by MOV SS";
}

static enum nvm_status step(struct l2_vcpu *vcpu, u64 code, u32 want, bool if_set,
			    const char *what, struct stage_result *r)
{
	struct l2_exit x;
	struct l2_state s;

	if (nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != code)
		return nested_unexpected(vcpu, &x, what, r);
	nested->state_get(vcpu, &s);
	if (!(s.saved & L2_ST_SHADOW))
		return stage_fail(r, "the vendor code says the exit does not save the interrupt shadow");
	if (s.shadow != want) {
		nested->describe(vcpu, r);
		return stage_fail(r, "%s: the exit reports %s, expected %s", what, shadow_name(s.shadow),
				  shadow_name(want));
	}
	if (!!(s.rflags & RFLAGS_IF) != if_set)
		return stage_fail(r, "%s: L2's RFLAGS=0x%lx, expected IF=%d", what, s.rflags, if_set);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_STATE_INTERRUPT_SHADOW)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	/* SVM has one shadow bit for both causes. */
	u32 mov_ss = nested->virt[0] == 'S' ? L2_SHADOW_STI : L2_SHADOW_MOV_SS;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    step(&vcpu, HC_PLAIN, 0, false, "the hypercall outside any shadow", r) != NVM_PASS ||
	    step(&vcpu, HC_STI, L2_SHADOW_STI, true, "the hypercall right after STI", r) != NVM_PASS ||
	    step(&vcpu, HC_MOV_SS, mov_ss, false, "the hypercall right after MOV SS", r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "no shadow outside one; %s after STI and after MOV SS",
			  nested->virt[0] == 'S' ? "INTERRUPT_SHADOW=1" :
			  "blocking by STI resp. by MOV SS");
}
