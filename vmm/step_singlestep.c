// SPDX-License-Identifier: MIT
/*
 * Host step "migrate-after-vmrun" (SVM): save/restore the vCPU after KVM
 * has emulated L1's VMRUN and before L2 has run an instruction.
 *
 * KVM emulates VMRUN (svm/nested.c nested_svm_vmrun): it moves RIP past
 * it with kvm_skip_emulated_instruction, sets nested_run_pending, and
 * loads vmcb02 (enter_svm_guest_mode); the flag stays set until the first
 * entry into L2 has been made (svm_vcpu_run), and KVM_GET_NESTED_STATE
 * reports it as KVM_STATE_NESTED_RUN_PENDING. Userspace sees this window
 * when KVM returns to it right after the VMRUN: with single-step guest
 * debug (KVM_SET_GUEST_DEBUG, KVM_GUESTDBG_SINGLESTEP),
 * kvm_skip_emulated_instruction ends the VMRUN with KVM_EXIT_DEBUG
 * (kvm_vcpu_do_singlestep) after the switch to guest mode.
 *
 * So: when asked (in L1, not in guest mode, SVM format) the VMM arms; from
 * then on each KVM_RUN has single-step guest debug on, and each
 * KVM_EXIT_DEBUG is one of L1's instructions, after which the VMM reads
 * KVM_GET_NESTED_STATE's header. At the first step that finds GUEST_MODE
 * it turns guest debug off (KVM hides the TF it set: kvm_get_rflags),
 * saves/restores into a fresh VM, does it again in that VM before it runs
 * (what the first restore made of the state shows in the second save's
 * flags), and writes the reply into the step's message (nestvmm/wire.h).
 * Guest debug is off whenever the VMM handles an exit, so a --migrate
 * save/restore or a pending port I/O (vcpu_settle) sees no single-step.
 *
 * VMX is refused: nested_vmx_run enters L2 without a skip of VMLAUNCH, so
 * no single-step exit falls between the VMLAUNCH and L2's first instruction.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "migrate.h"
#include "nestvmm/wire.h"
#include "run.h"
#include "step_singlestep.h"
#include "trace.h"

/* Enough for any L1 path from the step to its VMRUN; L1 runs a few hundred instructions. */
#define SINGLESTEP_MAX 200000ul
#define DR6_BS (1ull << 14)        /* SDM 18.2.3: single step */

/*
 * KVM_GET_NESTED_STATE into a buffer of KVM_CAP_NESTED_STATE bytes (kept
 * for the run). Through kvm_ioctl, which the tests without KVM stand in for.
 */
static struct kvm_nested_state *nested_state_get(struct vm *vm, char *why, size_t len)
{
	static struct kvm_nested_state *buf;
	static int size;
	char err[KVM_ERR_MAX];
	int cap;

	if (!buf) {
		cap = kvm_ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, (void *)(uintptr_t)KVM_CAP_NESTED_STATE,
				"KVM_CHECK_EXTENSION", err);
		if (cap < (int)sizeof(*buf)) {
			snprintf(why, len, "host step migrate-after-vmrun: KVM_CAP_NESTED_STATE is %d: "
				 "this KVM cannot save a vCPU's nested state", cap);
			return NULL;
		}
		if (!(buf = calloc(1, (size_t)cap))) {
			snprintf(why, len, "host step migrate-after-vmrun: out of memory");
			return NULL;
		}
		size = cap;
	}
	memset(buf, 0, sizeof(*buf));
	buf->size = (uint32_t)size;
	if (KVM_IOCTL(vm->vcpu_fd, KVM_GET_NESTED_STATE, buf, err) < 0) {
		snprintf(why, len, "host step migrate-after-vmrun: %s", err);
		return NULL;
	}
	return buf;
}

/* The reply in the step's message (wire.h), as handle_step writes one. */
static void reply_write(struct run_ctx *c, const uint64_t *val)
{
	memcpy(c->vm->mem + c->ss.msg_gpa + offsetof(struct nvm_msg, val[NVM_STEP_SEQ]),
	       &val[NVM_STEP_SEQ], (NVM_MSG_VALS - NVM_STEP_SEQ) * sizeof(val[0]));
}

enum run_end step_singlestep_arm(struct run_ctx *c, char *why, size_t len)
{
	const struct kvm_nested_state *n;

	if (c->ss.armed) {
		snprintf(why, len, "rule: one migrate-after-vmrun at a time; L1 asked again in %s "
			 "before its VMRUN entered guest mode", stage_name[c->open_stage]);
		return RUN_PROTOCOL_ERROR;
	}
	if (!(n = nested_state_get(c->vm, why, len)))
		return RUN_KVM_ERROR;
	if (n->format != KVM_STATE_NESTED_FORMAT_SVM) {
		snprintf(why, len, "rule: migrate-after-vmrun single-steps L1 to a VMRUN and is SVM "
			 "only (KVM enters L2 at VMLAUNCH/VMRESUME without a single-step exit); "
			 "%s asked on a vCPU with nested state format %u", stage_name[c->open_stage],
			 n->format);
		return RUN_PROTOCOL_ERROR;
	}
	if (n->flags & KVM_STATE_NESTED_GUEST_MODE) {
		snprintf(why, len, "rule: migrate-after-vmrun is asked in L1 before a VMRUN; %s "
			 "asked with the vCPU in guest mode (nested state flags 0x%x)",
			 stage_name[c->open_stage], n->flags);
		return RUN_PROTOCOL_ERROR;
	}
	c->ss.armed = true;
	c->ss.msg_gpa = c->msg_gpa;
	c->ss.count = 0;
	c->steps++;
	uint64_t val[NVM_MSG_VALS] = {
		[NVM_STEP_SEQ] = c->steps, [NVM_STEP_FLAGS] = n->flags, [NVM_STEP_SIZE] = n->size,
	};
	reply_write(c, val);
	TRACE("host step migrate-after-vmrun (step %u) in %s: armed; single-stepping L1 until "
	      "KVM_GET_NESTED_STATE reports GUEST_MODE (now flags 0x%x)", c->steps,
	      stage_name[c->open_stage], n->flags);
	return RUN_NOT_STARTED;
}

enum run_end step_singlestep_debug(struct run_ctx *c, bool run, char *why, size_t len)
{
	struct kvm_guest_debug dbg = { .control = run ? KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP : 0 };
	char err[KVM_ERR_MAX];

	if (!c->ss.armed)
		return RUN_NOT_STARTED;
	if (KVM_IOCTL(c->vm->vcpu_fd, KVM_SET_GUEST_DEBUG, &dbg, err) < 0) {
		snprintf(why, len, "host step migrate-after-vmrun: guest debug %s: %s",
			 run ? "ENABLE|SINGLESTEP" : "off", err);
		return RUN_KVM_ERROR;
	}
	return RUN_NOT_STARTED;
}

enum run_end step_singlestep_exit(struct run_ctx *c, char *why, size_t len)
{
	const struct kvm_run *r = c->vm->run;
	const struct kvm_nested_state *n;
	struct migrate_info first, second;
	char err[KVM_ERR_MAX];

	if (r->debug.arch.exception != 1 || !(r->debug.arch.dr6 & DR6_BS)) {
		snprintf(why, len, "host step migrate-after-vmrun: KVM_EXIT_DEBUG with exception %u, "
			 "DR6 0x%llx at 0x%llx is not a single step", r->debug.arch.exception,
			 (unsigned long long)r->debug.arch.dr6, (unsigned long long)r->debug.arch.pc);
		return RUN_UNEXPECTED_EXIT;
	}
	if (++c->ss.count > SINGLESTEP_MAX) {
		snprintf(why, len, "host step migrate-after-vmrun: L1 ran %lu instructions in %s "
			 "without a VMRUN entering guest mode", SINGLESTEP_MAX, stage_name[c->open_stage]);
		return RUN_UNEXPECTED_EXIT;
	}
	if (!(n = nested_state_get(c->vm, why, len)))
		return RUN_KVM_ERROR;
	if (!(n->flags & KVM_STATE_NESTED_GUEST_MODE))
		return RUN_NOT_STARTED;
	/* Guest debug is already off (step_singlestep_debug after KVM_RUN). */
	c->ss.armed = false;
	unsigned long long pc = r->debug.arch.pc;   /* r goes away with the old VM */
	if (run_migrate(c, MIGRATE_ORDER_QEMU, &first, err) ||
	    run_migrate(c, MIGRATE_ORDER_QEMU, &second, err)) {
		snprintf(why, len, "host step migrate-after-vmrun (save/restore %u) after %lu single "
			 "steps failed: %s", c->steps + 1, c->ss.count, err);
		return RUN_KVM_ERROR;
	}
	c->steps++;
	TRACE("host step migrate-after-vmrun (step %u): L1's VMRUN entered guest mode after %lu "
	      "single steps (L1 RIP after it 0x%llx); saved/restored twice: flags 0x%x then 0x%x, "
	      "size %u, vmcb_pa 0x%lx, L2 RIP 0x%lx, L1 RIP (vmcb01) 0x%lx", c->steps, c->ss.count,
	      pc, first.flags, second.flags, first.size, first.pa,
	      first.l2_rip, first.l1_rip);
	uint64_t val[NVM_MSG_VALS] = {
		[NVM_STEP_SEQ] = c->steps,
		[NVM_STEP_FLAGS] = first.flags | (uint64_t)second.flags << NVM_STEP_FLAGS_SECOND_SHIFT,
		[NVM_STEP_SIZE] = first.size, [NVM_STEP_PA] = first.pa, [NVM_STEP_NCR3] = first.ncr3,
		[NVM_STEP_L1_CR3] = first.l1_cr3, [NVM_STEP_VMXON_PA] = first.vmxon_pa,
	};
	reply_write(c, val);
	return RUN_NOT_STARTED;
}

enum run_end step_singlestep_stage_end(struct run_ctx *c, enum nvm_status status, char *why,
				       size_t len)
{
	if (!c->ss.armed)
		return RUN_NOT_STARTED;
	c->ss.armed = false;
	/* A test that failed or skipped says why itself (it saw no second reply). */
	if (status != NVM_PASS) {
		TRACE("host step migrate-after-vmrun: %s ended (%s) after %lu single steps of L1 "
		      "without a VMRUN entering guest mode", stage_name[c->open_stage],
		      status_name(status), c->ss.count);
		return RUN_NOT_STARTED;
	}
	snprintf(why, len, "rule: a test passes only after the migrate-after-vmrun it asked for "
		 "was performed; %s passed after %lu single steps of L1 without a VMRUN entering "
		 "guest mode", stage_name[c->open_stage], c->ss.count);
	return RUN_PROTOCOL_ERROR;
}
