// SPDX-License-Identifier: MIT
/*
 * Read the run's description from the device tree the VMM built (see
 * vmm/devtree.c for the writer and the layout). L1 trusts nothing it cannot
 * check: a malformed tree is an L1 failure reported with the libfdt error.
 */
#include <libfdt.h>

#include "l1.h"

struct l1_config l1_cfg;

static const char *const stage_names[NVM_STAGE_COUNT] = {
#define NVM_STAGE_NAME(id, name, level, needs) name,
	NVM_STAGES(NVM_STAGE_NAME)
#undef NVM_STAGE_NAME
};

static u32 prop_u32(const void *fdt, int node, const char *name, u32 dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	return p && len == 4 ? fdt32_to_cpu(*p) : dflt;
}

static void copy_string(const void *fdt, int node, const char *name, char *dst, size_t n)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);

	if (p && len > 0 && (size_t)len <= n && p[len - 1] == '\0')
		memcpy(dst, p, (size_t)len);
}

void config_read(u64 fdt_gpa)
{
	const void *fdt = (const void *)(uintptr_t)fdt_gpa;
	int err, node, len;

	GUEST_ASSERT(fdt_gpa == NVM_FDT_BASE, "device tree at 0x%lx, expected 0x%lx in RDI",
		     fdt_gpa, (u64)NVM_FDT_BASE);
	err = fdt_check_header(fdt);
	GUEST_ASSERT(err == 0, "bad device tree: %s", fdt_strerror(err));

	/* /memory@0: reg = <0 0 size_hi size_lo> (#address-cells = #size-cells = 2) */
	node = fdt_path_offset(fdt, "/memory@0");
	GUEST_ASSERT(node >= 0, "no /memory@0 node: %s", fdt_strerror(node));
	const fdt64_t *reg = fdt_getprop(fdt, node, "reg", &len);
	GUEST_ASSERT(reg && len == 16, "/memory@0/reg has %d bytes, expected 16", len);
	l1_cfg.mem_size = fdt64_to_cpu(reg[1]);

	node = fdt_path_offset(fdt, "/nestvmm");
	GUEST_ASSERT(node >= 0, "no /nestvmm node: %s", fdt_strerror(node));
	copy_string(fdt, node, "vendor", l1_cfg.vendor, sizeof(l1_cfg.vendor));
	copy_string(fdt, node, "hostile", l1_cfg.hostile, sizeof(l1_cfg.hostile));
	l1_cfg.iterations = prop_u32(fdt, node, "iterations", 16);
	l1_cfg.trace = prop_u32(fdt, node, "trace", NVM_TRACE_OFF);

	/* stages = "l1.boot", "l1.cpuid", ...: the ones this run asks for. */
	for (int id = NVM_STAGE_FIRST_L1; id < NVM_STAGE_COUNT; id++)
		if (fdt_stringlist_search(fdt, node, "stages", stage_names[id]) >= 0)
			l1_cfg.stage_mask |= 1u << id;

	/* cpuid-expect = <leaf subleaf eax ebx ecx edx>...: what l1.cpuid checks. */
	const fdt32_t *c = fdt_getprop(fdt, node, "cpuid-expect", &len);
	GUEST_ASSERT(!c || len % 24 == 0, "cpuid-expect has %d bytes, not a multiple of 24", len);
	for (int i = 0; c && i < len / 24 && i < L1_CPUID_EXPECT_MAX; i++) {
		struct l1_cpuid_expect *e = &l1_cfg.cpuid[l1_cfg.n_cpuid++];
		e->leaf = fdt32_to_cpu(c[i * 6]);
		e->subleaf = fdt32_to_cpu(c[i * 6 + 1]);
		for (int r = 0; r < 4; r++)
			e->reg[r] = fdt32_to_cpu(c[i * 6 + 2 + r]);
	}
}
