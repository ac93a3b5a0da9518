// SPDX-License-Identifier: MIT
/*
 * l2.state.debug: after an exit, L2's DR7 is in the VMCB/VMCS as L2 wrote
 * it, and L2's DR0-DR3, which neither the VMCB nor the VMCS holds, are
 * still in the CPU for L1 to read; the next entry gives L2 its DR7 again.
 *
 * APM vol. 2, 15.5.1 / 15.6: VMRUN loads and #VMEXIT saves DR7 and DR6;
 * DR0-DR3 are the VMM's to switch (15.5.1 "the VMRUN instruction does not
 * save or restore ... DR0-DR3"). SDM vol. 3C, 28.3.1.1: DR7 is saved when
 * the "save debug controls" VM-exit control is 1 (state_save_all sets it);
 * DR0-DR3 are not part of the VMCS (25.4.1), a VM exit leaves them.
 *
 * L2 points DR0-DR3 at four bytes of a page nothing executes and enables
 * DR0 and DR1 as execution breakpoints (local, global, LE/GE) in DR7: no
 * breakpoint can hit, but a stale DR7 (0x400 at the entry) cannot pass.
 */
#include "test.h"

#define HC_CHECK   L2_HC_USER
/* L0 G0 L1 (bits 0-2), LE GE (8, 9), the fixed bit 10; R/W and LEN 0: execution. */
#define L2_DR7     0x707ul

static struct {
	u64 page;                 /* DR0-DR3 point into it; nothing runs there */
	u64 dr7_back;
} volatile env;

#define WRITE_DR(n, v) __asm__ volatile("mov %0, %%dr" #n :: "r"((u64)(v)))
#define READ_DR(n) ({ u64 v_; __asm__ volatile("mov %%dr" #n ", %0" : "=r"(v_)); v_; })

static void l2_code(u64 unused)
{
	(void)unused;
	WRITE_DR(0, env.page);
	WRITE_DR(1, env.page + 0x10);
	WRITE_DR(2, env.page + 0x20);
	WRITE_DR(3, env.page + 0x30);
	WRITE_DR(7, L2_DR7);
	l2_hypercall(HC_CHECK, 0, 0, 0);
	env.dr7_back = READ_DR(7);
	WRITE_DR(7, 0x400);
}

NVM_TEST(L2_STATE_DEBUG)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_state s, before;
	struct l2_exit x;
	u64 dr[4];

	env.page = gpa_of(page_alloc(1));
	env.dr7_back = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested->state_save_all(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	nested->state_get(&vcpu, &before);
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != HC_CHECK)
		return nested_unexpected(&vcpu, &x, "L2's hypercall after writing DR0-DR3 and DR7", r);
	dr[0] = READ_DR(0);
	dr[1] = READ_DR(1);
	dr[2] = READ_DR(2);
	dr[3] = READ_DR(3);
	nested->state_get(&vcpu, &s);
	if (!(s.saved & L2_ST_DR7))
		return stage_fail(r, "the vendor code says the exit does not save DR7");
	if (before.dr7 == L2_DR7)
		return stage_fail(r, "DR7 was already 0x%lx at the entry: the test proves nothing", before.dr7);
	if (s.dr7 != L2_DR7) {
		nested->describe(&vcpu, r);
		return stage_fail(r, "after the exit L2's DR7 in the %s is 0x%lx, expected 0x%lx (what "
				  "L2 wrote; 0x%lx at the entry)", nested->virt[0] == 'S' ? "VMCB" : "VMCS",
				  s.dr7, L2_DR7, before.dr7);
	}
	for (int i = 0; i < 4; i++)
		if (dr[i] != env.page + 0x10 * (u64)i)
			return stage_fail(r, "after the exit L1 reads DR%d=0x%lx, expected L2's 0x%lx "
					  "(no exit switches DR0-DR3)", i, dr[i], env.page + 0x10 * (u64)i);
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (env.dr7_back != L2_DR7)
		return stage_fail(r, "after the re-entry L2 read DR7=0x%lx, expected its 0x%lx",
				  env.dr7_back, L2_DR7);
	return stage_pass(r, "L2's DR7=0x%lx saved at the exit and loaded at the entry; L2's DR0-DR3 "
			  "(0x%lx...) left in the CPU", L2_DR7, env.page);
}
