// SPDX-License-Identifier: MIT
/*
 * l2.run: L2 runs C code on its own stack and its own IDT, calls L1 by
 * hypercall, and its general-purpose registers survive every exit.
 *
 * Per round, L2 loads every GPR but RAX/RSP with a pattern and makes a PING
 * hypercall (l2_gpr_probe): L1 checks each register as the exit left it
 * (VMRUN saves only RAX/RSP/RIP, VMX none: the rest is L1's job, APM 15.5,
 * SDM 27.1), then resumes; L2 checks they came back intact. Then L2 asks L1
 * for a token (a hypercall whose return value is RAX as L1 set it) and
 * stores it where L1 looks. Before all that, L2 takes a #UD that is not
 * intercepted, so it must reach L2's own IDT, not L1's.
 */
#include "test.h"

#define ROUNDS 4
#define TOKEN(i) (0x4e564d00c0de0000ul | (i))

static volatile u64 l2_tokens[ROUNDS];
static volatile u32 l2_ud_seen;

static void l2_on_ud(struct exc_frame *f)
{
	l2_ud_seen++;
	f->rip += 2;                         /* past UD2 */
}

static void l2_code(u64 rounds)
{
	l2_set_handler(X86_VEC_UD, l2_on_ud);
	__asm__ volatile("ud2" ::: "memory");
	L2_ASSERT(l2_ud_seen == 1, "#UD in L2 reached L2's handler %u times, expected once",
		  l2_ud_seen);
	for (u64 i = 1; i <= rounds; i++) {
		unsigned int bad = l2_gpr_probe(i);
		L2_ASSERT(!bad, "round %lu: %u GPR(s) changed across the PING exit", i, bad);
		u64 t = l2_hypercall(L2_HC_USER, i, 0, 0);
		L2_ASSERT(t == TOKEN(i), "round %lu: hypercall returned RAX=0x%lx, expected 0x%lx",
			  i, t, TOKEN(i));
		l2_tokens[i - 1] = t;
	}
}

static const char *const gpr_name[L2_GPR_COUNT] = {
	"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

/* The PING exit: every GPR L2 loaded holds its pattern, RSP is on L2's stack. */
static enum nvm_status check_ping(struct l2_vcpu *vcpu, const struct l2_exit *x, u64 round,
				  struct stage_result *r)
{
	u64 stack = gpa_of(vcpu->stack);

	if (x->kind != L2_EXIT_HYPERCALL || x->hc.code != L2_HC_PING)
		return nested_unexpected(vcpu, x, "the PING hypercall of l2_gpr_probe", r);
	for (int g = 0; g < L2_GPR_COUNT; g++) {
		if (g == L2_RAX || g == L2_RSP)
			continue;
		if (vcpu->gpr[g] != l2_gpr_pattern(round, (enum l2_gpr)g))
			return stage_fail(r, "round %lu: at the PING exit L2's %s=0x%lx, expected 0x%lx",
					  round, gpr_name[g], vcpu->gpr[g],
					  l2_gpr_pattern(round, (enum l2_gpr)g));
	}
	if (vcpu->gpr[L2_RSP] <= stack || vcpu->gpr[L2_RSP] > stack + 4096)
		return stage_fail(r, "round %lu: L2's RSP=0x%lx is not on its stack 0x%lx-0x%lx",
				  round, vcpu->gpr[L2_RSP], stack, stack + 4096);
	return NVM_PASS;
}

NVM_TEST(L2_RUN)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .arg = ROUNDS };
	struct l2_exit x;

	for (int i = 0; i < ROUNDS; i++)
		l2_tokens[i] = 0;
	l2_ud_seen = 0;
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (u64 i = 1; i <= ROUNDS; i++) {
		if (nested_enter(&vcpu, &x, r) != NVM_PASS || check_ping(&vcpu, &x, i, r) != NVM_PASS)
			return NVM_FAIL;
		nested->skip_insn(&vcpu, &x);
		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_USER || x.hc.arg0 != i)
			return nested_unexpected(&vcpu, &x, "L2's token request", r);
		vcpu.gpr[L2_RAX] = TOKEN(i);
		nested->skip_insn(&vcpu, &x);
	}
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	for (int i = 0; i < ROUNDS; i++)
		if (l2_tokens[i] != TOKEN(i + 1))
			return stage_fail(r, "round %d: L2 stored 0x%lx, expected 0x%lx", i + 1,
					  l2_tokens[i], TOKEN(i + 1));
	stage_detail(r, "%u entries; L2 stack 0x%lx; #UD delivered through L2's IDT", vcpu.entries,
		     gpa_of(vcpu.stack));
	return stage_pass(r, "L2 ran C code on its own stack and IDT; %d hypercall rounds, every GPR "
			  "intact across each exit", ROUNDS);
}
