/* SPDX-License-Identifier: MIT */
/*
 * Save/restore of the whole vCPU into a fresh VM, inside one process: what
 * a live migration does to a vCPU, nested state included (KVM_GET/SET_NESTED_STATE,
 * Documentation/virt/kvm/api.rst). See vmm/migrate.c for the order.
 */
#ifndef NESTVMM_MIGRATE_H
#define NESTVMM_MIGRATE_H

#include <stdbool.h>
#include <stdint.h>

#include "kvm.h"

/* What a save/restore carried: for --trace and for the reply to L1 (nestvmm/wire.h). */
struct migrate_info {
	uint16_t flags, format;         /* kvm_nested_state header as saved */
	uint32_t size;
	uint64_t pa;                    /* hdr.svm.vmcb_pa / hdr.vmx.vmcs12_pa */
	uint64_t vmxon_pa;              /* hdr.vmx.vmxon_pa (VMX) */
	uint16_t vmx_smm_flags;
	uint32_t vmx_flags;
	uint64_t vmx_preemption_deadline;
	/* Decoded from the blob's data when the vCPU was in guest mode (0 otherwise): */
	uint64_t ncr3;                  /* vmcb12 N_CR3 / vmcs12 EPT_POINTER */
	uint64_t l1_cr3, l1_rip;        /* vmcb01 save area / vmcs12 HOST_CR3, HOST_RIP */
	uint64_t l2_rip;                /* regs.rip (SVM, current = L2) / vmcs12 GUEST_RIP */
	unsigned int msrs, msrs_refused_get, msrs_refused_set;
	bool sregs2, xsave2;
	const char *order;              /* the restore order, in words */
};

/*
 * The header and the key fields of a KVM_GET_NESTED_STATE blob (n->size
 * bytes, the data read only as far as that size says) into info; rip: the
 * vCPU's RIP when it was saved (L2's in guest mode).
 */
void migrate_decode(const struct kvm_nested_state *n, uint64_t rip, struct migrate_info *info);

/*
 * Complete the exit in progress (KVM_RUN with immediate_exit: KVM finishes
 * the port I/O, then returns EINTR), save every piece of vCPU state, create
 * a fresh VM and vCPU on the same guest RAM, restore into it, destroy the
 * old VM and leave *vm describing the new one. 0, or -1 with err naming the
 * ioctl (or missing capability) and errno; on failure *vm is unchanged.
 * `order`: where KVM_SET_NESTED_STATE goes among the restore ioctls (all
 * valid orders: CPUID first, sregs before the nested state).
 */
/*
 * Complete the exit in progress: KVM_RUN with immediate_exit (KVM finishes
 * the port I/O and returns EINTR without entering the guest). 0, or -1
 * with err. vm_migrate does it first; a step that changes the vCPU before
 * migrating does it before its change.
 */
int vm_settle(struct vm *vm, char *err);

enum migrate_order {
	MIGRATE_ORDER_QEMU,               /* CPUID, MSRs, sregs, nested, regs, XSAVE, XCRs, DRs, events, MP */
	MIGRATE_ORDER_NESTED_LAST,        /* CPUID, MSRs, sregs, regs, ..., MP, nested */
	MIGRATE_ORDER_NESTED_BEFORE_MSRS, /* CPUID, sregs, nested, MSRs, regs, ... */
};
int vm_migrate(struct vm *vm, enum migrate_order order, struct migrate_info *info, char *err);

#endif
