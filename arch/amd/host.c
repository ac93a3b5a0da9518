// SPDX-License-Identifier: MIT
/*
 * AMD SVM, host side: which CPUID bits expose SVM to L1 (APM vol. 3,
 * CPUID Fn8000_0001 ECX[2] and Fn8000_000A), and what the report calls things.
 */
#include "nestvmm/x86.h"
#include "nestvmm/stages.h"
#include "vendor.h"

static const struct cpuid_feature amd_features[] = {
	{ "svm",       CPUID_LEAF_EXT_FEATURES, 0, CPUID_ECX, 2 },
	{ "npt",       CPUID_LEAF_SVM, 0, CPUID_EDX, 0 },
	{ "lbrv",      CPUID_LEAF_SVM, 0, CPUID_EDX, 1 },
	{ "nrips",     CPUID_LEAF_SVM, 0, CPUID_EDX, 3 },
	{ "tsc-scale", CPUID_LEAF_SVM, 0, CPUID_EDX, 4 },
	{ "vmcb-clean", CPUID_LEAF_SVM, 0, CPUID_EDX, 5 },
	{ "flushbyasid", CPUID_LEAF_SVM, 0, CPUID_EDX, 6 },
	{ "decodeassists", CPUID_LEAF_SVM, 0, CPUID_EDX, 7 },
	{ "pause-filter", CPUID_LEAF_SVM, 0, CPUID_EDX, 10 },
	{ "vgif",      CPUID_LEAF_SVM, 0, CPUID_EDX, 16 },
	{ NULL, 0, 0, 0, 0 },
};

static bool svm_cpuid_offers(const struct cpuid_table *supported)
{
	return cpuid_has(supported, CPUID_LEAF_EXT_FEATURES, 0, CPUID_ECX, 2);
}

/* SVM is Fn8000_0001 ECX[2] plus leaf 8000_000Ah, copied from what KVM supports. */
static void svm_cpuid_expose(struct cpuid_table *t, const struct cpuid_table *supported)
{
	const struct kvm_cpuid_entry2 *leaf_a = cpuid_find_const(supported, CPUID_LEAF_SVM, 0);

	if (!svm_cpuid_offers(supported))
		return;
	cpuid_get_or_add(t, CPUID_LEAF_EXT_FEATURES, 0)->ecx |= CPUID_80000001_ECX_SVM;
	if (leaf_a)
		*cpuid_get_or_add(t, CPUID_LEAF_SVM, 0) = *leaf_a;
}

static const unsigned int svm_check_leaves[] = { CPUID_LEAF_EXT_FEATURES, CPUID_LEAF_SVM, 0 };

/* APM vol. 2, 15.30.1 VM_CR: SVMDIS (bit 4) makes EFER.SVME=1 #GP; firmware sets it to turn SVM off. */
#define VM_CR_SVMDIS (1ull << 4)
#define VM_CR_LOCK   (1ull << 3)

static const char *svm_fw_msr_disabled(uint64_t vm_cr)
{
	if (!(vm_cr & VM_CR_SVMDIS))
		return NULL;
	return vm_cr & VM_CR_LOCK ? "VM_CR.SVMDIS (bit 4) is set and VM_CR.LOCK (bit 3) holds it" :
				    "VM_CR.SVMDIS (bit 4) is set";
}

/*
 * KVM's words for it: kvm_amd since Linux 6.4 "SVM disabled (by BIOS) in
 * MSR_VM_CR on CPU n" (arch/x86/kvm/svm/svm.c), the x86 core the same
 * without the CPU when it clears the svm flag (arch/x86/kernel/cpu/amd.c).
 */
static const char *const svm_fw_log[] = { "SVM disabled (by BIOS) in MSR_VM_CR", NULL };

const struct vendor_host vendor_host_amd = {
	.arch = "amd",
	.id = NVM_AMD,
	.cpu_vendor = "AuthenticAMD",
	.virt = "SVM",
	.module = "kvm_amd",
	.cpu_flag = "svm",
	.paging_flag = "npt",
	.firmware_setting = "\"SVM Mode\" (AMD-V)",
	.features = amd_features,
	.cpuid_offers = svm_cpuid_offers,
	.cpuid_expose = svm_cpuid_expose,
	.check_leaves = svm_check_leaves,
	.fw_msr = MSR_VM_CR,
	.fw_msr_name = "VM_CR (MSR 0xc0010114)",
	.fw_msr_disabled = svm_fw_msr_disabled,
	.fw_log = svm_fw_log,
};
