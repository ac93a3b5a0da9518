/* SPDX-License-Identifier: MIT */
/*
 * Outer hypervisors: when nestvmm's host is itself a VM, which hypervisor
 * runs it (CPUID 4000_0000h signature, or DMI when the hypervisor bit is
 * hidden), the name users know it by, and the exact setting that makes it
 * pass VMX/SVM through. Remedies are templates: {module} {flag} {virt}
 * {firmware} become the vendor's kvm_amd, svm, SVM, firmware setting.
 */
#ifndef NESTVMM_HYPERVISOR_H
#define NESTVMM_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vendor.h"
#include "verdict.h"

struct hypervisor {
	const char *id;          /* stable, for JSON and scripts: "kvm", "hyperv", ... */
	const char *name;        /* as users know it: "KVM (QEMU/libvirt)" */
	const char *signature;   /* CPUID 4000_0000h EBX:ECX:EDX, NULs and blanks trimmed */
	const char *dmi[4];      /* "file=prefix" under /sys/class/dmi/id that name it */
	const char *runs_on;     /* a DMI-named row whose CPUID shows another signature: "KVMKVMKVM|..." */
	const char *offers;      /* extensions it can pass to guests: "svm vmx", "svm", "" */
	const char *remedy_id;
	const char *setting;     /* the exact command or setting (template) */
	const char *notes;       /* caveats users hit next (template), or NULL */
	const char *cannot;      /* when it cannot offer this extension: what to do instead */
};

extern const struct hypervisor hypervisors[];   /* ends with a NULL id */
extern const struct hypervisor hypervisor_unknown;

/* DMI strings that identify a VM (/sys/class/dmi/id/...). */
struct dmi_id {
	char sys_vendor[64], product_name[64], bios_vendor[64], chassis_asset_tag[64];
};

void dmi_probe(const char *root, struct dmi_id *d);
/* The row for a CPUID signature (blanks and NULs ignored), or NULL. */
const struct hypervisor *hypervisor_by_signature(const char *sig);
const struct hypervisor *hypervisor_by_id(const char *id);
/* The row DMI names, or NULL. */
const struct hypervisor *hypervisor_by_dmi(const struct dmi_id *d);
/*
 * Who runs this host: sig0/sig1 are the signatures at 4000_0000h and
 * 4000_0100h ("" when absent; KVM and Xen move theirs to 4000_0100h behind
 * a Hyper-V-compatible interface), hv_bit is CPUID.1:ECX[31]. NULL when
 * neither CPUID nor DMI shows a hypervisor. *via says how it was found.
 */
const struct hypervisor *hypervisor_identify(bool hv_bit, const char *sig0, const char *sig1,
					     const struct dmi_id *d, const char **via);
/* Can h pass vh's extension to its guests? */
bool hypervisor_offers(const struct hypervisor *h, const struct vendor_host *vh);
/* Expand a remedy template for vh. */
void hypervisor_expand(const char *tmpl, const struct vendor_host *vh, char *out, size_t len);

/*
 * Fill h's outer-hypervisor facts: whether CPUID reports vh's extension,
 * DMI, who runs this host, Hyper-V's nesting leaves and KVM's eVMCS use.
 * Needs h->hv_bit and the signatures from host_probe_cpu().
 */
void outer_probe(const char *root, const struct vendor_host *vh, struct host_facts *h);

/* Hyper-V CPUID leaves that matter for nesting (TLFS; Linux asm/hyperv-tlfs.h). */
#define HV_CPUID_ENLIGHTMENT_INFO          0x40000004u
#define HV_CPUID_NESTED_FEATURES           0x4000000au
#define HV_ENLIGHTENED_VMCS_RECOMMENDED    (1u << 14)   /* 4000_0004h EAX */
#define HV_NESTED_EVMCS_VERSION_LOW(eax)   ((eax) & 0xffu)         /* 4000_000Ah EAX[7:0] */
#define HV_NESTED_EVMCS_VERSION_HIGH(eax)  (((eax) >> 8) & 0xffu)  /* EAX[15:8] */
#define HV_NESTED_DIRECT_FLUSH             (1u << 17)   /* 4000_000Ah EAX */
#define HV_NESTED_ENLIGHTENED_TLB          (1u << 22)   /* 4000_000Ah EAX, AMD */

#endif
