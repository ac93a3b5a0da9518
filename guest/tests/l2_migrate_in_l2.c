// SPDX-License-Identifier: MIT
/*
 * l2.migrate.in-l2: the whole vCPU is saved and restored into a fresh VM
 * while it runs L2, and L2 and L1 go on as if nothing happened.
 *
 * L1 passes L2's port I/O through (no IOIO intercept, APM 15.10.1; no
 * unconditional I/O exiting, SDM 25.6.2), so L2's OUT to the VMM's port is
 * an exit L1 does not intercept: L0 (KVM) takes it to userspace with the
 * vCPU in guest mode. The VMM treats it as a host step "migrate": it
 * completes the OUT, saves regs, sregs, XSAVE, XCRs, debug registers, MSRs,
 * events and KVM_GET_NESTED_STATE (L1's state and the vmcb12/vmcs12 cached
 * by KVM), restores them into a new VM on the same RAM, and runs that.
 *
 * Checked, with nested paging off and on:
 *   - L2's GPRs (all but RSP, each with its own pattern) across the OUT;
 *   - a page L2 wrote before the step reads back the same after it, and
 *     L2's checksum of it matches L1's (L2's memory through its own paging);
 *   - L2 returns and exits to L1 with L2_HC_DONE: L1's state came back from
 *     the blob (vmcb01 save area / vmcs12 host state) at the #VMEXIT;
 *   - the VMM's reply: sequence number, KVM_STATE_NESTED_GUEST_MODE set,
 *     vmcb_pa / vmcs12_pa, L1's CR3 and N_CR3/EPTP in the blob (guest/step.c);
 *   - the same again for a second save/restore right after the first, in
 *     the new VM: a setter that restored a field wrongly shows in the
 *     second save's header and blob.
 */
#include "test.h"
#include "step.h"

#define WORDS 512

struct in_l2 {
	u64 *page;                 /* L2's work page */
	u64 seed;
	u64 in[L2_GPR_COUNT];      /* what L2 loads before the OUT */
	u64 out[L2_GPR_COUNT];     /* what it holds after */
	struct host_step_reply reply;    /* the VMM's answer to the first step */
	struct host_step_reply reply2;   /* and to the second, made in the new VM right after */
	u64 sum;                   /* L2's checksum of its page after the step */
	u32 bad_words, first_bad;
};

/* out[] = every GPR but RSP after "OUT EAX, DX" with in[] loaded (EAX: the message GPA). */
void migrate_out_gprs(const u64 *in, u64 *out);
__asm__(".pushsection .text\n"
	".global migrate_out_gprs\n"
	"migrate_out_gprs:\n\t"
	"push %rbx\n\tpush %rbp\n\tpush %r12\n\tpush %r13\n\tpush %r14\n\tpush %r15\n\t"
	"push %rsi\n\t"                                   /* out */
	"mov 0(%rdi), %rax\n\tmov 8(%rdi), %rbx\n\tmov 16(%rdi), %rcx\n\tmov 24(%rdi), %rdx\n\t"
	"mov 32(%rdi), %rsi\n\tmov 48(%rdi), %rbp\n\t"
	"mov 64(%rdi), %r8\n\tmov 72(%rdi), %r9\n\tmov 80(%rdi), %r10\n\tmov 88(%rdi), %r11\n\t"
	"mov 96(%rdi), %r12\n\tmov 104(%rdi), %r13\n\tmov 112(%rdi), %r14\n\tmov 120(%rdi), %r15\n\t"
	"mov 40(%rdi), %rdi\n\t"
	"outl %eax, %dx\n\t"
	"push %rdi\n\t"
	"mov 8(%rsp), %rdi\n\t"                           /* out */
	"mov %rax, 0(%rdi)\n\tmov %rbx, 8(%rdi)\n\tmov %rcx, 16(%rdi)\n\tmov %rdx, 24(%rdi)\n\t"
	"mov %rsi, 32(%rdi)\n\tmov %rbp, 48(%rdi)\n\t"
	"mov %r8, 64(%rdi)\n\tmov %r9, 72(%rdi)\n\tmov %r10, 80(%rdi)\n\tmov %r11, 88(%rdi)\n\t"
	"mov %r12, 96(%rdi)\n\tmov %r13, 104(%rdi)\n\tmov %r14, 112(%rdi)\n\tmov %r15, 120(%rdi)\n\t"
	"pop %rax\n\tmov %rax, 40(%rdi)\n\t"              /* RDI as L2 had it */
	"pop %rsi\n\t"
	"pop %r15\n\tpop %r14\n\tpop %r13\n\tpop %r12\n\tpop %rbp\n\tpop %rbx\n\t"
	"ret\n"
	".popsection\n");

static u64 word(u64 seed, u32 i)
{
	return (seed ^ (i * 0x9e3779b97f4a7c15ull)) + i;
}

static u64 checksum(const u64 *p)
{
	u64 sum = 0;

	for (u32 i = 0; i < WORDS; i++)
		sum = sum * 31 + p[i];
	return sum;
}

static void l2_code(u64 arg)
{
	struct in_l2 *t = (struct in_l2 *)(uintptr_t)arg;

	for (u32 i = 0; i < WORDS; i++)
		t->page[i] = word(t->seed, i);
	for (int reg = 0; reg < L2_GPR_COUNT; reg++)
		t->in[reg] = l2_gpr_pattern(t->seed, (enum l2_gpr)reg);
	t->in[L2_RAX] = host_step_prepare(NVM_STAGE_L2_MIGRATE_IN_L2, "migrate", t->seed);
	t->in[L2_RDX] = (t->in[L2_RDX] & ~0xffffull) | NVM_PORT_MSG;
	migrate_out_gprs(t->in, t->out);
	host_step_reply(&t->reply);
	/* Saved again at once, in the new VM: what was restored must save the same. */
	host_step(NVM_STAGE_L2_MIGRATE_IN_L2, "migrate", ~t->seed, &t->reply2);
	/* After the restore: the page as written, then a checksum L1 recomputes. */
	for (u32 i = 0; i < WORDS; i++)
		if (t->page[i] != word(t->seed, i) && !t->bad_words++)
			t->first_bad = i;
	t->sum = checksum(t->page);
}

static const char *const gpr_name[L2_GPR_COUNT] = {
	"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

static enum nvm_status migrate_in_l2(bool np, u64 seed, struct stage_result *r)
{
	struct l2_vcpu vcpu;
	struct in_l2 *t = page_alloc(1);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa_of(t), .nested_paging = np,
			      .io_passthrough = true };
	const char *mode = np ? "nested paging on" : "nested paging off";

	t->page = page_alloc(1);
	t->seed = seed;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if (nested_run_to_done(&vcpu, r) != NVM_PASS) {
		/* L2 broke after a save/restore: what the blob said may name the cause. */
		char broke[L1_REASON_MAX], why[L1_REASON_MAX];

		memcpy(broke, r->reason, sizeof(broke));
		/* L2 may have broken before it read the answer: it is still in the step buffer. */
		if (!t->reply.val[NVM_STEP_SEQ])
			host_step_reply(&t->reply);
		if (t->reply.val[NVM_STEP_SEQ] &&
		    host_step_check_migrate(&t->reply, true, &vcpu, r) != NVM_PASS) {
			memcpy(why, r->reason, sizeof(why));
			return stage_fail(r, "%s: %s; then %s", mode, why, broke);
		}
		return stage_fail(r, "%s: after %s: %s", mode, t->reply.val[NVM_STEP_SEQ] ?
				  "the save/restore" : "no save/restore", broke);
	}
	if (host_step_check_migrate(&t->reply, true, &vcpu, r) != NVM_PASS ||
	    host_step_check_migrate(&t->reply2, true, &vcpu, r) != NVM_PASS) {
		stage_detail(r, "%s: %s", mode, r->reason);
		return NVM_FAIL;
	}
	for (int reg = 0; reg < L2_GPR_COUNT; reg++)
		if (reg != L2_RSP && t->out[reg] != t->in[reg])
			return stage_fail(r, "%s: L2's %s after the save/restore is 0x%lx, expected 0x%lx",
					  mode, gpr_name[reg], t->out[reg], t->in[reg]);
	if (t->bad_words)
		return stage_fail(r, "%s: %u of %u words of L2's page changed across the save/restore; "
				  "word %u is 0x%lx, expected 0x%lx", mode, t->bad_words, WORDS,
				  t->first_bad, t->page[t->first_bad], word(seed, t->first_bad));
	u64 want = 0;
	for (u32 i = 0; i < WORDS; i++)
		want = want * 31 + word(seed, i);
	if (t->sum != want)
		return stage_fail(r, "%s: L2's checksum after the save/restore is 0x%lx, expected 0x%lx",
				  mode, t->sum, want);
	stage_detail(r, "%s: 15 GPRs, %u words and checksum 0x%lx intact; L2 exited to L1 with DONE",
		     mode, WORDS, want);
	return NVM_PASS;
}

NVM_TEST(L2_MIGRATE_IN_L2)
{
	bool np = nested_features & NVM_REQ(NESTED_PAGING);

	if (migrate_in_l2(false, 0x1111, r) != NVM_PASS || (np && migrate_in_l2(true, 0x2222, r) != NVM_PASS))
		return NVM_FAIL;
	return stage_pass(r, "saved/restored into a fresh VM while in L2 (KVM_STATE_NESTED_GUEST_MODE), "
			  "nested paging off%s: L2's GPRs, memory and checksum and L1's exit intact",
			  np ? " and on" : " (the L0 offers none to L1: on not run)");
}
