/* SPDX-License-Identifier: MIT */
/*
 * Host steps (nestvmm/wire.h, NVM_MSG_STEP): the running test asks the VMM
 * to act on the vCPU at this point, e.g. "migrate": save the whole vCPU and
 * restore it into a fresh VM (vmm/migrate.c). The VMM answers in the
 * message itself (enum nvm_step_val).
 *
 * Usable from L1, and from L2 code whose port I/O L1 passes through to L0
 * (l2_cfg.io_passthrough): then the OUT reaches the VMM while the vCPU is in
 * guest mode. The message has its own buffer, built without L1's channel
 * and without TRACE, so L2 may build and send it.
 */
#ifndef NESTVMM_GUEST_STEP_H
#define NESTVMM_GUEST_STEP_H

#include "nested.h"

/* Build the request in the step buffer; returns its GPA, for an OUT dword to NVM_PORT_MSG. */
u32 host_step_prepare(u32 test, const char *action, u64 nonce);
/* The VMM's answer to one step, and the sequence number it should carry. */
struct host_step_reply {
	u64 val[NVM_MSG_VALS];     /* val[NVM_STEP_*] as the VMM wrote them */
	u32 expect_seq;            /* the steps answered before this one in this test, plus one */
	u64 nonce;                 /* as sent */
};
/* Read the answer after the OUT. */
void host_step_reply(struct host_step_reply *reply);
/* prepare + OUT + reply, for L1 (or L2 C code that does not care about its registers). */
void host_step(u32 test, const char *action, u64 nonce, struct host_step_reply *reply);

/*
 * Check a "migrate" reply against what L1 knows: the sequence number is the
 * next one, the vCPU was (in_l2) or was not in
 * guest mode, the header names this L2's VMCB / current VMCS, and the blob
 * carries L1's CR3 and, in guest mode with nested paging, vcpu->ncr3.
 * NVM_PASS, or NVM_FAIL naming the field, the value and the expected one.
 */
enum nvm_status host_step_check_migrate(const struct host_step_reply *reply, bool in_l2,
					const struct l2_vcpu *vcpu, struct stage_result *r);

#endif
