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
/* The VMM's answer, after the OUT (val[NVM_STEP_*]). */
void host_step_reply(u64 reply[NVM_MSG_VALS]);
/* prepare + OUT + reply, for L1 (or L2 C code that does not care about its registers). */
void host_step(u32 test, const char *action, u64 nonce, u64 reply[NVM_MSG_VALS]);

/*
 * Check a "migrate" reply against what L1 knows: the sequence number is the
 * next one (host_step_seq counts them), the vCPU was (in_l2) or was not in
 * guest mode, the header names this L2's VMCB / current VMCS, and the blob
 * carries L1's CR3 and, in guest mode with nested paging, vcpu->ncr3.
 * NVM_PASS, or NVM_FAIL naming the field, the value and the expected one.
 */
enum nvm_status host_step_check_migrate(const u64 reply[NVM_MSG_VALS], bool in_l2,
					const struct l2_vcpu *vcpu, struct stage_result *r);
/* Host steps the VMM answered in this boot, as L1 counted them. */
extern u32 host_step_seq;

#endif
