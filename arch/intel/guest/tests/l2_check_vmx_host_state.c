// SPDX-License-Identifier: MIT
/*
 * l2.check.vmx.host-state: VMLAUNCH refuses a host-state area that breaks
 * a rule of SDM 27.2.2 ("Checks on Host Control Registers, MSRs, and SSP")
 * or 27.2.3 ("Checks on Host Segment and Descriptor-Table Registers") with
 * VMfailValid and VM-instruction error 8 ("VM entry with invalid
 * host-state field(s)", table 31-1); L1 goes on after the VMLAUNCH with
 * ZF set and CF, PF, AF, SF, OF clear (31.2). Also the 27.2.4 rule that
 * "host address-space size" matches IA32_EFER.LMA of the CPU in VMX root.
 *
 * Rows: CR0 without a bit IA32_VMX_CR0_FIXED0 fixes to 1 (NE); CR4
 * without VMXE; CR4 without PAE with "host address-space size" = 1; CR3
 * beyond the physical-address width; non-canonical FS base, GDTR base and
 * RIP; non-canonical IA32_SYSENTER_EIP; TR selector 0; CS selector 0; SS
 * selector with RPL 3; TR selector with TI set; "host address-space size"
 * = 0 while L1 runs in IA-32e mode; IA32_EFER.LMA = 0 with "load IA32_EFER".
 */
#include "test.h"
#include "../vmx_check.h"

#define NON_CANONICAL 0x8000000000001000ull   /* bits 63:47 differ: non-canonical for 48 and 57 bits */

static void l2_code(u64 unused)
{
	(void)unused;
}

static const char *cr0_fixed(struct l2_vcpu *v)
{
	(void)v;
	if (!(vmx_caps.cr0_fixed0 & CR0_NE))
		return "IA32_VMX_CR0_FIXED0 does not fix CR0.NE";
	vmx_check_write(HOST_CR0, vmx_check_read(HOST_CR0) & ~(u64)CR0_NE);
	return NULL;
}

static const char *cr4_vmxe(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(HOST_CR4, vmx_check_read(HOST_CR4) & ~(u64)CR4_VMXE);
	return NULL;
}

static const char *cr4_pae(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(HOST_CR4, vmx_check_read(HOST_CR4) & ~(u64)CR4_PAE);
	return NULL;
}

static const char *cr3_width(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(HOST_CR3, vmx_check_read(HOST_CR3) | (1ull << vmx_check_maxphyaddr()));
	return NULL;
}

static const char *fs_base(struct l2_vcpu *v) { (void)v; vmx_check_write(HOST_FS_BASE, NON_CANONICAL); return NULL; }
static const char *gdtr_base(struct l2_vcpu *v) { (void)v; vmx_check_write(HOST_GDTR_BASE, NON_CANONICAL); return NULL; }
static const char *host_rip(struct l2_vcpu *v) { (void)v; vmx_check_write(HOST_RIP, NON_CANONICAL); return NULL; }
static const char *sysenter_eip(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(HOST_IA32_SYSENTER_EIP, NON_CANONICAL);
	return NULL;
}
static const char *tr_zero(struct l2_vcpu *v) { (void)v; vmx_check_write(HOST_TR_SELECTOR, 0); return NULL; }
static const char *cs_zero(struct l2_vcpu *v) { (void)v; vmx_check_write(HOST_CS_SELECTOR, 0); return NULL; }
static const char *ss_rpl(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(HOST_SS_SELECTOR, vmx_check_read(HOST_SS_SELECTOR) | 3);
	return NULL;
}
static const char *tr_ti(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(HOST_TR_SELECTOR, vmx_check_read(HOST_TR_SELECTOR) | 4);
	return NULL;
}

/* 27.2.4: "host address-space size" must be 1 when L1 runs with IA32_EFER.LMA = 1. */
static const char *addr_space_size(struct l2_vcpu *v)
{
	(void)v;
	if (vmx_caps.ctl[VMX_CTL_EXIT] & VM_EXIT_HOST_ADDR_SPACE_SIZE)
		return "the capability MSR fixes \"host address-space size\" to 1";
	vmx_check_write(VM_EXIT_CONTROLS,
			vmx_check_read(VM_EXIT_CONTROLS) & ~(u64)VM_EXIT_HOST_ADDR_SPACE_SIZE);
	return NULL;
}

static const char *efer_lma(struct l2_vcpu *v)
{
	(void)v;
	if (!(vmx_check_read(VM_EXIT_CONTROLS) & VM_EXIT_LOAD_IA32_EFER))
		return "no \"load IA32_EFER\" VM-exit control";
	vmx_check_write(HOST_IA32_EFER, vmx_check_read(HOST_IA32_EFER) & ~(u64)EFER_LMA);
	return NULL;
}

#define ROW(what, fn) { what, fn, EXPECT_VMFAIL, VMXERR_ENTRY_INVALID_HOST_STATE, 0, false }

static const struct vmx_check_row rows[] = {
	ROW("host CR0.NE = 0 against IA32_VMX_CR0_FIXED0 (27.2.2)", cr0_fixed),
	ROW("host CR4.VMXE = 0 against IA32_VMX_CR4_FIXED0 (27.2.2)", cr4_vmxe),
	ROW("host CR4.PAE = 0 with \"host address-space size\" (27.2.2)", cr4_pae),
	ROW("host CR3 beyond the physical-address width (27.2.2)", cr3_width),
	ROW("host IA32_SYSENTER_EIP non-canonical (27.2.2)", sysenter_eip),
	ROW("host FS base non-canonical (27.2.3)", fs_base),
	ROW("host GDTR base non-canonical (27.2.3)", gdtr_base),
	ROW("host RIP non-canonical (27.2.3)", host_rip),
	ROW("host TR selector 0 (27.2.3)", tr_zero),
	ROW("host CS selector 0 (27.2.3)", cs_zero),
	ROW("host SS selector with RPL 3 (27.2.3)", ss_rpl),
	ROW("host TR selector with TI = 1 (27.2.3)", tr_ti),
	ROW("\"host address-space size\" 0 in IA-32e mode (27.2.4)", addr_space_size),
	ROW("host IA32_EFER.LMA = 0 with \"host address-space size\" (27.2.2)", efer_lma),
};

NVM_TEST(L2_CHECK_VMX_HOST_STATE)
{
	if (vmx_check_rows(rows, sizeof(rows) / sizeof(rows[0]), l2_code, r) != NVM_PASS)
		return r->status;
	return stage_pass(r, "every invalid host-state setting failed VMLAUNCH with VMfailValid(8), "
			  "ZF set, L1 going on after it");
}
