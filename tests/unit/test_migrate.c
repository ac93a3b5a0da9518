// SPDX-License-Identifier: MIT
/*
 * migrate_decode(): the nested-state blob's header and the fields --trace and
 * L1's step reply take from its data, at the offsets of APM appendix B
 * (vmcb12 control, vmcb01 save area) and of KVM's struct vmcs12 (an ABI).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "migrate.h"

static union {
	struct kvm_nested_state n;
	uint8_t raw[sizeof(struct kvm_nested_state) + 2 * 4096];
} b;

static void put(size_t off, uint64_t v)
{
	memcpy(b.raw + sizeof(b.n) + off, &v, 8);
}

Test(migrate, svm_guest_mode)
{
	struct migrate_info mi;

	memset(&b, 0, sizeof(b));
	b.n.format = KVM_STATE_NESTED_FORMAT_SVM;
	b.n.flags = KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_GIF_SET;
	b.n.size = sizeof(b.n) + 4096;
	b.n.hdr.svm.vmcb_pa = 0x222000;
	put(0x0b0, 0x232000);          /* N_CR3 */
	put(0x550, 0x2000);            /* save.cr3 */
	put(0x578, 0x2003b5);          /* save.rip */
	migrate_decode(&b.n, 0x207927, &mi);
	cr_expect_eq(mi.flags, 0x101);
	cr_expect_eq(mi.size, 128 + 4096);
	cr_expect_eq(mi.pa, 0x222000);
	cr_expect_eq(mi.ncr3, 0x232000);
	cr_expect_eq(mi.l1_cr3, 0x2000);
	cr_expect_eq(mi.l1_rip, 0x2003b5);
	cr_expect_eq(mi.l2_rip, 0x207927);
}

/* Outside guest mode SVM has no data: nothing is read past the header. */
Test(migrate, svm_outside_guest_mode_reads_no_data)
{
	struct migrate_info mi;

	memset(&b, 0xff, sizeof(b));
	b.n.format = KVM_STATE_NESTED_FORMAT_SVM;
	b.n.flags = 0;
	b.n.size = sizeof(b.n);
	b.n.hdr.svm.vmcb_pa = 0;
	migrate_decode(&b.n, 0x1234, &mi);
	cr_expect_eq(mi.ncr3, 0);
	cr_expect_eq(mi.l1_cr3, 0);
	cr_expect_eq(mi.l2_rip, 0);
}

Test(migrate, vmx_header_and_vmcs12)
{
	struct migrate_info mi;

	memset(&b, 0, sizeof(b));
	b.n.format = KVM_STATE_NESTED_FORMAT_VMX;
	b.n.flags = KVM_STATE_NESTED_GUEST_MODE;
	b.n.size = sizeof(b.n) + 4096;
	b.n.hdr.vmx.vmxon_pa = 0x20a000;
	b.n.hdr.vmx.vmcs12_pa = 0x222000;
	b.n.hdr.vmx.smm.flags = 0;
	b.n.hdr.vmx.flags = KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE;
	b.n.hdr.vmx.preemption_timer_deadline = 99;
	put(120, 0x23201e);            /* vmcs12 ept_pointer */
	put(544, 0x207927);            /* guest_rip */
	put(592, 0x2000);              /* host_cr3 */
	put(672, 0x2003b5);            /* host_rip */
	migrate_decode(&b.n, 0, &mi);
	cr_expect_eq(mi.pa, 0x222000);
	cr_expect_eq(mi.vmxon_pa, 0x20a000);
	cr_expect_eq(mi.vmx_flags, KVM_STATE_VMX_PREEMPTION_TIMER_DEADLINE);
	cr_expect_eq(mi.vmx_preemption_deadline, 99);
	cr_expect_eq(mi.ncr3, 0x23201e);
	cr_expect_eq(mi.l2_rip, 0x207927);
	cr_expect_eq(mi.l1_cr3, 0x2000);
	cr_expect_eq(mi.l1_rip, 0x2003b5);
}

/* A size shorter than the fields: they read as 0, nothing past the size is touched. */
Test(migrate, short_blob_reads_nothing_past_its_size)
{
	struct migrate_info mi;

	memset(&b, 0xee, sizeof(b));
	b.n.format = KVM_STATE_NESTED_FORMAT_VMX;
	b.n.flags = 0;
	b.n.size = sizeof(b.n) + 128;  /* EPTP (120) fits, the others do not */
	migrate_decode(&b.n, 0, &mi);
	cr_expect_eq(mi.ncr3, 0xeeeeeeeeeeeeeeeeull);
	cr_expect_eq(mi.l2_rip, 0);
	cr_expect_eq(mi.l1_cr3, 0);
	cr_expect_eq(mi.l1_rip, 0);
}
