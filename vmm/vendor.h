/* SPDX-License-Identifier: MIT */
/*
 * The one interface between the vendor-neutral VMM and its vendor parts
 * (arch/amd/host.c, arch/intel/host.c): names a report needs, the CPUID a
 * vendor exposes, and the remedies a user can type. No `if (intel)` outside.
 */
#ifndef NESTVMM_VENDOR_H
#define NESTVMM_VENDOR_H

#include <stdbool.h>
#include <stdint.h>

#include "cpuid_table.h"

struct vendor_host {
	const char *arch;              /* --arch name: "amd" / "intel" */
	int id;                        /* NVM_AMD / NVM_INTEL: the registry's vendor column */
	const char *cpu_vendor;        /* CPUID.0 signature: "AuthenticAMD" */
	const char *virt;              /* "SVM" / "VMX" */
	const char *module;            /* KVM module: "kvm_amd" */
	const char *cpu_flag;          /* /proc/cpuinfo flag of the extension: "svm" */
	const char *paging_flag;       /* ... and of nested paging: "npt" */
	const char *firmware_setting;  /* what the BIOS calls it */
	/* Named feature bits this vendor adds to --cpu, ending with a NULL name. */
	const struct cpuid_feature *features;
	/* Does KVM's supported CPUID offer the extension to guests? */
	bool (*cpuid_offers)(const struct cpuid_table *supported);
	/* Expose the extension in L1's table, as far as `supported` allows. */
	void (*cpuid_expose)(struct cpuid_table *t, const struct cpuid_table *supported);
	/* CPUID leaves L1 checks in l1.cpuid besides the common ones (0 ends). */
	const unsigned int *check_leaves;
	/* The firmware's switch for the extension, as kvm-ok reads it: an MSR ... */
	uint32_t fw_msr;
	const char *fw_msr_name;
	/* ... NULL when its value leaves the extension usable, else what disables it; */
	const char *(*fw_msr_disabled)(uint64_t val);
	/* and KVM's kernel-log lines saying so (case-insensitive substrings, NULL ends). */
	const char *const *fw_log;
};

extern const struct vendor_host vendor_host_amd;
extern const struct vendor_host vendor_host_intel;
extern const struct vendor_host *const vendor_hosts[];   /* NULL-terminated */

const struct vendor_host *vendor_host_by_arch(const char *arch);
const struct vendor_host *vendor_host_by_cpu(const char *cpu_vendor);

#endif
