// SPDX-License-Identifier: MIT
/*
 * The pure part of the "migrate-events" host step (vmm/step_events.c): what
 * it sets, what KVM_GET_VCPU_EVENTS must read back per vendor, and the
 * field-by-field comparison whose bits L1 names (nestvmm/wire.h NVM_EV_FIELDS);
 * and that the step is an action the protocol knows by name.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "protocol.h"
#include "step_events.h"

Test(step_events, plan_sets_nmi_shadow_and_a_pending_pf_with_payload)
{
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	e.flags = KVM_VCPUEVENT_VALID_SMM | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
	cr_assert_eq(step_events_plan(&e, true), NVM_EV_SET_NMI | NVM_EV_SET_SHADOW | NVM_EV_SET_EXCEPTION);
	cr_assert_eq(e.flags, KVM_VCPUEVENT_VALID_SMM | KVM_VCPUEVENT_VALID_NMI_PENDING |
		     KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_PAYLOAD);
	cr_assert_eq(e.nmi.pending, 1);
	cr_assert_eq(e.interrupt.shadow, KVM_X86_SHADOW_INT_MOV_SS);
	cr_assert(e.exception.pending && !e.exception.injected);
	cr_assert_eq(e.exception.nr, 14);
	cr_assert(e.exception.has_error_code && e.exception_has_payload);
	cr_assert_eq(e.exception.error_code, STEP_EV_ERROR_CODE);
	cr_assert_eq(e.exception_payload, STEP_EV_PAYLOAD);
}

Test(step_events, plan_without_the_payload_cap_sets_no_exception)
{
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	cr_assert_eq(step_events_plan(&e, false), NVM_EV_SET_NMI | NVM_EV_SET_SHADOW);
	cr_assert(!(e.flags & KVM_VCPUEVENT_VALID_PAYLOAD));
	cr_assert(!e.exception.pending && !e.exception.injected);
}

Test(step_events, plan_injected_sets_an_interrupt_in_delivery_and_the_pf_only)
{
	struct kvm_vcpu_events e;

	memset(&e, 0, sizeof(e));
	cr_assert_eq(step_events_plan_injected(&e, true), NVM_EV_SET_INTERRUPT | NVM_EV_SET_EXCEPTION);
	cr_assert(e.interrupt.injected && !e.interrupt.soft);
	cr_assert_eq(e.interrupt.nr, STEP_EV_IRQ);
	cr_assert_eq(e.interrupt.shadow, 0);
	cr_assert_eq(e.nmi.pending, 0);
	cr_assert(e.exception.pending && e.exception_has_payload);
}

Test(step_events, expect_reports_the_svm_shadow_as_both_kinds)
{
	struct kvm_vcpu_events e, w;

	memset(&e, 0, sizeof(e));
	step_events_plan(&e, true);
	step_events_expect(&e, false, &w);
	cr_assert_eq(step_events_diff(&e, &w), 0);
	step_events_expect(&e, true, &w);
	cr_assert_eq(w.interrupt.shadow, KVM_X86_SHADOW_INT_STI | KVM_X86_SHADOW_INT_MOV_SS);
	cr_assert_eq(step_events_diff(&e, &w), NVM_EV_F(INT_SHADOW));
}

Test(step_events, diff_names_each_field)
{
	struct kvm_vcpu_events a, b;
	char buf[256];

	memset(&a, 0, sizeof(a));
	step_events_plan(&a, true);
	b = a;
	b.nmi.pending = 0;
	b.exception_payload = 0;
	b.triple_fault.pending = 1;
	cr_assert_eq(step_events_diff(&a, &b), NVM_EV_F(NMI_PENDING) | NVM_EV_F(PAYLOAD) |
		     NVM_EV_F(TRIPLE_FAULT));
	cr_assert_str_eq(step_events_describe(NVM_EV_F(NMI_PENDING) | NVM_EV_F(PAYLOAD), &a, &b, buf,
					      sizeof(buf)),
			 "nmi.pending 0x1 -> 0x0, exception_payload 0x7eadbeef1000 -> 0x0");
	cr_assert(NVM_EV_FIELD_COUNT <= 32);
}

Test(step_events, protocol_knows_the_action_and_lists_it_for_unknown_ones)
{
	enum step_action a;
	char why[512];

	cr_assert_eq(protocol_step(NVM_STAGE_L1_BOOT, "migrate-events", NVM_STAGE_L1_BOOT, false, &a,
				   why, sizeof(why)), 0);
	cr_assert_eq(a, STEP_MIGRATE_EVENTS);
	cr_assert_eq(protocol_step(NVM_STAGE_L1_BOOT, "migrate-event", NVM_STAGE_L1_BOOT, false, &a,
				   why, sizeof(why)), -1);
	cr_assert(strstr(why, "migrate-events, migrate-events-injected") &&
		  strstr(why, "); l1.boot asked for unknown action \"migrate-event\""), "%s", why);
}
