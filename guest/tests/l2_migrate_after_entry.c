// SPDX-License-Identifier: MIT
/*
 * l2.migrate.after-entry: the whole vCPU is saved and restored into a fresh
 * VM after L1's VMRUN / VMLAUNCH and before L2 has retired an instruction;
 * then L2 runs and must start with exactly the state L1 gave it.
 *
 * L2's code is one stub (ae_l2_out below): OUT EAX, DX; then PUSHF and a
 * push of every GPR, and a C function that copies them out and exits with
 * L2_HC_DONE. L1 loads every GPR with a pattern, RFLAGS with CF, PF, ZF, SF
 * and OF set (APM 15.5.1, SDM 26.3.2.3: VMRUN / VM entry load them), and
 * RSP with L2's stack top, and points RIP at the stub.
 *
 * Two save points, chosen for what KVM lets userspace stop at:
 *
 *  (a) both vendors: L2's first instruction is the OUT to the VMM's port,
 *      passed through by L1 (no IOIO intercept, APM 15.10.1; no
 *      unconditional I/O exiting, SDM 25.6.2), carrying a host step
 *      "migrate". So the save/restore happens at L2's first exit, with
 *      only that OUT retired (the VMM completes it before the save). By
 *      then KVM has made the first entry into L2 and cleared
 *      nested_run_pending: the flags must be exactly GUEST_MODE (and
 *      GIF_SET on SVM, VMRUN set GIF, APM 15.17), no RUN_PENDING. Done
 *      twice, with the QEMU restore order and with the nested state
 *      restored last: then set_nested_state, not KVM_SET_REGS, has the
 *      last word on L2's RIP, RSP and RFLAGS (vmx_set_nested_state loads
 *      them from the vmcs12 in the blob, prepare_vmcs02; svm_set_nested_state
 *      keeps the ones the regs put in the current VMCB).
 *
 *  (b) SVM: host step "migrate-after-vmrun" (vmm/step_singlestep.c): the
 *      VMM single-steps L1 (KVM_GUESTDBG_SINGLESTEP) to its VMRUN, which
 *      KVM emulates and ends with a single-step exit after it has switched
 *      to vmcb02 (nested_svm_vmrun: kvm_skip_emulated_instruction before
 *      enter_svm_guest_mode). There the VMM saves/restores, twice, before
 *      L2 has run at all: the window a live migration hits when it stops a
 *      vCPU right after a VMRUN exit. Both saves must say GUEST_MODE,
 *      RUN_PENDING and GIF_SET: the second shows whether the first restore
 *      kept nested_run_pending (svm_set_nested_state). L2 here starts at the
 *      PUSHF (no OUT), so its first instruction sees the RFLAGS L1 gave: no
 *      TF from the VMM's single-step (KVM hides it, kvm_get_rflags), and
 *      none in L1's RFLAGS after the #VMEXIT either (vmcb01 save.rflags).
 *      Not done on VMX: nested_vmx_run enters L2 with no exit in between
 *      that userspace could stop at (no skip of VMLAUNCH, the single-step
 *      trap is L2's); the idea (c) of a VMLAUNCH into the HLT activity state
 *      is not done.
 *
 * Checked after each: L2's 15 GPRs, RSP and RFLAGS at its first
 * instruction(s) as L1 set them; L2's work ran once, made a PING that L1
 * resumes (VMRUN / VMRESUME of the restored VMCB / VMCS) and then DONE;
 * L1's CR0, CR3, CR4 and EFER are what they were before the entry and its
 * RFLAGS.TF is clear; the VMM's reply: sequence number, nonce, flags
 * as above, vmcb_pa / vmcs12_pa, L1's CR3 and the size (guest/step.c).
 * Nested paging off: the save points, not the paging, are under test.
 */
#include "test.h"
#include "step.h"

#define RFLAGS_L2   ((u64)(0x2 | 0x1 | 0x4 | 0x40 | 0x80 | 0x800))   /* bit 1, CF, PF, ZF, SF, OF */
#define RFLAGS_TF   ((u64)0x100)
#define ST_GUEST_MODE  ((u64)0x1)         /* KVM_STATE_NESTED_* (linux/kvm.h) */
#define ST_RUN_PENDING ((u64)0x2)
#define ST_GIF_SET     ((u64)0x100)
#define FRAME_WORDS (L2_GPR_COUNT + 1)  /* the GPRs in enum l2_gpr order, then RFLAGS */
#define FRAME_RSP_OFF 72                /* the pushed RSP: after PUSHF and the pushes of R15..R8 */

struct after_entry {
	u64 frame[FRAME_WORDS];    /* what L2's stub pushed */
	u32 ran;                   /* times L2's C part ran */
};

static struct after_entry *ae_cur;

/* L2: PUSHF, then every GPR so that frame[reg] is enum l2_gpr's order; the C part takes it. */
void ae_l2_out(void), ae_l2_go(void);
__asm__(".pushsection .text\n"
	".global ae_l2_out, ae_l2_go\n"
	"ae_l2_out:\n\t"
	"outl %eax, %dx\n"                                /* (a): the host step, L2's first instruction */
	"ae_l2_go:\n\t"                                   /* (b): L2 starts here */
	"pushfq\n\t"
	"push %r15\n\tpush %r14\n\tpush %r13\n\tpush %r12\n\t"
	"push %r11\n\tpush %r10\n\tpush %r9\n\tpush %r8\n\t"
	"push %rsp\n\tpush %rbp\n\tpush %rdi\n\tpush %rsi\n\t"
	"push %rdx\n\tpush %rcx\n\tpush %rbx\n\tpush %rax\n\t"
	"cld\n\t"                                         /* C code from here on */
	"mov %rsp, %rdi\n\t"
	"call ae_l2_record\n"
	"1:\tjmp 1b\n"
	".popsection\n");

void ae_l2_record(const u64 *frame);
void ae_l2_record(const u64 *frame)
{
	for (int i = 0; i < FRAME_WORDS; i++)
		ae_cur->frame[i] = frame[i];
	ae_cur->ran++;
	l2_hypercall(L2_HC_PING, 0, 0, 0);
	for (;;)
		l2_hypercall(L2_HC_DONE, 0, 0, 0);
}

/* The entry vcpu_reset wants; L1 moves RIP to the stub, so reaching it is a failure. */
static void ae_l2_entry(u64 arg)
{
	(void)arg;
	l2_fail(__FILE__, __LINE__, "L2 started at l2_start, not at the RIP L1 set (the stub)");
}

static const char *const gpr_name[L2_GPR_COUNT] = {
	"RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
	"R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
};

struct l1_regs { u64 cr0, cr3, cr4, efer; };

static void l1_regs_read(struct l1_regs *s)
{
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->efer = rdmsr(0xc0000080);
}

static u64 rflags_read(void)
{
	u64 f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f;
}

/*
 * Enter L2 from a fresh vCPU with in[] loaded (RIP at the stub's OUT or
 * past it) and check what L2 and L1 saw afterwards.
 */
static enum nvm_status after_entry_run(const char *what, struct l2_vcpu *vcpu, const u64 *in,
				       u64 rip, struct after_entry *t, struct stage_result *r)
{
	struct l1_regs before, after;
	struct l2_exit x;
	u64 rsp = vcpu->gpr[L2_RSP], fl;

	ae_cur = t;
	for (int reg = 0; reg < L2_GPR_COUNT; reg++)
		if (reg != L2_RSP)
			vcpu->gpr[reg] = in[reg];
	vcpu->rip = rip;
	vcpu->rflags = RFLAGS_L2;
	l1_regs_read(&before);
	if (nested_enter(vcpu, &x, r) != NVM_PASS) {
		stage_detail(r, "%s: L2's entry broke", what);
		return NVM_FAIL;
	}
	fl = rflags_read();
	l1_regs_read(&after);
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_PING)
		return nested_unexpected(vcpu, &x, "L2's PING after its first instructions", r);
	/* Resumed once more: the restored VMCB / VMCS (VMX: its launch state) enters again. */
	nested->skip_insn(vcpu, &x);
	if (nested_enter(vcpu, &x, r) != NVM_PASS) {
		stage_detail(r, "%s: L2's resume after its PING broke", what);
		return NVM_FAIL;
	}
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_DONE)
		return nested_unexpected(vcpu, &x, "L2's DONE after its PING", r);
	if (t->ran != 1)
		return stage_fail(r, "%s: L2's code ran %u times, expected once", what, t->ran);
	for (int reg = 0; reg < L2_GPR_COUNT; reg++)
		if (reg != L2_RSP && t->frame[reg] != in[reg])
			return stage_fail(r, "%s: L2's %s at its first instructions is 0x%lx, expected "
					  "0x%lx as L1 set it", what, gpr_name[reg], t->frame[reg], in[reg]);
	if (t->frame[L2_RSP] + FRAME_RSP_OFF != rsp)
		return stage_fail(r, "%s: L2's RSP at its first instruction is 0x%lx, expected 0x%lx "
				  "as L1 set it", what, t->frame[L2_RSP] + FRAME_RSP_OFF, rsp);
	if (t->frame[L2_GPR_COUNT] != RFLAGS_L2)
		return stage_fail(r, "%s: L2's RFLAGS at its first instruction is 0x%lx, expected 0x%lx "
				  "as L1 set it%s", what, t->frame[L2_GPR_COUNT], RFLAGS_L2,
				  t->frame[L2_GPR_COUNT] & RFLAGS_TF ? " (TF leaked into L2)" : "");
	if (fl & RFLAGS_TF)
		return stage_fail(r, "%s: L1's RFLAGS after the exit is 0x%lx: TF set (leaked into L1)",
				  what, fl);
	if (after.cr0 != before.cr0 || after.cr3 != before.cr3 || after.cr4 != before.cr4 ||
	    after.efer != before.efer)
		return stage_fail(r, "%s: L1's CR0/CR3/CR4/EFER after the exit are 0x%lx/0x%lx/0x%lx/"
				  "0x%lx, expected 0x%lx/0x%lx/0x%lx/0x%lx as before the entry", what,
				  after.cr0, after.cr3, after.cr4, after.efer, before.cr0, before.cr3,
				  before.cr4, before.efer);
	return NVM_PASS;
}

static void gprs_pattern(u64 seed, u64 *in)
{
	for (int reg = 0; reg < L2_GPR_COUNT; reg++)
		in[reg] = l2_gpr_pattern(seed, (enum l2_gpr)reg);
}

/* (a): the host step is L2's first instruction. */
static enum nvm_status at_first_out(const char *action, u64 seed, struct stage_result *r)
{
	struct l2_cfg cfg = { .entry = ae_l2_entry, .io_passthrough = true };
	struct host_step_reply reply;
	struct l2_vcpu vcpu;
	u64 in[L2_GPR_COUNT];
	char what[64];

	snprintf(what, sizeof(what), "\"%s\" at L2's first instruction", action);
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	gprs_pattern(seed, in);
	in[L2_RAX] = host_step_prepare(NVM_STAGE_L2_MIGRATE_AFTER_ENTRY, action, seed);
	in[L2_RDX] = (in[L2_RDX] & ~0xffffull) | NVM_PORT_MSG;
	enum nvm_status st = after_entry_run(what, &vcpu, in, (u64)(uintptr_t)ae_l2_out,
					     page_alloc(1), r);
	/* The reply, also when L2 broke: it may name the cause. */
	host_step_reply(&reply);
	if (host_step_check_migrate(&reply, true, &vcpu, r) != NVM_PASS) {
		stage_detail(r, "%s: %s", what, r->reason);
		return NVM_FAIL;
	}
	if (st != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: saved with flags 0x%lx; L2's GPRs, RSP, RFLAGS 0x%lx intact, DONE",
		     what, reply.val[NVM_STEP_FLAGS], RFLAGS_L2);
	return NVM_PASS;
}

/* (b), SVM: between VMRUN and L2's first instruction, with RUN_PENDING. */
static enum nvm_status in_run_pending(u64 seed, struct stage_result *r)
{
	const char *what = "migrate-after-vmrun";
	struct l2_cfg cfg = { .entry = ae_l2_entry };
	struct host_step_reply arm, reply, check;
	struct l2_vcpu vcpu;
	u64 in[L2_GPR_COUNT], want = ST_GUEST_MODE | ST_RUN_PENDING | ST_GIF_SET, f1, f2;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	gprs_pattern(seed, in);
	/* Before the request: every L1 instruction after it is single-stepped, zeroing a page too. */
	struct after_entry *t = page_alloc(1);
	host_step(NVM_STAGE_L2_MIGRATE_AFTER_ENTRY, what, seed, &arm);
	if (arm.val[NVM_STEP_SEQ] != arm.expect_seq)
		return stage_fail(r, "%s: the VMM answered the request with sequence number %lu, "
				  "expected %u", what, arm.val[NVM_STEP_SEQ], arm.expect_seq);
	enum nvm_status st = after_entry_run(what, &vcpu, in, (u64)(uintptr_t)ae_l2_go, t, r);
	/* The VMM wrote its second answer into the same message at the VMRUN. */
	host_step_reply(&reply);
	if (reply.val[NVM_STEP_SEQ] != reply.expect_seq) {
		if (st != NVM_PASS)
			return NVM_FAIL;
		return stage_fail(r, "%s: sequence number %lu after the VMRUN, expected %u: the VMM "
				  "did not save/restore at the VMRUN", what,
				  reply.val[NVM_STEP_SEQ], reply.expect_seq);
	}
	f1 = reply.val[NVM_STEP_FLAGS] & 0xffff;
	f2 = (reply.val[NVM_STEP_FLAGS] >> NVM_STEP_FLAGS_SECOND_SHIFT) & 0xffff;
	if (f1 != want)
		return stage_fail(r, "%s: KVM_GET_NESTED_STATE flags 0x%lx right after VMRUN, expected "
				  "0x%lx (GUEST_MODE|RUN_PENDING|GIF_SET: VMRUN emulated, L2 not yet "
				  "entered)%s", what, f1, want, st != NVM_PASS ? "; L2 broke too" : "");
	if (f2 != want)
		return stage_fail(r, "%s: the second save, in the new VM before it ran, has flags "
				  "0x%lx, expected 0x%lx as the first: the restore %s", what, f2, want,
				  (f2 & ST_RUN_PENDING) ? "changed them" :
				  "dropped KVM_STATE_NESTED_RUN_PENDING");
	/* The rest of the reply as after a save in guest mode (guest/step.c), past RUN_PENDING. */
	check = reply;
	check.val[NVM_STEP_FLAGS] = f1 & ~ST_RUN_PENDING;
	if (host_step_check_migrate(&check, true, &vcpu, r) != NVM_PASS) {
		stage_detail(r, "%s: %s", what, r->reason);
		return NVM_FAIL;
	}
	if (st != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: saved twice in the run-pending window, flags 0x%lx both; L2's GPRs, "
		     "RSP, RFLAGS 0x%lx (no TF) intact, L1's RFLAGS without TF", what, f1, RFLAGS_L2);
	return NVM_PASS;
}

NVM_TEST(L2_MIGRATE_AFTER_ENTRY)
{
	bool svm = nested_is_svm();

	if (at_first_out("migrate", 0x3131, r) != NVM_PASS ||
	    at_first_out("migrate-nested-last", 0x3232, r) != NVM_PASS ||
	    (svm && in_run_pending(0x3333, r) != NVM_PASS))
		return NVM_FAIL;
	return stage_pass(r, "save/restore at L2's first instruction (2 orders)%s: L2 began with "
			  "L1's GPRs, RSP, RFLAGS", svm ? " and between VMRUN and it (RUN_PENDING)" :
			  "; none between VMLAUNCH and L2 (no exit there)");
}
