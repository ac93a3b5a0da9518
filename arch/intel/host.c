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
};
