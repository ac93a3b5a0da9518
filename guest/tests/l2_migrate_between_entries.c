// SPDX-License-Identifier: MIT
/*
 * l2.migrate.between-entries: L1 has L2 stopped at an exit (a hypercall),
 * asks the VMM to save the whole vCPU and restore it into a fresh VM, then
 * resumes L2, which must go on at its next instruction with its GPRs and
 * its memory. Outside guest mode, KVM_GET_NESTED_STATE still carries what
 * L1's VMX/SVM state needs: GIF (SVM, APM 15.17); VMXON region and the
 * current VMCS, whose vmcs12 (fields and launch state) KVM keeps cached in
 * the kernel and must write into the blob (SDM 24.11.1: a VMCS's data may be
 * held in the processor). VM_HSAVE_PA (APM 15.30.4) travels as an MSR.
 *
 * L1 saves/restores twice in a row: the second save, in the new VM, must
 * find the state the first restore was given (on SVM, GIF=0 after #VMEXIT).
 *
 * L2 fills a page, makes an L2_HC_PING hypercall with every GPR but RSP
 * and RAX set to a pattern (l2_gpr_probe), and after the save/restore
 * counts the GPRs that changed, checks the page and pings once more: the
 * second round trip runs wholly in the new VM. Nested paging off and on.
 */
#include "test.h"
#include "step.h"

#define WORDS 512

struct between {
	u64 *page;
	u64 seed;
	u32 changed;               /* GPRs l2_gpr_probe found changed across the save/restore */
	u32 changed_after;         /* and across a round trip in the new VM */
	u32 bad_words, first_bad;
};

static u64 word(u64 seed, u32 i)
{
	return (seed ^ (i * 0xc2b2ae3d27d4eb4full)) + i;
}

static void l2_code(u64 arg)
{
	struct between *t = (struct between *)(uintptr_t)arg;

	for (u32 i = 0; i < WORDS; i++)
		t->page[i] = word(t->seed, i);
	t->changed = l2_gpr_probe(t->seed);              /* the save/restore happens in this exit */
	for (u32 i = 0; i < WORDS; i++)
		if (t->page[i] != word(t->seed, i) && !t->bad_words++)
			t->first_bad = i;
	t->changed_after = l2_gpr_probe(~t->seed);
}

static enum nvm_status expect_ping(struct l2_vcpu *vcpu, const char *when, struct stage_result *r)
{
	struct l2_exit x;

	if (nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_PING)
		return nested_unexpected(vcpu, &x, when, r);
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

static enum nvm_status migrate_between(bool np, u64 seed, struct stage_result *r)
{
	struct l2_vcpu vcpu;
	struct between *t = page_alloc(1);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa_of(t), .nested_paging = np };
	const char *mode = np ? "nested paging on" : "nested paging off";
	struct host_step_reply reply;
	u64 rip;

	t->page = page_alloc(1);
	t->seed = seed;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    expect_ping(&vcpu, "L2's first L2_HC_PING", r) != NVM_PASS)
		return NVM_FAIL;
	rip = vcpu.rip;
	/* Twice: the second save, in the new VM, shows what the first restore made of the state. */
	for (int i = 0; i < 2; i++) {
		host_step(NVM_STAGE_L2_MIGRATE_BETWEEN_ENTRIES, "migrate", seed + (u64)i, &reply);
		if (host_step_check_migrate(&reply, false, &vcpu, r) != NVM_PASS) {
			stage_detail(r, "%s, save/restore %d of 2 in L1: %s", mode, i + 1, r->reason);
			return NVM_FAIL;
		}
	}
	if (expect_ping(&vcpu, "L2's second L2_HC_PING, after the save/restore", r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (t->changed)
		return stage_fail(r, "%s: %u of L2's GPRs changed across the save/restore (L2 resumed at "
				  "RIP 0x%lx)", mode, t->changed, rip);
	if (t->bad_words)
		return stage_fail(r, "%s: %u of %u words of L2's page changed across the save/restore; "
				  "word %u is 0x%lx, expected 0x%lx", mode, t->bad_words, WORDS,
				  t->first_bad, t->page[t->first_bad], word(seed, t->first_bad));
	if (t->changed_after)
		return stage_fail(r, "%s: %u of L2's GPRs changed across a round trip in the new VM",
				  mode, t->changed_after);
	stage_detail(r, "%s: L2 resumed at RIP 0x%lx with its GPRs and %u words; a round trip in "
		     "the new VM kept its GPRs", mode, rip, WORDS);
	return NVM_PASS;
}

NVM_TEST(L2_MIGRATE_BETWEEN_ENTRIES)
{
	bool np = nested_features & NVM_REQ(NESTED_PAGING);

	if (migrate_between(false, 0x3333, r) != NVM_PASS ||
	    (np && migrate_between(true, 0x4444, r) != NVM_PASS))
		return NVM_FAIL;
	return stage_pass(r, "saved/restored into a fresh VM in L1 between two L2 entries, nested "
			  "paging off%s: L2 resumed with its GPRs and memory",
			  np ? " and on" : " (the L0 offers none to L1: on not run)");
}
