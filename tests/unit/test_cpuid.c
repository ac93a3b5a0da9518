// SPDX-License-Identifier: MIT
/* CPUID table building: vendor exposure, --cpu overrides, --hide-hypervisor. */
#include <criterion/criterion.h>
#include <string.h>

#include "cpuid_table.h"
#include "nestvmm/x86.h"
#include "vendor.h"

static struct cpuid_table t;
static char err[256];

static void add(uint32_t leaf, uint32_t eax, uint32_t ebx, uint32_t ecx, uint32_t edx)
{
	t.e[t.n++] = (struct kvm_cpuid_entry2){ .function = leaf, .eax = eax, .ebx = ebx,
						.ecx = ecx, .edx = edx };
}

/*
 * A small "supported" table like KVM's, without SVM. Bits are written as
 * numbers from the SDM/APM, not with the header's names, so that a wrong
 * name in nestvmm/x86.h fails here: CPUID.1:ECX[31] is the hypervisor bit.
 */
static void base_table(void)
{
	memset(&t, 0, sizeof(t));
	add(0, 0xd, 0x68747541, 0x444d4163, 0x69746e65);
	add(1, 0x00a00f11, 0x00000800, (1u << 31) | 1, 0x078bfbff);
	add(0x40000000, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	add(0x40000001, 0, 0, 0, 0);
	add(0x80000000, 0x80000008, 0, 0, 0);
	add(0x80000001, 0, 0, 0, 1u << 29);   /* LM */
}

TestSuite(cpuid, .init = base_table);

Test(cpuid, parses_overrides)
{
	struct cpuid_overrides o;

	cr_assert_eq(cpuid_parse_overrides("+svm,-npt,x2apic", &o, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(o.n, 3);
	cr_assert_str_eq(o.o[0].f->name, "svm");
	cr_assert(o.o[0].set);
	cr_assert_not(o.o[1].set);
	cr_assert(o.o[2].set, "a bare name sets the bit");
}

Test(cpuid, rejects_bad_override_lists)
{
	struct cpuid_overrides o;
	const char *bad[] = { "", "+", "svm,", "+svm,,npt", "+nosuch", "+svm,-",
			      "+aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		cr_assert_eq(cpuid_parse_overrides(bad[i], &o, err, sizeof(err)), -1, "\"%s\"", bad[i]);
		cr_assert(strstr(err, "--cpu"), "error for \"%s\" names the option: %s", bad[i], err);
	}
	cr_assert_eq(cpuid_parse_overrides("+nosuch", &o, err, sizeof(err)), -1);
	cr_assert(strstr(err, "nosuch"), "%s", err);
}

Test(cpuid, forcing_npt_adds_leaf_8000000a_and_raises_max)
{
	struct cpuid_overrides o;

	cr_assert_eq(cpuid_parse_overrides("+svm,+npt", &o, err, sizeof(err)), 0, "%s", err);
	cpuid_apply_overrides(&t, &o);
	cr_assert(cpuid_has(&t, 0x80000001, 0, CPUID_ECX, 2));
	cr_assert(cpuid_has(&t, 0x8000000a, 0, CPUID_EDX, 0));
	cr_assert_geq(cpuid_find(&t, 0x80000000, 0)->eax, 0x8000000a,
		      "the extended max leaf must cover the added leaf");
}

Test(cpuid, clearing_a_bit_leaves_others)
{
	struct cpuid_overrides o;

	cr_assert_eq(cpuid_parse_overrides("-lm", &o, err, sizeof(err)), 0, "%s", err);
	cpuid_apply_overrides(&t, &o);
	cr_assert_not(cpuid_has(&t, 0x80000001, 0, CPUID_EDX, 29));
	cr_assert_eq(cpuid_find(&t, 1, 0)->edx, 0x078bfbff);
}

Test(cpuid, hides_hypervisor)
{
	cpuid_hide_hypervisor(&t);
	cr_assert_not(cpuid_has(&t, 1, 0, CPUID_ECX, 31));
	cr_assert_null(cpuid_find(&t, 0x40000000, 0));
	cr_assert_null(cpuid_find(&t, 0x40000001, 0));
	cr_assert_not_null(cpuid_find(&t, 0x80000001, 0));
	cr_assert_eq(t.n, 4);
}

/* The header's CPUID numbers against the SDM (vol. 2A, CPUID) and APM (vol. 3, appendix E). */
Test(cpuid, header_constants_are_the_manuals_numbers)
{
	cr_assert_eq(CPUID_LEAF_FEATURES, 1);
	cr_assert_eq(CPUID_LEAF_HV_BASE, 0x40000000);
	cr_assert_eq(CPUID_LEAF_HV_LAST, 0x4fffffff);
	cr_assert_eq(CPUID_LEAF_EXT_MAX, 0x80000000);
	cr_assert_eq(CPUID_LEAF_EXT_FEATURES, 0x80000001);
	cr_assert_eq(CPUID_LEAF_SVM, 0x8000000a);
	cr_assert_eq(CPUID_1_ECX_VMX, 1u << 5);
	cr_assert_eq(CPUID_1_ECX_HYPERVISOR, 1u << 31);
	cr_assert_eq(CPUID_1_EBX_APIC_ID_SHIFT, 24);
	cr_assert_eq(CPUID_1_EDX_APIC, 1u << 9);
	cr_assert_eq(MSR_IA32_APIC_BASE, 0x1b);
	cr_assert_eq(APIC_BASE_EN, 1u << 11);
	cr_assert_eq(CPUID_80000001_ECX_SVM, 1u << 2);
	cr_assert_eq(CPUID_80000001_EDX_LM, 1u << 29);
	cr_assert_eq(CPUID_8000000A_EDX_NP, 1u << 0);
	cr_assert_eq(CPUID_8000000A_EDX_NRIPS, 1u << 3);
}

/* --cpu names a bit in a leaf; tests read what L1 saw of it in l1.cpuid's "seen" lines. */
static void assert_seen_covers(const char *name)
{
	static const uint32_t seen[] = NVM_CPUID_SEEN_LEAVES;
	const struct cpuid_feature *f = cpuid_feature_by_name(name);
	bool found = false;

	cr_assert_not_null(f, "%s", name);
	for (size_t i = 0; i < sizeof(seen) / sizeof(seen[0]); i++)
		found |= seen[i] == f->leaf && f->subleaf == 0;
	cr_assert(found, "--cpu %s is in CPUID.%xH.%u, which L1 does not report raw",
		  name, f->leaf, f->subleaf);
}

Test(cpuid, l1_reports_every_leaf_cpu_can_change)
{
	const char *common[] = { "hypervisor", "x2apic", "pcid", "xsave", "pae", "apic", "nx",
				 "pdpe1gb", "lm" };

	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		assert_seen_covers(common[i]);
	for (int v = 0; vendor_hosts[v]; v++)
		for (const struct cpuid_feature *f = vendor_hosts[v]->features; f->name; f++)
			assert_seen_covers(f->name);
}

Test(cpuid, sets_initial_apic_id)
{
	cpuid_set_vcpu_id(&t, 5);
	cr_assert_eq(cpuid_find(&t, 1, 0)->ebx, 0x05000800);
}

Test(cpuid, amd_exposes_svm_only_when_kvm_offers_it)
{
	struct cpuid_table supported = t, out = t;

	vendor_host_amd.cpuid_expose(&out, &supported);
	cr_assert_not(cpuid_has(&out, 0x80000001, 0, CPUID_ECX, 2), "KVM lacks SVM: not exposed");
	cr_assert_not(vendor_host_amd.cpuid_offers(&supported));

	cpuid_find(&supported, 0x80000001, 0)->ecx |= 1u << 2;   /* SVM */
	supported.e[supported.n++] = (struct kvm_cpuid_entry2){ .function = 0x8000000a, .eax = 1,
								.ebx = 16, .edx = 0x9 };
	out = t;
	vendor_host_amd.cpuid_expose(&out, &supported);
	cr_assert(cpuid_has(&out, 0x80000001, 0, CPUID_ECX, 2));
	cr_assert_eq(cpuid_find(&out, 0x8000000a, 0)->ebx, 16, "leaf 8000000Ah copied from KVM");
	cr_assert_eq(cpuid_find(&out, 0x8000000a, 0)->edx, 0x9);
}

Test(cpuid, intel_exposes_vmx_only_when_kvm_offers_it)
{
	struct cpuid_table supported = t, out = t;

	vendor_host_intel.cpuid_expose(&out, &supported);
	cr_assert_not(cpuid_has(&out, 1, 0, CPUID_ECX, 5));
	cpuid_find(&supported, 1, 0)->ecx |= 1u << 5;   /* VMX */
	vendor_host_intel.cpuid_expose(&out, &supported);
	cr_assert(cpuid_has(&out, 1, 0, CPUID_ECX, 5));
}

Test(cpuid, indexed_leaves_match_subleaf)
{
	t.e[t.n++] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1, .eax = 0x11,
						.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	cr_assert_null(cpuid_find(&t, 7, 0));
	cr_assert_eq(cpuid_find(&t, 7, 1)->eax, 0x11);
	cr_assert_eq(cpuid_get_or_add(&t, 7, 0)->index, 0);
	cr_assert(cpuid_find(&t, 7, 0)->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
}
