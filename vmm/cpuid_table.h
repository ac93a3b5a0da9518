/* SPDX-License-Identifier: MIT */
/*
 * The CPUID table the VMM gives L1: built from KVM_GET_SUPPORTED_CPUID, with
 * the vendor's virtualization leaves exposed as far as KVM supports them,
 * then the user's --cpu overrides and --hide-hypervisor applied.
 */
#ifndef NESTVMM_CPUID_TABLE_H
#define NESTVMM_CPUID_TABLE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUID_TABLE_MAX 256

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpuid_table {
	uint32_t n;
	struct kvm_cpuid_entry2 e[CPUID_TABLE_MAX];
};

/* A named feature bit, as --cpu spells it ("svm", "npt", "hypervisor"). */
struct cpuid_feature {
	const char *name;
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	unsigned int bit;
};

#define CPUID_OVERRIDE_MAX 32
struct cpuid_override { const struct cpuid_feature *f; bool set; };
struct cpuid_overrides { unsigned int n; struct cpuid_override o[CPUID_OVERRIDE_MAX]; };

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf);
const struct kvm_cpuid_entry2 *cpuid_find_const(const struct cpuid_table *t, uint32_t leaf,
						uint32_t subleaf);
/* Find an entry, adding an empty one (and raising the max leaf) when missing. */
struct kvm_cpuid_entry2 *cpuid_get_or_add(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf);
uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg r);
bool cpuid_has(const struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
	       enum cpuid_reg r, unsigned int bit);

const struct cpuid_feature *cpuid_feature_by_name(const char *name);
/* Parse "+svm,-npt,x2apic" (a bare name means +). Returns 0, or -1 with err. */
int cpuid_parse_overrides(const char *list, struct cpuid_overrides *out, char *err, size_t errlen);
void cpuid_apply_overrides(struct cpuid_table *t, const struct cpuid_overrides *o);
/* --hide-hypervisor: clear CPUID.1:ECX[31] and drop leaves 4000_0000h-4FFF_FFFFh. */
void cpuid_hide_hypervisor(struct cpuid_table *t);
/* Per-vCPU values KVM leaves to userspace: the initial APIC ID in leaf 1. */
void cpuid_set_vcpu_id(struct cpuid_table *t, uint32_t apic_id);

#endif
