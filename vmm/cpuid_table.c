// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "cpuid_table.h"
#include "nestvmm/x86.h"
#include "vendor.h"

/* Vendor-neutral feature names; each vendor adds its own (vendor_host.features). */
static const struct cpuid_feature common_features[] = {
	{ "hypervisor", CPUID_LEAF_FEATURES, 0, CPUID_ECX, 31 },
	{ "x2apic",     CPUID_LEAF_FEATURES, 0, CPUID_ECX, 21 },
	{ "pcid",       CPUID_LEAF_FEATURES, 0, CPUID_ECX, 17 },
	{ "xsave",      CPUID_LEAF_FEATURES, 0, CPUID_ECX, 26 },
	{ "pae",        CPUID_LEAF_FEATURES, 0, CPUID_EDX, 6 },
	{ "apic",       CPUID_LEAF_FEATURES, 0, CPUID_EDX, 9 },
	{ "nx",         CPUID_LEAF_EXT_FEATURES, 0, CPUID_EDX, 20 },
	{ "pdpe1gb",    CPUID_LEAF_EXT_FEATURES, 0, CPUID_EDX, 26 },
	{ "lm",         CPUID_LEAF_EXT_FEATURES, 0, CPUID_EDX, 29 },
	{ NULL, 0, 0, 0, 0 },
};

static bool leaf_is_indexed(uint32_t leaf)
{
	return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd || leaf == 0xf ||
	       leaf == 0x10 || leaf == 0x12 || leaf == 0x14 || leaf == 0x1d || leaf == 0x1f ||
	       leaf == 0x8000001d;
}

const struct kvm_cpuid_entry2 *cpuid_find_const(const struct cpuid_table *t, uint32_t leaf,
						uint32_t subleaf)
{
	for (uint32_t i = 0; i < t->n; i++)
		if (t->e[i].function == leaf &&
		    (!(t->e[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) || t->e[i].index == subleaf))
			return &t->e[i];
	return NULL;
}

struct kvm_cpuid_entry2 *cpuid_find(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf)
{
	return (struct kvm_cpuid_entry2 *)cpuid_find_const(t, leaf, subleaf);
}

struct kvm_cpuid_entry2 *cpuid_get_or_add(struct cpuid_table *t, uint32_t leaf, uint32_t subleaf)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, leaf, subleaf);
	uint32_t base = leaf & 0xffff0000u;

	if (e || t->n >= CPUID_TABLE_MAX)
		return e;
	e = &t->e[t->n++];
	memset(e, 0, sizeof(*e));
	e->function = leaf;
	e->index = subleaf;
	if (leaf_is_indexed(leaf))
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	/* A leaf past the range's maximum (leaf 0 / 8000_0000h EAX) is invisible. */
	struct kvm_cpuid_entry2 *max = cpuid_find(t, base, 0);
	if (max && max != e && max->eax < leaf)
		max->eax = leaf;
	return e;
}

uint32_t *cpuid_reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	return r == CPUID_EAX ? &e->eax : r == CPUID_EBX ? &e->ebx : r == CPUID_ECX ? &e->ecx : &e->edx;
}

bool cpuid_has(const struct cpuid_table *t, uint32_t leaf, uint32_t subleaf,
	       enum cpuid_reg r, unsigned int bit)
{
	const struct kvm_cpuid_entry2 *e = cpuid_find_const(t, leaf, subleaf);

	if (!e)
		return false;
	uint32_t v = r == CPUID_EAX ? e->eax : r == CPUID_EBX ? e->ebx : r == CPUID_ECX ? e->ecx : e->edx;
	return (v >> bit) & 1;
}

static const struct cpuid_feature *find_in(const struct cpuid_feature *f, const char *name)
{
	for (; f && f->name; f++)
		if (!strcmp(f->name, name))
			return f;
	return NULL;
}

const struct cpuid_feature *cpuid_feature_by_name(const char *name)
{
	const struct cpuid_feature *f = find_in(common_features, name);

	for (int i = 0; !f && vendor_hosts[i]; i++)
		f = find_in(vendor_hosts[i]->features, name);
	return f;
}

int cpuid_parse_overrides(const char *list, struct cpuid_overrides *out, char *err, size_t errlen)
{
	char name[32];
	const char *p = list;

	out->n = 0;
	while (*p) {
		bool set = true;
		size_t n;

		if (*p == '+' || *p == '-')
			set = *p++ == '+';
		n = strcspn(p, ",");
		if (n == 0 || n >= sizeof(name)) {
			snprintf(err, errlen, "--cpu: empty or overlong feature name in \"%s\"", list);
			return -1;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		const struct cpuid_feature *f = cpuid_feature_by_name(name);
		if (!f) {
			snprintf(err, errlen, "--cpu: unknown feature \"%s\" (known: see --help)", name);
			return -1;
		}
		if (out->n >= CPUID_OVERRIDE_MAX) {
			snprintf(err, errlen, "--cpu: more than %d features", CPUID_OVERRIDE_MAX);
			return -1;
		}
		out->o[out->n++] = (struct cpuid_override){ f, set };
		p += n;
		if (*p == ',' && *++p == '\0') {
			snprintf(err, errlen, "--cpu: trailing comma in \"%s\"", list);
			return -1;
		}
	}
	if (out->n == 0) {
		snprintf(err, errlen, "--cpu: empty feature list");
		return -1;
	}
	return 0;
}

void cpuid_apply_overrides(struct cpuid_table *t, const struct cpuid_overrides *o)
{
	for (unsigned int i = 0; i < o->n; i++) {
		const struct cpuid_feature *f = o->o[i].f;
		struct kvm_cpuid_entry2 *e = o->o[i].set ? cpuid_get_or_add(t, f->leaf, f->subleaf)
							 : cpuid_find(t, f->leaf, f->subleaf);
		if (!e)
			continue;
		if (o->o[i].set)
			*cpuid_reg(e, f->reg) |= 1u << f->bit;
		else
			*cpuid_reg(e, f->reg) &= ~(1u << f->bit);
	}
}

void cpuid_hide_hypervisor(struct cpuid_table *t)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, CPUID_LEAF_FEATURES, 0);
	uint32_t out = 0;

	if (e)
		e->ecx &= ~CPUID_1_ECX_HYPERVISOR;
	for (uint32_t i = 0; i < t->n; i++)
		if (t->e[i].function < CPUID_LEAF_HV_BASE || t->e[i].function > CPUID_LEAF_HV_LAST)
			t->e[out++] = t->e[i];
	t->n = out;
}

void cpuid_set_vcpu_id(struct cpuid_table *t, uint32_t apic_id)
{
	struct kvm_cpuid_entry2 *e = cpuid_find(t, CPUID_LEAF_FEATURES, 0);

	if (e)
		e->ebx = (e->ebx & 0x00ffffffu) | (apic_id << CPUID_1_EBX_APIC_ID_SHIFT);
}
