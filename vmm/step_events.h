/* SPDX-License-Identifier: MIT */
/*
 * Host step "migrate-events" (nestvmm/wire.h, l2.migrate.events): set every
 * piece of event state KVM_SET_VCPU_EVENTS takes that KVM can hold in guest
 * mode, read it back, save/restore the vCPU into a fresh VM and read it
 * back there (Documentation/virt/kvm/api.rst, KVM_GET/SET_VCPU_EVENTS).
 */
#ifndef NESTVMM_STEP_EVENTS_H
#define NESTVMM_STEP_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "migrate.h"
#include "nestvmm/wire.h"

/* What the step sets (also in the reply, so L1 expects the same): a #PF the fault of the OUT's successor. */
#define STEP_EV_VECTOR     14u                    /* #PF */
#define STEP_EV_ERROR_CODE 0x2u                   /* W: a write to a not-present page */
#define STEP_EV_PAYLOAD    0x00007eadbeef1000ull  /* the faulting address: CR2 / EXITINFO2 / qualification */
#define STEP_EV_IRQ        0x41u                  /* "migrate-events-injected": the interrupt in delivery */

/*
 * Pure: from the events KVM_GET_VCPU_EVENTS returned, the events to set:
 * nmi.pending = 1, interrupt.shadow = MOV SS, and when payload (KVM_CAP_
 * EXCEPTION_PAYLOAD enabled) exception.pending #PF with error code and
 * payload. Returns NVM_EV_SET_* bits.
 */
uint32_t step_events_plan(struct kvm_vcpu_events *ev, bool payload);
/*
 * Pure: the "migrate-events-injected" variant: interrupt.injected (vector
 * STEP_EV_IRQ, not soft) and, with payload, the same pending #PF; no NMI,
 * shadow 0. Returns NVM_EV_SET_* bits.
 */
uint32_t step_events_plan_injected(struct kvm_vcpu_events *ev, bool payload);
/*
 * Pure: what KVM_GET_VCPU_EVENTS must read back after `set`: the same,
 * SIPI flag aside; on SVM the shadow as KVM reports its one bit
 * (svm_get_interrupt_shadow: STI | MOV_SS).
 */
void step_events_expect(const struct kvm_vcpu_events *set, bool svm, struct kvm_vcpu_events *want);
/* Pure: NVM_EV_F_* bits of the fields where a and b differ. */
uint32_t step_events_diff(const struct kvm_vcpu_events *a, const struct kvm_vcpu_events *b);
/* Pure: "nmi.pending 1 -> 0, ..." for the fields in mask; returns buf. */
const char *step_events_describe(uint32_t mask, const struct kvm_vcpu_events *a,
				 const struct kvm_vcpu_events *b, char *buf, size_t len);

/*
 * The step on the vCPU at an exit that reached the VMM (guest mode):
 * complete the exit, set the events, read them back, migrate (vm_migrate,
 * QEMU's order) and read them back in the new VM; injected: the
 * "migrate-events-injected" plan. Fills reply[2..7]
 * (enum nvm_step_events_val) and *mi. 0, or -1 with err naming the ioctl.
 */
int step_events(struct vm *vm, bool injected, uint64_t reply[NVM_MSG_VALS], struct migrate_info *mi,
		char *err);

#endif
