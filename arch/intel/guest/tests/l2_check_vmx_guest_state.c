// SPDX-License-Identifier: MIT
/*
 * l2.check.vmx.guest-state: a guest-state area that breaks a rule of SDM
 * 27.3.1 ("Checks on the Guest State Area") makes VMLAUNCH fail late: a VM
 * exit with basic reason 33 ("VM-entry failure due to invalid guest
 * state") and bit 31 set, exit qualification 0 - or 4 when the VMCS link
 * pointer is the culprit (27.8 "VM-Entry Failures During or After Loading
 * Guest State") - and L1 resumes at HOST_RIP with RFLAGS = 2 (28.5.3). A
 * failure while loading the VM-entry MSR-load list (27.4) exits with
 * reason 34 and the 1-based number of the failing entry as qualification.
 *
 * Rows (27.3.1.1 control registers, debug registers, MSRs; 27.3.1.2
 * segments; 27.3.1.4 RIP/RFLAGS; 27.3.1.5 non-register state): CR0.PG
 * without CR0.PE; CR4.VMXE = 0 against IA32_VMX_CR4_FIXED0; IA-32e mode
 * guest with CR4.PAE = 0; IA32_EFER.LMA = 0 with "IA-32e mode guest" and
 * "load IA32_EFER"; DR7[63:32] set with "load debug controls"; TR type 3
 * (busy 16-bit TSS) in an IA-32e mode guest; CS with L and D/B both set;
 * RFLAGS bit 1 = 0; activity state 5 (reserved); blocking by STI with
 * RFLAGS.IF = 0; an external interrupt injected under blocking by STI;
 * VMCS link pointer not 4-KiB aligned (qualification 4). MSR loading: entry
 * 2 of 2 names an x2APIC MSR (qualification 2); entry 1 has bits 63:32 of
 * its first quadword set (qualification 1).
 */
#include "test.h"
#include "../vmx_check.h"

#define MSR_KERNEL_GS_BASE 0xc0000102u

static void l2_code(u64 unused)
{
	(void)unused;
}

static const char *cr0_pg_no_pe(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_CR0, vmx_check_read(GUEST_CR0) & ~(u64)CR0_PE);
	return NULL;
}

static const char *cr4_vmxe(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_CR4, vmx_check_read(GUEST_CR4) & ~(u64)CR4_VMXE);
	return NULL;
}

static const char *cr4_pae(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_CR4, vmx_check_read(GUEST_CR4) & ~(u64)CR4_PAE);
	return NULL;
}

static const char *efer_lma(struct l2_vcpu *v)
{
	(void)v;
	if (!(vmx_check_read(VM_ENTRY_CONTROLS) & VM_ENTRY_LOAD_IA32_EFER))
		return "no \"load IA32_EFER\" VM-entry control";
	vmx_check_write(GUEST_IA32_EFER, vmx_check_read(GUEST_IA32_EFER) & ~(u64)EFER_LMA);
	return NULL;
}

static const char *dr7_high(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_ENTRY], VM_ENTRY_LOAD_DEBUG_CONTROLS))
		return "no \"load debug controls\" VM-entry control";
	vmx_check_write(VM_ENTRY_CONTROLS, vmx_check_read(VM_ENTRY_CONTROLS) | VM_ENTRY_LOAD_DEBUG_CONTROLS);
	vmx_check_write(GUEST_DR7, 0x400ull | (1ull << 32));
	return NULL;
}

/* 27.3.1.2: in IA-32e mode TR's type must be 11 (busy 64-bit TSS); 3 is a busy 16-bit TSS. */
static const char *tr_type(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_TR_AR_BYTES, (vmx_check_read(GUEST_TR_AR_BYTES) & ~0xfull) | 3);
	return NULL;
}

/* 27.3.1.2: with "IA-32e mode guest", CS.L = 1 requires CS.D/B = 0 (AR bits 13, 14). */
static const char *cs_l_and_d(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_CS_AR_BYTES, vmx_check_read(GUEST_CS_AR_BYTES) | (1u << 13) | (1u << 14));
	return NULL;
}

static const char *rflags_bit1(struct l2_vcpu *v)
{
	v->rflags &= ~(u64)RFLAGS_RESERVED_1;   /* vmx_vcpu_enter VMWRITEs it */
	return NULL;
}

static const char *activity_reserved(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_ACTIVITY_STATE, 5);
	return NULL;
}

static const char *sti_blocking_if0(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(GUEST_INTERRUPTIBILITY_INFO, 1);
	return NULL;
}

/* 27.3.1.5: an injected external interrupt requires bits 1:0 of the interruptibility state 0. */
static const char *extint_under_sti(struct l2_vcpu *v)
{
	v->rflags |= RFLAGS_IF;
	vmx_check_write(GUEST_INTERRUPTIBILITY_INFO, 1);
	vmx_check_write(VM_ENTRY_INTR_INFO_FIELD, vmx_entry_intr_info(0x20, INTR_TYPE_EXT_INTR, false));
	return NULL;
}

static const char *link_unaligned(struct l2_vcpu *v)
{
	u8 *page = page_alloc(1);

	(void)v;
	*(u32 *)page = vmx_caps.revision;
	vmx_check_write(VMCS_LINK_POINTER, gpa_of(page) + 0x100);
	return NULL;
}

/* 27.4: a VM-entry MSR-load list of `n` 16-byte entries (index, reserved, value). */
static u64 *msr_list(unsigned int n)
{
	u64 *list = page_alloc(1);

	vmx_check_write(VM_ENTRY_MSR_LOAD_ADDR, gpa_of(list));
	vmx_check_write(VM_ENTRY_MSR_LOAD_COUNT, n);
	return list;
}

static const char *msr_load_x2apic(struct l2_vcpu *v)
{
	u64 *list = msr_list(2);

	(void)v;
	list[0] = MSR_KERNEL_GS_BASE;                  /* loads fine: L1's own value */
	list[1] = rdmsr(MSR_KERNEL_GS_BASE);
	list[2] = 0x808;                               /* x2APIC TPR: 27.4 forbids 800H-8FFH */
	list[3] = 0;
	return NULL;
}

static const char *msr_load_reserved(struct l2_vcpu *v)
{
	u64 *list = msr_list(1);

	(void)v;
	list[0] = MSR_KERNEL_GS_BASE | (1ull << 32);   /* bits 63:32 reserved */
	list[1] = rdmsr(MSR_KERNEL_GS_BASE);
	return NULL;
}

#define ROW(what, fn) { what, fn, EXPECT_ENTRY_FAIL, EXIT_REASON_INVALID_STATE, 0, false }

static const struct vmx_check_row rows[] = {
	ROW("guest CR0.PG = 1 with CR0.PE = 0 (27.3.1.1)", cr0_pg_no_pe),
	ROW("guest CR4.VMXE = 0 against IA32_VMX_CR4_FIXED0 (27.3.1.1)", cr4_vmxe),
	ROW("IA-32e mode guest with CR4.PAE = 0 (27.3.1.1)", cr4_pae),
	ROW("guest IA32_EFER.LMA = 0 with \"IA-32e mode guest\" (27.3.1.1)", efer_lma),
	ROW("guest DR7[63:32] set with \"load debug controls\" (27.3.1.1)", dr7_high),
	ROW("guest TR type 3 in IA-32e mode (27.3.1.2)", tr_type),
	ROW("guest CS.L = 1 and CS.D/B = 1 (27.3.1.2)", cs_l_and_d),
	ROW("guest RFLAGS bit 1 = 0 (27.3.1.4)", rflags_bit1),
	ROW("guest activity state 5, reserved (27.3.1.5)", activity_reserved),
	ROW("blocking by STI with RFLAGS.IF = 0 (27.3.1.5)", sti_blocking_if0),
	ROW("external interrupt injected under blocking by STI (27.3.1.5)", extint_under_sti),
	{ "VMCS link pointer not 4-KiB aligned (27.3.1.5), qualification 4", link_unaligned,
	  EXPECT_ENTRY_FAIL, EXIT_REASON_INVALID_STATE, 4, false },
	{ "VM-entry MSR-load entry 2 names x2APIC MSR 808H (27.4), qualification 2", msr_load_x2apic,
	  EXPECT_ENTRY_FAIL, EXIT_REASON_MSR_LOAD_FAIL, 2, false },
	{ "VM-entry MSR-load entry 1 with reserved bits 63:32 set (27.4), qualification 1",
	  msr_load_reserved, EXPECT_ENTRY_FAIL, EXIT_REASON_MSR_LOAD_FAIL, 1, false },
};

NVM_TEST(L2_CHECK_VMX_GUEST_STATE)
{
	if (vmx_check_rows(rows, sizeof(rows) / sizeof(rows[0]), l2_code, r) != NVM_PASS)
		return r->status;
	return stage_pass(r, "every invalid guest state failed the entry with exit 0x80000021 "
			  "(MSR loading: 0x80000022) and the SDM's qualification, L1 at HOST_RIP "
			  "with RFLAGS 2");
}
