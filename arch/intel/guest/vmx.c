// SPDX-License-Identifier: MIT
/*
 * Intel VMX, L1 side: enter VMX operation (SDM vol. 3C, 24.7 "Enabling and
 * entering VMX operation"). VMCS setup, launch and exits are in vmx_l2.c.
 */
#include "vendor.h"
#include "vmx_guest.h"

struct vmx_caps vmx_caps;

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

/* l1.enable: CPUID.1:ECX.VMX, feature control, CR0/CR4 fixed bits, CR4.VMXE, VMXON. */
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
	vmx_caps.revision = (u32)vmx_caps.basic & 0x7fffffff;
	stage_detail(r, "IA32_VMX_BASIC=0x%lx (revision 0x%x)", vmx_caps.basic, vmx_caps.revision);

	/* 24.8 / A.7-A.8: bits fixed to 1 in CR0/CR4 must be set in VMX operation. */
	u64 cr4 = (read_cr4() | rdmsr(MSR_IA32_VMX_CR4_FIXED0) | CR4_VMXE) &
		  rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	f = write_cr4_safe(cr4);
	TRACE("L1 wrote CR4=0x%lx (VMXE, bit 13): %s", cr4,
	      f.faulted ? exception_name(f.vector) : "accepted");
	if (f.faulted)
		return stage_fail(r, "%s on MOV to CR4 with VMXE=1 (CR4=0x%lx): L0 refuses VMX to L1 "
				  "(no nested VMX in the host KVM)", exception_name(f.vector), cr4);

	/* 24.11.5: the VMXON region starts with the VMCS revision identifier. */
	vmx_caps.vmxon_region = page_alloc(1);
	*(u32 *)vmx_caps.vmxon_region = vmx_caps.revision;
	struct vmx_outcome o = vmxon_safe(gpa_of(vmx_caps.vmxon_region));
	TRACE("L1 executed VMXON (region 0x%lx): result %d", gpa_of(vmx_caps.vmxon_region), o.result);
	if (o.result == VMX_FAULT)
		return stage_fail(r, "%s on VMXON", exception_name(o.fault.vector));
	if (o.result != VMX_OK)
		return stage_fail(r, "VMXON failed (%s)",
				  o.result == VMX_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
	return stage_pass(r, "in VMX root operation (VMCS revision 0x%x)", vmx_caps.revision);
}

static void vmx_disable(void)
{
	__asm__ volatile("vmxoff" ::: "cc", "memory");
	write_cr4(read_cr4() & ~(u64)CR4_VMXE);
}

const struct vendor_guest vendor_guest_intel = {
	.arch = "intel",
	.virt = "VMX",
	.enable = vmx_enable,
	.run_l2 = vmx_run_l2,
	.disable = vmx_disable,
};
