// SPDX-License-Identifier: MIT
/*
 * Intel VMX, host side: which CPUID bit exposes VMX to L1 (SDM vol. 2A,
 * CPUID.1:ECX[5]); the VMX capabilities themselves are MSRs KVM emulates.
 */
#include "nestvmm/x86.h"
#include "nestvmm/stages.h"
#include "vendor.h"

static const struct cpuid_feature intel_features[] = {
	{ "vmx", CPUID_LEAF_FEATURES, 0, CPUID_ECX, 5 },
	{ NULL, 0, 0, 0, 0 },
};

static bool vmx_cpuid_offers(const struct cpuid_table *supported)
{
	return cpuid_has(supported, CPUID_LEAF_FEATURES, 0, CPUID_ECX, 5);
}

static void vmx_cpuid_expose(struct cpuid_table *t, const struct cpuid_table *supported)
{
	if (vmx_cpuid_offers(supported))
		cpuid_get_or_add(t, CPUID_LEAF_FEATURES, 0)->ecx |= CPUID_1_ECX_VMX;
}

static const unsigned int vmx_check_leaves[] = { 0 };

/* SDM vol. 3C, 24.7 IA32_FEATURE_CONTROL: lock (bit 0), VMXON inside SMX (1), outside SMX (2). */
#define FEATURE_CONTROL_LOCKED           (1ull << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX   (1ull << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX  (1ull << 2)

/* As kvm-ok: locked with VMX outside SMX clear means VMXON #GPs until the firmware allows it. */
static const char *vmx_fw_msr_disabled(uint64_t fc)
{
	if (!(fc & FEATURE_CONTROL_LOCKED) || (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		return NULL;
	return fc & FEATURE_CONTROL_VMX_INSIDE_SMX ?
	       "IA32_FEATURE_CONTROL is locked (bit 0) with VMX allowed only inside SMX (bit 1, "
	       "Intel TXT), not outside (bit 2)" :
	       "IA32_FEATURE_CONTROL is locked (bit 0) with VMX outside SMX (bit 2) clear";
}

/*
 * KVM's words for it: "x86/cpu: VMX (outside TXT) disabled by BIOS" when the
 * core clears the vmx flag (arch/x86/kernel/cpu/feat_ctl.c, Linux 5.6+),
 * kvm_intel's "VMX not enabled (by BIOS) in MSR_IA32_FEAT_CTL on CPU n"
 * (arch/x86/kvm/vmx/vmx.c, 6.4+), and before 5.x "kvm: disable TXT in the
 * BIOS or activate TXT before enabling KVM".
 */
static const char *const vmx_fw_log[] = {
	"VMX (outside TXT) disabled by BIOS", "VMX (inside TXT) disabled by BIOS",
	"VMX not enabled (by BIOS) in MSR_IA32_FEAT_CTL", "disable TXT in the BIOS or activate TXT",
	NULL,
};

const struct vendor_host vendor_host_intel = {
	.arch = "intel",
	.id = NVM_INTEL,
	.cpu_vendor = "GenuineIntel",
	.virt = "VMX",
	.module = "kvm_intel",
	.cpu_flag = "vmx",
	.paging_flag = "ept",
	.firmware_setting = "\"Intel Virtualization Technology\" (VT-x)",
	.features = intel_features,
	.cpuid_offers = vmx_cpuid_offers,
	.cpuid_expose = vmx_cpuid_expose,
	.check_leaves = vmx_check_leaves,
	.fw_msr = MSR_IA32_FEATURE_CONTROL,
	.fw_msr_name = "IA32_FEATURE_CONTROL (MSR 0x3a)",
	.fw_msr_disabled = vmx_fw_msr_disabled,
	.fw_log = vmx_fw_log,
};
