// SPDX-License-Identifier: MIT
/*
 * l2.migrate.restore-order: the same save/restore in L2 as l2.migrate.in-l2,
 * with KVM_SET_NESTED_STATE in each valid place among the restore ioctls
 * (vmm/migrate.c): QEMU's order (after sregs and MSRs, before regs and
 * events), after every other ioctl, and after sregs but before the MSRs.
 * KVM documents no required order beyond "sregs first"; bugs where state
 * set before or after the nested state lands in the wrong VMCB/VMCS
 * (vmcb01 vs vmcb02, vmcs01 vs vmcs02) are a known class.
 *
 * L2 (its port I/O passed through) asks for one save/restore per order and,
 * after each, makes an L2_HC_PING hypercall with every GPR but RSP and RAX
 * set to a pattern (l2_gpr_probe): the exit must reach L1 from the restored
 * state, with L2's RIP past the OUT, and the GPRs must come back intact. L1
 * checks each reply (guest/step.c) and, at the end, a page L2 wrote before
 * the first step. Nested paging on where the L0 offers it, else off.
 */
#include "test.h"
#include "step.h"

#define WORDS 512
#define ORDERS 3

static const char *const orders[ORDERS] = {
	"migrate", "migrate-nested-last", "migrate-nested-before-msrs",
};

struct restore_order {
	u64 *page;
	u64 seed;
	struct host_step_reply reply[ORDERS];
	u32 changed[ORDERS];       /* GPRs l2_gpr_probe found changed after each order's restore */
	u32 bad_words, first_bad;
};

static u64 word(u64 seed, u32 i)
{
	return (seed * 0x100000001b3ull) ^ ((u64)i << 32) ^ i;
}

static void l2_code(u64 arg)
{
	struct restore_order *t = (struct restore_order *)(uintptr_t)arg;

	for (u32 i = 0; i < WORDS; i++)
		t->page[i] = word(t->seed, i);
	for (int k = 0; k < ORDERS; k++) {
		host_step(NVM_STAGE_L2_MIGRATE_RESTORE_ORDER, orders[k], t->seed + (u64)k, &t->reply[k]);
		t->changed[k] = l2_gpr_probe(t->seed + (u64)k);
	}
	for (u32 i = 0; i < WORDS; i++)
		if (t->page[i] != word(t->seed, i) && !t->bad_words++)
			t->first_bad = i;
}

NVM_TEST(L2_MIGRATE_RESTORE_ORDER)
{
	bool np = nested_features & NVM_REQ(NESTED_PAGING);
	struct restore_order *t = page_alloc(1);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa_of(t), .nested_paging = np,
			      .io_passthrough = true };
	struct l2_vcpu vcpu;
	struct l2_exit x;

	t->page = page_alloc(1);
	t->seed = 0x5151;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (int k = 0; k < ORDERS; k++) {
		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_PING) {
			char what[64];

			snprintf(what, sizeof(what), "L2's PING after the %s restore", orders[k]);
			return nested_unexpected(&vcpu, &x, what, r);
		}
		if (host_step_check_migrate(&t->reply[k], true, &vcpu, r) != NVM_PASS) {
			char why[L1_REASON_MAX];

			memcpy(why, r->reason, sizeof(why));
			return stage_fail(r, "%s: %s", orders[k], why);
		}
		nested->skip_insn(&vcpu, &x);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	for (int k = 0; k < ORDERS; k++)
		if (t->changed[k])
			return stage_fail(r, "%s: %u of L2's GPRs changed across the PING after the restore",
					  orders[k], t->changed[k]);
	if (t->bad_words)
		return stage_fail(r, "%u of %u words of L2's page changed across the save/restores; "
				  "word %u is 0x%lx, expected 0x%lx", t->bad_words, WORDS, t->first_bad,
				  t->page[t->first_bad], word(t->seed, t->first_bad));
	return stage_pass(r, "3 save/restores in L2 (nested state restored after sregs+MSRs, last, "
			  "before MSRs), nested paging %s: each PING exit reached L1, GPRs and memory "
			  "intact", np ? "on" : "off (the L0 offers none to L1)");
}
