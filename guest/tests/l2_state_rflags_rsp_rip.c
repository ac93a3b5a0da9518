// SPDX-License-Identifier: MIT
/*
 * l2.state.rflags-rsp-rip: after an exit, L2's RIP, RSP, RFLAGS and RAX in
 * the VMCB/VMCS are what L2 had at the exiting instruction, and what L1
 * writes there before the next entry is what L2 continues with (APM vol. 2,
 * 15.5.1 / 15.6: VMRUN loads and #VMEXIT saves RFLAGS, RIP, RSP, RAX; SDM
 * vol. 3C, 28.3.1.1 / 28.3.3 "Saving RIP, RSP, RFLAGS, and SSP" and
 * 27.3.2.3 "Loading Guest RIP, RSP, RFLAGS, and SSP").
 *
 * L2 moves to a second stack, sets RFLAGS to a pattern of status and
 * control flags (CF, PF, AF, ZF, SF, DF, OF, AC, ID) with POPF and makes
 * the hypercall at a known address, jumping there with an indirect JMP so
 * that nothing changes the flags in between. L1 checks all four, then
 * resumes L2 with another RFLAGS value and RAX; L2 saves its RFLAGS with
 * PUSHF as its first instruction after the hypercall.
 */
#include "test.h"

#define HC_CHECK   L2_HC_USER
/* CF PF AF ZF SF DF OF AC ID, and the fixed bit 1. */
#define L2_RFLAGS  (0x2ul | 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800 | 0x40000 | 0x200000)
/* What L1 hands back: CF ZF OF, and the fixed bit 1; DF clear for L2's C code. */
#define L1_RFLAGS  (0x2ul | 0x1 | 0x40 | 0x800)
#define L1_RAX     0x0123456789abcdeful

static struct {
	u64 stack_top;             /* L2's second stack */
	u64 rflags_back, rax_back; /* what L2 saw after the re-entry */
} volatile env;

extern const char l2_regs_vmmcall[], l2_regs_vmcall[];

static void l2_code(u64 unused)
{
	u64 flags, rax;

	(void)unused;
	__asm__ volatile("movq %%rsp, %%r12\n\t"
			 "movq %[stack], %%rsp\n\t"
			 "leaq l2_regs_vmcall(%%rip), %%rcx\n\t"
			 "leaq l2_regs_vmmcall(%%rip), %%rdx\n\t"
			 "cmpb $0, %[amd]\n\t"
			 "cmovneq %%rdx, %%rcx\n\t"
			 "movq %[code], %%rax\n\t"
			 "pushq %[fl]\n\t"
			 "popfq\n\t"
			 "jmp *%%rcx\n"
			 ".global l2_regs_vmmcall\n"
			 "l2_regs_vmmcall: vmmcall\n\t"
			 "jmp 1f\n"
			 ".global l2_regs_vmcall\n"
			 "l2_regs_vmcall: vmcall\n"
			 "1: pushfq\n\t"
			 "popq %[flags]\n\t"
			 "cld\n\t"
			 "movq %%r12, %%rsp"
			 : [flags] "=&r"(flags), "=&a"(rax)
			 : [stack] "r"(env.stack_top), [amd] "m"(l2_use_vmmcall),
			   [code] "i"(L2_HC_RAX(HC_CHECK)), [fl] "i"(L2_RFLAGS)
			 : "rcx", "rdx", "r12", "memory", "cc");
	env.rflags_back = flags;
	env.rax_back = rax;
}

NVM_TEST(L2_STATE_RFLAGS_RSP_RIP)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_state s, before;
	struct l2_exit x;
	u64 rip;

	env.stack_top = gpa_of(page_alloc(1)) + 4096;
	env.rflags_back = env.rax_back = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	nested->state_get(&vcpu, &before);
	rip = gpa_of(l2_use_vmmcall ? l2_regs_vmmcall : l2_regs_vmcall);
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != HC_CHECK)
		return nested_unexpected(&vcpu, &x, "L2's hypercall on its second stack", r);
	nested->state_get(&vcpu, &s);
	if (!(s.saved & L2_ST_REGS))
		return stage_fail(r, "the vendor code says the exit does not save RIP/RSP/RFLAGS/RAX");
	if (s.rip != rip || x.rip != rip)
		return stage_fail(r, "after the exit L2's RIP is 0x%lx (exit: 0x%lx), expected 0x%lx "
				  "(its %s)", s.rip, x.rip, rip, l2_use_vmmcall ? "VMMCALL" : "VMCALL");
	if (s.rsp != env.stack_top)
		return stage_fail(r, "after the exit L2's RSP is 0x%lx, expected 0x%lx (its second "
				  "stack; 0x%lx at the entry)", s.rsp, env.stack_top, before.rsp);
	if (s.rflags != L2_RFLAGS)
		return stage_fail(r, "after the exit L2's RFLAGS is 0x%lx, expected 0x%lx (0x%lx at "
				  "the entry)", s.rflags, L2_RFLAGS, before.rflags);
	if (s.rax != L2_HC_RAX(HC_CHECK))
		return stage_fail(r, "after the exit L2's RAX is 0x%lx, expected 0x%lx", s.rax,
				  L2_HC_RAX(HC_CHECK));

	/* The other direction: L1's RIP (past the call), RFLAGS and RAX reach L2. */
	nested->skip_insn(&vcpu, &x);
	s.rip = vcpu.rip;
	s.rflags = L1_RFLAGS;
	s.rax = L1_RAX;
	nested->state_set(&vcpu, &s, L2_ST_REGS);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (env.rflags_back != L1_RFLAGS || env.rax_back != L1_RAX)
		return stage_fail(r, "after the entry L2 saw RFLAGS=0x%lx RAX=0x%lx, expected 0x%lx and "
				  "0x%lx (what L1 put in the %s)", env.rflags_back, env.rax_back,
				  L1_RFLAGS, L1_RAX, nested->virt[0] == 'S' ? "VMCB" : "VMCS / its registers");
	return stage_pass(r, "exit: RIP=0x%lx RSP=0x%lx RFLAGS=0x%lx RAX=0x%lx as L2 left them; "
			  "entry: L2 went on with RFLAGS=0x%lx RAX=0x%lx from L1", rip, env.stack_top,
			  L2_RFLAGS, L2_HC_RAX(HC_CHECK), L1_RFLAGS, L1_RAX);
}
