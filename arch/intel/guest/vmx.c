// SPDX-License-Identifier: MIT
/*
 * Intel VMX, L1 side: enter VMX operation (SDM vol. 3C, 24.7 "Enabling and
 * entering VMX operation"). The nested API (VMCS, entries, exits, EPT) is in vmx_nested.c.
 */
#include "vendor.h"
#include "vmx_guest.h"
#include "nested.h"

struct vmx_caps vmx_caps;

/*
 * 24.11.5: the VMXON region stays L1's for as long as it is in VMX
 * operation, so it lives here and not in l1.enable's arena, which the runner
 * releases after the stage: a test's page_alloc would hand the same page
 * out again (as a VMCS, VMPTRLD fails with error 10) and zero it (VMXON
 * again after VMXOFF fails).
 */
static u8 vmxon_page[4096] __attribute__((aligned(4096)));

struct vmx_outcome vmxon_safe(u64 region_gpa)
{
	u8 cf, zf;
	FAULT_REGS;

	__asm__ volatile(ASM_SAFE("vmxon %[pa]") "setc %[cf]\n\tsetz %[zf]"
			 : FAULT_OUTPUTS, [cf] "=qm"(cf), [zf] "=qm"(zf)
			 : [pa] "m"(region_gpa) : "cc", "memory");
	struct vmx_outcome o = { VMX_OK, FAULT_RESULT };
	if (o.fault.faulted)
		o.result = VMX_FAULT;
	else if (cf)
		o.result = VMX_FAIL_INVALID;
	else if (zf)
		o.result = VMX_FAIL_VALID;
	return o;
}

/* 24.7: IA32_FEATURE_CONTROL must be locked with VMXON outside SMX allowed. */
static enum nvm_status feature_control_setup(struct stage_result *r)
{
	u64 fc = 0;
	struct fault f = rdmsr_safe(MSR_IA32_FEATURE_CONTROL, &fc);

	if (f.faulted)
		return stage_fail(r, "%s on RDMSR IA32_FEATURE_CONTROL (3Ah)", exception_name(f.vector));
	stage_detail(r, "IA32_FEATURE_CONTROL=0x%lx", fc);
	if (fc & FEATURE_CONTROL_LOCKED) {
		if (!(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
			return stage_fail(r, "IA32_FEATURE_CONTROL is locked with VMXON outside SMX off: "
					  "VT-x is disabled in the BIOS");
		return NVM_PASS;
	}
	fc |= FEATURE_CONTROL_LOCKED | FEATURE_CONTROL_VMXON_OUTSIDE_SMX;
	f = wrmsr_safe(MSR_IA32_FEATURE_CONTROL, fc);
	TRACE("L1 wrote IA32_FEATURE_CONTROL=0x%lx (lock, VMXON outside SMX): %s", fc,
	      f.faulted ? exception_name(f.vector) : "accepted");
	if (f.faulted)
		return stage_fail(r, "%s on WRMSR IA32_FEATURE_CONTROL=0x%lx", exception_name(f.vector), fc);
	return NVM_PASS;
}

const char *vmx_result_name(enum vmx_result res)
{
	switch (res) {
	case VMX_OK:           return "VMsucceed";
	case VMX_FAIL_INVALID: return "VMfailInvalid";
	case VMX_FAIL_VALID:   return "VMfailValid";
	default:               return "fault";
	}
}

/* One capability MSR: read it, keep it, and report it (tests/fixtures/intel come from here). */
static bool cap_read(struct stage_result *r, u32 msr, const char *name, u64 *val)
{
	struct fault f = rdmsr_safe(msr, val);

	if (f.faulted) {
		stage_detail(r, "%s (%xh): %s", name, msr, exception_name(f.vector));
		*val = 0;
		return false;
	}
	stage_detail(r, "%s (%xh)=0x%lx", name, msr, *val);
	return true;
}

/*
 * Appendix A: read every capability MSR the later stages derive their
 * VMCS values from. PROCBASED_CTLS2 exists only if the primary controls
 * may activate it, EPT_VPID_CAP only if EPT or VPID may be enabled.
 */
static enum nvm_status vmx_caps_read(struct stage_result *r)
{
	struct vmx_caps *c = &vmx_caps;
	bool true_ctls = c->basic & VMX_BASIC_TRUE_CTLS;
	static const char *const ctl_msr_name[VMX_CTL_COUNT][2] = {
		[VMX_CTL_PIN]   = { "IA32_VMX_PINBASED_CTLS", "IA32_VMX_TRUE_PINBASED_CTLS" },
		[VMX_CTL_PROC]  = { "IA32_VMX_PROCBASED_CTLS", "IA32_VMX_TRUE_PROCBASED_CTLS" },
		[VMX_CTL_PROC2] = { "IA32_VMX_PROCBASED_CTLS2", "IA32_VMX_PROCBASED_CTLS2" },
		[VMX_CTL_EXIT]  = { "IA32_VMX_EXIT_CTLS", "IA32_VMX_TRUE_EXIT_CTLS" },
		[VMX_CTL_ENTRY] = { "IA32_VMX_ENTRY_CTLS", "IA32_VMX_TRUE_ENTRY_CTLS" },
	};
	bool ok = true;

	for (int i = 0; i < VMX_CTL_COUNT; i++) {
		if (i == VMX_CTL_PROC2 &&
		    !vmx_ctl_allows(c->ctl[VMX_CTL_PROC], CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
			continue;
		ok &= cap_read(r, vmx_ctl_cap_msr(i, c->basic), ctl_msr_name[i][true_ctls],
			       &c->ctl[i]);
	}
	/* The default1 view too, for the record (tests/fixtures/intel): it shows what TRUE_ relaxes. */
	if (true_ctls)
		for (int i = 0; i < VMX_CTL_COUNT; i++) {
			u64 v;
			if (i != VMX_CTL_PROC2)
				cap_read(r, vmx_ctl_cap_msr(i, 0), ctl_msr_name[i][0], &v);
		}
	ok &= cap_read(r, MSR_IA32_VMX_MISC, "IA32_VMX_MISC", &c->misc);
	ok &= cap_read(r, MSR_IA32_VMX_CR0_FIXED0, "IA32_VMX_CR0_FIXED0", &c->cr0_fixed0);
	ok &= cap_read(r, MSR_IA32_VMX_CR0_FIXED1, "IA32_VMX_CR0_FIXED1", &c->cr0_fixed1);
	ok &= cap_read(r, MSR_IA32_VMX_CR4_FIXED0, "IA32_VMX_CR4_FIXED0", &c->cr4_fixed0);
	ok &= cap_read(r, MSR_IA32_VMX_CR4_FIXED1, "IA32_VMX_CR4_FIXED1", &c->cr4_fixed1);
	if (vmx_ctl_allows(c->ctl[VMX_CTL_PROC2], SECONDARY_EXEC_ENABLE_EPT) ||
	    vmx_ctl_allows(c->ctl[VMX_CTL_PROC2], SECONDARY_EXEC_ENABLE_VPID))
		ok &= cap_read(r, MSR_IA32_VMX_EPT_VPID_CAP, "IA32_VMX_EPT_VPID_CAP", &c->ept_vpid_cap);
	if (!ok)
		return stage_fail(r, "a VMX capability MSR faulted although CPUID and "
				  "IA32_VMX_BASIC say it exists (see details)");
	return NVM_PASS;
}

/* l1.enable: CPUID.1:ECX.VMX, feature control, capabilities, CR0/CR4 fixed bits, CR4.VMXE, VMXON. */
static enum nvm_status vmx_enable(struct stage_result *r)
{
	u32 c[4];
	struct fault f;

	cpuid(CPUID_LEAF_FEATURES, 0, c);
	if (!(c[2] & CPUID_1_ECX_VMX))
		return stage_skip(r, "CPUID.1:ECX.VMX[5]=0 in L1: VMX not exposed by the VMM");
	if (feature_control_setup(r) != NVM_PASS)
		return NVM_FAIL;

	f = rdmsr_safe(MSR_IA32_VMX_BASIC, &vmx_caps.basic);
	if (f.faulted)
		return stage_fail(r, "%s on RDMSR IA32_VMX_BASIC (480h): L0 offers no VMX capability MSRs",
				  exception_name(f.vector));
	vmx_caps.revision = (u32)(vmx_caps.basic & VMX_BASIC_REVISION_MASK);
	stage_detail(r, "IA32_VMX_BASIC (480h)=0x%lx (revision 0x%x, VMCS %u bytes, %s controls)",
		     vmx_caps.basic, vmx_caps.revision, VMX_BASIC_VMCS_SIZE(vmx_caps.basic),
		     vmx_caps.basic & VMX_BASIC_TRUE_CTLS ? "TRUE_" : "default1");
	if (vmx_caps_read(r) != NVM_PASS)
		return NVM_FAIL;

	/* 24.8 / A.7: VMXON requires CR0 to hold its fixed bits already; L1 does not change CR0. */
	u64 cr0 = read_cr0();
	if (vmx_cr_fixed(cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1) != cr0)
		return stage_fail(r, "CR0=0x%lx does not satisfy IA32_VMX_CR0_FIXED0=0x%lx/FIXED1=0x%lx",
				  cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1);

	/* 24.8 / A.8: bits fixed to 1 in CR4 (VMXE among them) must be set in VMX operation. */
	u64 cr4 = vmx_cr_fixed(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1);
	f = write_cr4_safe(cr4);
	TRACE("L1 wrote CR4=0x%lx (VMXE, bit 13): %s", cr4,
	      f.faulted ? exception_name(f.vector) : "accepted");
	if (f.faulted)
		return stage_fail(r, "%s on MOV to CR4 with VMXE=1 (CR4=0x%lx): L0 refuses VMX to L1 "
				  "(no nested VMX in the host KVM)", exception_name(f.vector), cr4);

	/* 24.11.5: the VMXON region starts with the VMCS revision identifier. */
	vmx_caps.vmxon_region = vmxon_page;
	*(u32 *)vmx_caps.vmxon_region = vmx_caps.revision;
	struct vmx_outcome o = vmxon_safe(gpa_of(vmx_caps.vmxon_region));
	TRACE("L1 executed VMXON (region 0x%lx): %s", gpa_of(vmx_caps.vmxon_region),
	      vmx_result_name(o.result));
	if (o.result == VMX_FAULT)
		return stage_fail(r, "%s on VMXON", exception_name(o.fault.vector));
	if (o.result != VMX_OK)
		return stage_fail(r, "VMXON failed (%s)", vmx_result_name(o.result));
	nested = &nested_ops_vmx;
	nested_features = vmx_nested_features(&vmx_caps);
	stage_detail(r, "nested features (NVM_REQ bits) 0x%x", nested_features);
	return stage_pass(r, "in VMX root operation (VMCS revision 0x%x)", vmx_caps.revision);
}

/*
 * 31.3 VMXOFF: leaves VMX operation (each test's test_end VMCLEARed its
 * VMCS first, so its data is written back). VMfailValid here means dual-monitor
 * treatment is active; then CR4.VMXE must stay set.
 */
static void vmx_disable(void)
{
	u8 cf, zf;
	FAULT_REGS;

	__asm__ volatile(ASM_SAFE("vmxoff") "setc %[cf]\n\tsetz %[zf]"
			 : FAULT_OUTPUTS, [cf] "=qm"(cf), [zf] "=qm"(zf) :: "cc", "memory");
	struct fault f = FAULT_RESULT;
	TRACE("L1 executed VMXOFF: %s", f.faulted ? exception_name(f.vector) :
	      cf ? "VMfailInvalid" : zf ? "VMfailValid" : "VMsucceed");
	if (f.faulted || cf || zf)
		return;
	write_cr4(read_cr4() & ~(u64)CR4_VMXE);
}

const struct vendor_guest vendor_guest_intel = {
	.arch = "intel",
	.virt = "VMX",
	.id = NVM_INTEL,
	.enable = vmx_enable,
	.disable = vmx_disable,
};
