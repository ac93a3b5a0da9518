// SPDX-License-Identifier: MIT
/*
 * Save the whole vCPU and restore it into a fresh VM: a migration inside one
 * process (Documentation/virt/kvm/api.rst: KVM_GET/SET_NESTED_STATE,
 * KVM_GET/SET_VCPU_EVENTS, KVM_GET_MSR_INDEX_LIST, ...).
 *
 * Saved: CPUID, regs, sregs2 (sregs where KVM lacks KVM_CAP_SREGS2), XSAVE
 * (KVM_GET_XSAVE2 sized by KVM_CAP_XSAVE2; the legacy FPU without
 * KVM_CAP_XSAVE), XCRs, debug registers, every MSR of KVM's MSR index and
 * feature lists that KVM_GET_MSRS reads on this vCPU (IA32_TSC among them),
 * vCPU events, MP state, KVM_GET_NESTED_STATE into a buffer of
 * KVM_CHECK_EXTENSION(KVM_CAP_NESTED_STATE) bytes, and L1's TSC offset
 * (KVM_VCPU_TSC_OFFSET) where KVM offers it. Guest RAM is the same
 * host memory, registered in the new VM's memslot. The VM has no in-kernel
 * irqchip (vm_create makes none), so there is no LAPIC state to carry.
 *
 * Restore order on the new vCPU (MIGRATE_ORDER_QEMU, kvm_arch_put_registers):
 *   1. KVM_SET_CPUID2    first: KVM checks MSRs, EFER and CR4 against it
 *   2. KVM_SET_MSRS      VMX capability MSRs and IA32_FEATURE_CONTROL before
 *                        the nested state, which KVM checks against them
 *   3. KVM_SET_SREGS(2)  EFER.SVME / CR4.VMXE before the nested state: in
 *                        guest mode these are L2's, and svm_set_nested_state
 *                        refuses guest mode without EFER.SVME
 *   4. KVM_SET_NESTED_STATE  enters guest mode; L1's state comes from the blob
 *   5. KVM_SET_REGS, KVM_SET_XSAVE(/FPU), KVM_SET_XCRS, KVM_SET_DEBUGREGS
 *   6. KVM_SET_VCPU_EVENTS, KVM_SET_MP_STATE  last, on the final mode
 *   7. KVM_SET_DEVICE_ATTR(KVM_VCPU_TSC_OFFSET)  after every order: exact
 *      over what the IA32_TSC write made of it
 * Other valid orders move KVM_SET_NESTED_STATE: after everything else
 * (MIGRATE_ORDER_NESTED_LAST), or before the MSRs (..._BEFORE_MSRS). It
 * cannot go before the sregs: a fresh vCPU has EFER.SVME=0 / CR4.VMXE=0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "migrate.h"
#include "trace.h"

/* Offsets in the nested-state blob's data (after the 128-byte header). */
#define SVM_VMCB12_N_CR3      0x0b0     /* APM table B-1 */
#define SVM_VMCB01_SAVE_CR3   0x550     /* APM table B-2: save area at 0x400 */
#define SVM_VMCB01_SAVE_RIP   0x578
#define VMX_VMCS12_EPTP       120       /* KVM's struct vmcs12 (vmcs12.h CHECK_OFFSET): ABI */
#define VMX_VMCS12_GUEST_RIP  544
#define VMX_VMCS12_HOST_CR3   592
#define VMX_VMCS12_HOST_RIP   672

struct msr_buf {
	struct kvm_msrs h;
	struct kvm_msr_entry e[];
};

struct vcpu_state {
	struct cpuid_table cpuid;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_sregs2 sregs2;
	struct kvm_fpu fpu;
	struct kvm_xsave *xsave;        /* NULL: the legacy FPU instead */
	struct kvm_xcrs xcrs;
	struct kvm_debugregs dbg;
	struct kvm_vcpu_events events;
	struct kvm_mp_state mp;
	struct msr_buf *msrs;
	struct kvm_nested_state *nested;
	uint64_t tsc_offset;            /* L1's TSC offset (KVM_VCPU_TSC_OFFSET), if tsc_offset_ok */
	bool sregs2_ok, xcrs_ok, tsc_offset_ok;
};

/* The capabilities a save/restore needs, checked before the first ioctl. */
struct migrate_caps {
	int nested_state, xsave, xsave2, xcrs, sregs2, msr_features;
};

static int caps_check(const struct vm *vm, struct migrate_caps *c, char *err)
{
	static const struct { int cap; const char *name; } required[] = {
		{ KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
		{ KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
		{ KVM_CAP_MP_STATE, "KVM_CAP_MP_STATE" },
	};

	c->nested_state = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NESTED_STATE);
	if (c->nested_state <= 0) {
		snprintf(err, KVM_ERR_MAX, "KVM_CAP_NESTED_STATE is %d: this KVM cannot save a vCPU's "
			 "nested state", c->nested_state);
		return -1;
	}
	if ((size_t)c->nested_state < sizeof(struct kvm_nested_state)) {
		snprintf(err, KVM_ERR_MAX, "KVM_CAP_NESTED_STATE is %d, less than the %zu-byte header",
			 c->nested_state, sizeof(struct kvm_nested_state));
		return -1;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, required[i].cap) <= 0) {
			snprintf(err, KVM_ERR_MAX, "this KVM lacks %s, which a save/restore needs",
				 required[i].name);
			return -1;
		}
	c->xsave = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
	/* KVM_CAP_XSAVE2 on the VM fd: the size KVM_GET_XSAVE2 writes (0: not offered). */
	c->xsave2 = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE2);
	if (c->xsave2 < 0)
		c->xsave2 = 0;
	c->xcrs = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
	c->sregs2 = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SREGS2) > 0;
	c->msr_features = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_GET_MSR_FEATURES) > 0;
	return 0;
}

/* KVM_GET_MSR_INDEX_LIST / KVM_GET_MSR_FEATURE_INDEX_LIST: ask for the count, then the list. */
static struct kvm_msr_list *msr_list_get(int kvm_fd, unsigned long req, const char *name, char *err)
{
	struct kvm_msr_list probe = { .nmsrs = 0 }, *l;

	if (ioctl(kvm_fd, req, &probe) < 0 && errno != E2BIG) {
		snprintf(err, KVM_ERR_MAX, "%s: %s", name, strerror(errno));
		return NULL;
	}
	if (!(l = calloc(1, sizeof(*l) + probe.nmsrs * sizeof(l->indices[0])))) {
		snprintf(err, KVM_ERR_MAX, "%s: out of memory for %u MSRs", name, probe.nmsrs);
		return NULL;
	}
	l->nmsrs = probe.nmsrs;
	if (kvm_ioctl(kvm_fd, req, l, name, err) < 0) {
		free(l);
		return NULL;
	}
	return l;
}

/*
 * Every MSR of both lists that KVM_GET_MSRS reads on this vCPU, one index
 * at a time: KVM stops a batch at the first MSR it refuses (one the vCPU's
 * CPUID lacks), and those are skipped, counted.
 */
static int msrs_save(const struct vm *vm, const struct migrate_caps *c, struct vcpu_state *s,
		     struct migrate_info *info, char *err)
{
	struct kvm_msr_list *lists[2] = { NULL, NULL };
	unsigned int total = 0;
	int rc = -1;

	if (!(lists[0] = msr_list_get(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, "KVM_GET_MSR_INDEX_LIST", err)))
		return -1;
	if (c->msr_features && !(lists[1] = msr_list_get(vm->kvm_fd, KVM_GET_MSR_FEATURE_INDEX_LIST,
							 "KVM_GET_MSR_FEATURE_INDEX_LIST", err)))
		goto out;
	total = lists[0]->nmsrs + (lists[1] ? lists[1]->nmsrs : 0);
	if (!(s->msrs = calloc(1, sizeof(*s->msrs) + total * sizeof(s->msrs->e[0])))) {
		snprintf(err, KVM_ERR_MAX, "out of memory for %u MSRs", total);
		goto out;
	}
	for (int l = 0; l < 2 && lists[l]; l++)
		for (unsigned int i = 0; i < lists[l]->nmsrs; i++) {
			struct { struct kvm_msrs h; struct kvm_msr_entry e; } one = { .h.nmsrs = 1 };
			uint32_t index = lists[l]->indices[i];
			bool dup = false;
			int got;

			for (unsigned int k = 0; k < s->msrs->h.nmsrs && !dup; k++)
				dup = s->msrs->e[k].index == index;
			if (dup)
				continue;
			one.e.index = index;
			if ((got = KVM_IOCTL(vm->vcpu_fd, KVM_GET_MSRS, &one, err)) < 0)
				goto out;
			if (got != 1) {
				info->msrs_refused_get++;
				continue;
			}
			s->msrs->e[s->msrs->h.nmsrs++] = one.e;
		}
	info->msrs = s->msrs->h.nmsrs;
	rc = 0;
out:
	free(lists[0]);
	free(lists[1]);
	return rc;
}

/* KVM_SET_MSRS stops at the first MSR it refuses: name it and go on past it. */
static int msrs_restore(const struct vm *vm, const struct vcpu_state *s, struct migrate_info *info,
			char *err)
{
	uint32_t n = s->msrs->h.nmsrs, start = 0;
	struct msr_buf *b = calloc(1, sizeof(*b) + n * sizeof(b->e[0]));
	int set;

	if (!b) {
		snprintf(err, KVM_ERR_MAX, "out of memory for %u MSRs", n);
		return -1;
	}
	while (start < n) {
		b->h.nmsrs = n - start;
		memcpy(b->e, s->msrs->e + start, (n - start) * sizeof(b->e[0]));
		if ((set = KVM_IOCTL(vm->vcpu_fd, KVM_SET_MSRS, b, err)) < 0) {
			free(b);
			return -1;
		}
		if ((uint32_t)set == n - start)
			break;
		TRACE("migrate: KVM_SET_MSRS refused MSR 0x%x (value 0x%llx) on the new vCPU; skipped",
		      b->e[set].index, b->e[set].data);
		info->msrs_refused_set++;
		start += (uint32_t)set + 1;
	}
	free(b);
	return 0;
}

/* 8 bytes at off in the blob's data, or 0 where the blob (its size says) is shorter. */
static uint64_t blob_u64(const struct kvm_nested_state *n, size_t off)
{
	uint64_t v = 0;

	if (n->size >= sizeof(*n) + off + 8)
		memcpy(&v, (const uint8_t *)n + sizeof(*n) + off, 8);
	return v;
}

void migrate_decode(const struct kvm_nested_state *n, uint64_t rip, struct migrate_info *info)
{
	info->pa = info->vmxon_pa = info->vmx_preemption_deadline = 0;
	info->ncr3 = info->l1_cr3 = info->l1_rip = info->l2_rip = 0;
	info->vmx_smm_flags = 0;
	info->vmx_flags = 0;
	info->flags = n->flags;
	info->format = n->format;
	info->size = n->size;
	if (n->format == KVM_STATE_NESTED_FORMAT_SVM) {
		info->pa = n->hdr.svm.vmcb_pa;
		if (n->flags & KVM_STATE_NESTED_GUEST_MODE) {
			info->ncr3 = blob_u64(n, SVM_VMCB12_N_CR3);
			info->l1_cr3 = blob_u64(n, SVM_VMCB01_SAVE_CR3);
			info->l1_rip = blob_u64(n, SVM_VMCB01_SAVE_RIP);
			info->l2_rip = rip;           /* in guest mode, the vCPU's registers are L2's */
		}
	} else {
		info->pa = n->hdr.vmx.vmcs12_pa;
		info->vmxon_pa = n->hdr.vmx.vmxon_pa;
		info->vmx_smm_flags = n->hdr.vmx.smm.flags;
		info->vmx_flags = n->hdr.vmx.flags;
		info->vmx_preemption_deadline = n->hdr.vmx.preemption_timer_deadline;
		/* The vmcs12 travels whenever there is a current VMCS, guest mode or not. */
		info->ncr3 = blob_u64(n, VMX_VMCS12_EPTP);
		info->l1_cr3 = blob_u64(n, VMX_VMCS12_HOST_CR3);
		info->l1_rip = blob_u64(n, VMX_VMCS12_HOST_RIP);
		info->l2_rip = blob_u64(n, VMX_VMCS12_GUEST_RIP);
	}
}

/* L1's TSC offset as a vCPU attribute (api.rst, KVM_VCPU_TSC_CTRL), read into / from s. */
static struct kvm_device_attr tsc_offset_attr(struct vcpu_state *s)
{
	return (struct kvm_device_attr){ .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
					 .addr = (uint64_t)(uintptr_t)&s->tsc_offset };
}

static int state_save(const struct vm *vm, const struct migrate_caps *c, struct vcpu_state *s,
		      struct migrate_info *info, char *err)
{
	int fd = vm->vcpu_fd;

	if (vcpu_get_cpuid((struct vm *)vm, &s->cpuid, err) ||
	    KVM_IOCTL(fd, KVM_GET_REGS, &s->regs, err) < 0)
		return -1;
	s->sregs2_ok = c->sregs2;
	if (c->sregs2 ? KVM_IOCTL(fd, KVM_GET_SREGS2, &s->sregs2, err) < 0 :
			KVM_IOCTL(fd, KVM_GET_SREGS, &s->sregs, err) < 0)
		return -1;
	if (c->xsave) {
		size_t size = c->xsave2 > (int)sizeof(struct kvm_xsave) ? (size_t)c->xsave2 :
			      sizeof(struct kvm_xsave);
		if (!(s->xsave = calloc(1, size))) {
			snprintf(err, KVM_ERR_MAX, "out of memory for %zu bytes of XSAVE state", size);
			return -1;
		}
		if (c->xsave2 ? KVM_IOCTL(fd, KVM_GET_XSAVE2, s->xsave, err) < 0 :
				KVM_IOCTL(fd, KVM_GET_XSAVE, s->xsave, err) < 0)
			return -1;
	} else if (KVM_IOCTL(fd, KVM_GET_FPU, &s->fpu, err) < 0) {
		return -1;
	}
	s->xcrs_ok = c->xcrs;
	if ((c->xcrs && KVM_IOCTL(fd, KVM_GET_XCRS, &s->xcrs, err) < 0) ||
	    KVM_IOCTL(fd, KVM_GET_DEBUGREGS, &s->dbg, err) < 0 ||
	    msrs_save(vm, c, s, info, err) ||
	    KVM_IOCTL(fd, KVM_GET_VCPU_EVENTS, &s->events, err) < 0 ||
	    KVM_IOCTL(fd, KVM_GET_MP_STATE, &s->mp, err) < 0)
		return -1;
	if (!(s->nested = calloc(1, (size_t)c->nested_state))) {
		snprintf(err, KVM_ERR_MAX, "out of memory for %d bytes of nested state", c->nested_state);
		return -1;
	}
	s->nested->size = (uint32_t)c->nested_state;
	if (KVM_IOCTL(fd, KVM_GET_NESTED_STATE, s->nested, err) < 0)
		return -1;
	/*
	 * L1's TSC offset, where KVM offers it as a vCPU attribute (api.rst,
	 * KVM_VCPU_TSC_CTRL): restoring IA32_TSC alone is not enough, because
	 * KVM may take a write within a second of the vCPU's creation as an
	 * attempt to sync vCPUs and ignore it (kvm_synchronize_tsc; fixed in
	 * 6.7 for the first write userspace makes, not in 6.1). Both VMs run on
	 * the same host TSC, so the same offset continues L1's TSC exactly.
	 */
	struct kvm_device_attr tsc = tsc_offset_attr(s);
	if (ioctl(fd, KVM_HAS_DEVICE_ATTR, &tsc) == 0) {
		if (KVM_IOCTL(fd, KVM_GET_DEVICE_ATTR, &tsc, err) < 0)
			return -1;
		s->tsc_offset_ok = true;
	}
	migrate_decode(s->nested, s->regs.rip, info);
	return 0;
}

static const char *const migrate_order_name[] = {
	[MIGRATE_ORDER_QEMU] = "CPUID, MSRs, sregs, nested state, regs, XSAVE, XCRs, DRs, events, MP state",
	[MIGRATE_ORDER_NESTED_LAST] = "CPUID, MSRs, sregs, regs, XSAVE, XCRs, DRs, events, MP state, nested state",
	[MIGRATE_ORDER_NESTED_BEFORE_MSRS] = "CPUID, sregs, nested state, MSRs, regs, XSAVE, XCRs, DRs, events, MP state",
};

static int state_restore(struct vm *vm, enum migrate_order order, struct vcpu_state *s,
			 struct migrate_info *info, char *err)
{
	int fd = vm->vcpu_fd;
	bool early = order == MIGRATE_ORDER_NESTED_BEFORE_MSRS;

	/* The NMI and SIPI fields are only taken when flagged valid. */
	s->events.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	/*
	 * Events saved with KVM_CAP_EXCEPTION_PAYLOAD enabled (the old VM had
	 * it: the flag says so) need it in the new VM too, as QEMU enables it
	 * at creation: else KVM_SET_VCPU_EVENTS refuses the payload flag.
	 */
	if (s->events.flags & KVM_VCPUEVENT_VALID_PAYLOAD) {
		struct kvm_enable_cap cap = { .cap = KVM_CAP_EXCEPTION_PAYLOAD, .args = { 1 } };
		if (KVM_IOCTL(vm->vm_fd, KVM_ENABLE_CAP, &cap, err) < 0)
			return -1;
	}
	if (vcpu_set_cpuid(vm, &s->cpuid, err) ||
	    (!early && msrs_restore(vm, s, info, err)) ||
	    (s->sregs2_ok ? KVM_IOCTL(fd, KVM_SET_SREGS2, &s->sregs2, err) < 0 :
			    KVM_IOCTL(fd, KVM_SET_SREGS, &s->sregs, err) < 0) ||
	    (order != MIGRATE_ORDER_NESTED_LAST &&
	     KVM_IOCTL(fd, KVM_SET_NESTED_STATE, s->nested, err) < 0) ||
	    (early && msrs_restore(vm, s, info, err)) ||
	    KVM_IOCTL(fd, KVM_SET_REGS, &s->regs, err) < 0 ||
	    (s->xsave ? KVM_IOCTL(fd, KVM_SET_XSAVE, s->xsave, err) < 0 :
			KVM_IOCTL(fd, KVM_SET_FPU, &s->fpu, err) < 0) ||
	    (s->xcrs_ok && KVM_IOCTL(fd, KVM_SET_XCRS, &s->xcrs, err) < 0) ||
	    KVM_IOCTL(fd, KVM_SET_DEBUGREGS, &s->dbg, err) < 0 ||
	    KVM_IOCTL(fd, KVM_SET_VCPU_EVENTS, &s->events, err) < 0 ||
	    KVM_IOCTL(fd, KVM_SET_MP_STATE, &s->mp, err) < 0 ||
	    (order == MIGRATE_ORDER_NESTED_LAST &&
	     KVM_IOCTL(fd, KVM_SET_NESTED_STATE, s->nested, err) < 0))
		return -1;
	/* Last, over whatever the IA32_TSC write made of it (state_save says why). */
	if (s->tsc_offset_ok) {
		struct kvm_device_attr tsc = tsc_offset_attr(s);
		if (KVM_IOCTL(fd, KVM_SET_DEVICE_ATTR, &tsc, err) < 0)
			return -1;
	}
	return 0;
}

static void state_free(struct vcpu_state *s)
{
	free(s->xsave);
	free(s->msrs);
	free(s->nested);
}

int vm_migrate(struct vm *vm, enum migrate_order order, struct migrate_info *info, char *err)
{
	static struct vcpu_state s;   /* static: the CPUID table is large */
	struct migrate_caps caps;
	struct vm fresh;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	memset(&s, 0, sizeof(s));
	vm_init(&fresh);
	if (caps_check(vm, &caps, err) || vm_settle(vm, err) || state_save(vm, &caps, &s, info, err))
		goto out;
	info->sregs2 = caps.sregs2;
	info->order = migrate_order_name[order];
	info->xsave2 = caps.xsave2 > 0;
	/* A fresh VM as main.c makes one, on the same RAM: the memslot moves, not the bytes. */
	if (vm_create_on(&fresh, vm->kvm_fd, vm->mem, vm->mem_size, err) ||
	    state_restore(&fresh, order, &s, info, err)) {
		fresh.mem = MAP_FAILED;       /* the RAM stays the old VM's */
		vm_destroy(&fresh);
		goto out;
	}
	vm->mem = MAP_FAILED;                 /* now the new VM's */
	vm_destroy(vm);
	*vm = fresh;
	rc = 0;
out:
	state_free(&s);
	return rc;
}
