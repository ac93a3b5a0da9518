// SPDX-License-Identifier: MIT
/*
 * Host step "migrate-events" (step_events.h): event state set while the vCPU
 * is in L2, carried through a save/restore into a fresh VM.
 *
 * What is set, and why these: KVM holds, per vCPU, one exception (pending:
 * not yet checked for interception, or injected: in delivery), one
 * interrupt, NMI pending/injected/masked, the interrupt shadow, SMI/SMM and
 * a pending triple fault (api.rst, struct kvm_vcpu_events). In guest mode
 * a *pending* exception, a pending NMI and the shadow are what L1's
 * intercepts act on (KVM turns them into nested exits: x86.c KVM_RUN
 * "exception_from_userspace", svm_check_nested_events, vmx_check_nested_events),
 * so the step sets those three at once. The "-injected" variant sets an
 * external interrupt in delivery with the #PF instead (a fault while
 * delivering it: the nested exit must carry the interrupt in EXITINTINFO /
 * IDT-vectoring information); apart, because with the shadow set an
 * interrupt in delivery is a state no CPU reaches. Not set: an injected
 * exception (one exception slot: the pending #PF has it), SMI/SMM
 * (nestvmm's L1 has no SMM), a triple fault (needs KVM_CAP_X86_TRIPLE_FAULT_EVENT
 * and ends L2), NMI masked (L2 has no NMI handler running).
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "step_events.h"
#include "trace.h"

uint32_t step_events_plan(struct kvm_vcpu_events *ev, bool payload)
{
	uint32_t set = NVM_EV_SET_NMI | NVM_EV_SET_SHADOW;

	ev->flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
	ev->flags &= ~KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	ev->nmi.pending = 1;
	ev->interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS;
	if (payload) {
		/* api.rst: with the payload flag, "pending" is an exception not yet delivered or intercepted. */
		ev->flags |= KVM_VCPUEVENT_VALID_PAYLOAD;
		ev->exception.pending = 1;
		ev->exception.injected = 0;
		ev->exception.nr = STEP_EV_VECTOR;
		ev->exception.has_error_code = 1;
		ev->exception.error_code = STEP_EV_ERROR_CODE;
		ev->exception_has_payload = 1;
		ev->exception_payload = STEP_EV_PAYLOAD;
		set |= NVM_EV_SET_EXCEPTION;
	}
	return set;
}

uint32_t step_events_plan_injected(struct kvm_vcpu_events *ev, bool payload)
{
	uint32_t set = step_events_plan(ev, payload) & ~(NVM_EV_SET_NMI | NVM_EV_SET_SHADOW);

	/* An external interrupt in delivery, and (the #PF) a fault that delivery met. */
	ev->nmi.pending = 0;
	ev->interrupt.shadow = 0;
	ev->interrupt.injected = 1;
	ev->interrupt.nr = STEP_EV_IRQ;
	ev->interrupt.soft = 0;
	return set | NVM_EV_SET_INTERRUPT;
}

void step_events_expect(const struct kvm_vcpu_events *set, bool svm, struct kvm_vcpu_events *want)
{
	*want = *set;
	want->flags &= ~KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	/* The VMCB has one shadow bit; KVM reports it as both kinds (svm_get_interrupt_shadow). */
	if (svm && want->interrupt.shadow)
		want->interrupt.shadow = KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS;
}

/* Each compared field as a u64, in enum nvm_ev_field order. */
static void fields(const struct kvm_vcpu_events *e, uint64_t f[NVM_EV_FIELD_COUNT])
{
	f[NVM_EV_EXC_INJECTED] = e->exception.injected;
	f[NVM_EV_EXC_NR] = e->exception.nr;
	f[NVM_EV_EXC_HAS_ERROR_CODE] = e->exception.has_error_code;
	f[NVM_EV_EXC_PENDING] = e->exception.pending;
	f[NVM_EV_EXC_ERROR_CODE] = e->exception.error_code;
	f[NVM_EV_INT_INJECTED] = e->interrupt.injected;
	f[NVM_EV_INT_NR] = e->interrupt.nr;
	f[NVM_EV_INT_SOFT] = e->interrupt.soft;
	f[NVM_EV_INT_SHADOW] = e->interrupt.shadow;
	f[NVM_EV_NMI_INJECTED] = e->nmi.injected;
	f[NVM_EV_NMI_PENDING] = e->nmi.pending;
	f[NVM_EV_NMI_MASKED] = e->nmi.masked;
	f[NVM_EV_SMI_SMM] = e->smi.smm;
	f[NVM_EV_SMI_PENDING] = e->smi.pending;
	f[NVM_EV_SMI_INSIDE_NMI] = e->smi.smm_inside_nmi;
	f[NVM_EV_SMI_LATCHED_INIT] = e->smi.latched_init;
	f[NVM_EV_FLAGS] = e->flags;
	f[NVM_EV_TRIPLE_FAULT] = e->triple_fault.pending;
	f[NVM_EV_HAS_PAYLOAD] = e->exception_has_payload;
	f[NVM_EV_PAYLOAD] = e->exception_payload;
}

static const char *const field_name[NVM_EV_FIELD_COUNT] = {
#define NAME(id, name) [NVM_EV_##id] = name,
	NVM_EV_FIELDS(NAME)
#undef NAME
};

uint32_t step_events_diff(const struct kvm_vcpu_events *a, const struct kvm_vcpu_events *b)
{
	uint64_t fa[NVM_EV_FIELD_COUNT], fb[NVM_EV_FIELD_COUNT];
	uint32_t mask = 0;

	fields(a, fa);
	fields(b, fb);
	for (int i = 0; i < NVM_EV_FIELD_COUNT; i++)
		if (fa[i] != fb[i])
			mask |= 1u << i;
	return mask;
}

const char *step_events_describe(uint32_t mask, const struct kvm_vcpu_events *a,
				 const struct kvm_vcpu_events *b, char *buf, size_t len)
{
	uint64_t fa[NVM_EV_FIELD_COUNT], fb[NVM_EV_FIELD_COUNT];
	size_t n = 0;

	fields(a, fa);
	fields(b, fb);
	buf[0] = '\0';
	for (int i = 0; i < NVM_EV_FIELD_COUNT && n < len; i++)
		if (mask & (1u << i))
			n += (size_t)snprintf(buf + n, len - n, "%s%s 0x%llx -> 0x%llx", n ? ", " : "",
					      field_name[i], (unsigned long long)fa[i],
					      (unsigned long long)fb[i]);
	return buf;
}

/* KVM's vendor module follows the host CPU: kvm_amd on AMD, kvm_intel on Intel. */
static bool host_is_amd(void)
{
	unsigned int a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x68747541u;      /* "Auth" enticAMD */
}

int step_events(struct vm *vm, bool injected, uint64_t reply[NVM_MSG_VALS], struct migrate_info *mi,
		char *err)
{
	struct kvm_vcpu_events base, set, want, got, after;
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXCEPTION_PAYLOAD, .args = { 1 } };
	bool payload;
	uint32_t what;

	/* The OUT first: completing it skips the instruction, which clears the shadow. */
	if (vm_settle(vm, err))
		return -1;
	/* The payload ABI is per VM, enabled once (vm_migrate enables it in the new VM too). */
	payload = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXCEPTION_PAYLOAD) > 0;
	if (payload && KVM_IOCTL(vm->vm_fd, KVM_ENABLE_CAP, &cap, err) < 0)
		return -1;
	if (KVM_IOCTL(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &base, err) < 0)
		return -1;
	set = base;
	what = injected ? step_events_plan_injected(&set, payload) : step_events_plan(&set, payload);
	if (KVM_IOCTL(vm->vcpu_fd, KVM_SET_VCPU_EVENTS, &set, err) < 0 ||
	    KVM_IOCTL(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &got, err) < 0)
		return -1;
	step_events_expect(&set, host_is_amd(), &want);
	reply[NVM_STEP_EV_DIFF_SET] = step_events_diff(&want, &got);
	if (vm_migrate(vm, MIGRATE_ORDER_QEMU, mi, err))
		return -1;
	if (KVM_IOCTL(vm->vcpu_fd, KVM_GET_VCPU_EVENTS, &after, err) < 0)
		return -1;
	reply[NVM_STEP_EV_DIFF_RESTORE] = step_events_diff(&got, &after);
	reply[NVM_STEP_EV_SET] = what;
	reply[NVM_STEP_EV_EXC] = (what & NVM_EV_SET_EXCEPTION ? STEP_EV_VECTOR | 1u << 8 |
				  (uint64_t)STEP_EV_ERROR_CODE << 32 : 0) |
				 (what & NVM_EV_SET_INTERRUPT ? STEP_EV_IRQ << 16 : 0);
	reply[NVM_STEP_EV_PAYLOAD] = what & NVM_EV_SET_EXCEPTION ? STEP_EV_PAYLOAD : 0;
	reply[NVM_STEP_EV_NESTED_FLAGS] = mi->flags;
	if (reply[NVM_STEP_EV_DIFF_SET] | reply[NVM_STEP_EV_DIFF_RESTORE]) {
		char d1[512], d2[512];

		TRACE("migrate-events: read back after KVM_SET_VCPU_EVENTS: %s; after the restore: %s",
		      step_events_describe((uint32_t)reply[NVM_STEP_EV_DIFF_SET], &want, &got, d1, sizeof(d1)),
		      step_events_describe((uint32_t)reply[NVM_STEP_EV_DIFF_RESTORE], &got, &after, d2,
					   sizeof(d2)));
	}
	return 0;
}
