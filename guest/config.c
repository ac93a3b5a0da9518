// SPDX-License-Identifier: MIT
/*
 * Read the run's description from the device tree the VMM built (see
 * vmm/devtree.c for the writer and the layout). A malformed tree is an L1
 * failure reported with what was wrong.
 *
 * One pass over the properties of /nestvmm, not one fdt_getprop() each:
 * every lookup rescans the node, and on an L0 that emulates ring-0 code
 * each instruction counts.
 */
#include <libfdt.h>

#include "l1.h"

struct l1_config l1_cfg;

static const char *const stage_names[NVM_STAGE_COUNT] = {
#define NVM_STAGE_NAME(id, name, level, vendor, needs, requires, purpose) name,
	NVM_STAGES(NVM_STAGE_NAME)
#undef NVM_STAGE_NAME
};

static const u8 stage_name_size[NVM_STAGE_COUNT] = {
#define NVM_STAGE_SIZE(id, name, level, vendor, needs, requires, purpose) sizeof(name),
	NVM_STAGES(NVM_STAGE_SIZE)
#undef NVM_STAGE_SIZE
};

static u32 be32(const void *p)
{
	return fdt32_to_cpu(*(const fdt32_t *)p);
}

static void copy_string(const char *val, int len, char *dst, size_t n)
{
	if (len > 0 && (size_t)len <= n && val[len - 1] == '\0')
		memcpy(dst, val, (size_t)len);
}

/*
 * stages = "l1.boot", "l1.cpuid", ...: NUL-separated names of stages to run,
 * in stage order (the VMM writes them so): each name is compared with the
 * next candidates only, usually one strcmp() a name.
 */
static void parse_stages(const char *val, int len)
{
	int id = NVM_STAGE_FIRST_L1;

	GUEST_ASSERT(len > 0 && val[len - 1] == '\0', "stages: list is not NUL-terminated");
	for (const char *p = val, *end = val + len; p < end; ) {
		size_t n = strlen(p) + 1;

		while (id < NVM_STAGE_COUNT && (n != stage_name_size[id] || memcmp(p, stage_names[id], n)))
			id++;
		GUEST_ASSERT(id < NVM_STAGE_COUNT, "stages: \"%s\" is unknown or out of order", p);
		l1_cfg.selected[id++] = true;
		p += n;
	}
}

/* cpuid-expect = <leaf subleaf eax ebx ecx edx>...: what l1.cpuid checks. */
static void parse_cpuid(const u8 *val, int len)
{
	GUEST_ASSERT(len % 24 == 0, "cpuid-expect has %d bytes, not a multiple of 24", len);
	for (int i = 0; i < len / 24 && i < L1_CPUID_EXPECT_MAX; i++) {
		struct l1_cpuid_expect *e = &l1_cfg.cpuid[l1_cfg.n_cpuid++];
		const u8 *c = val + i * 24;

		e->leaf = be32(c);
		e->subleaf = be32(c + 4);
		for (int r = 0; r < 4; r++)
			e->reg[r] = be32(c + 8 + 4 * r);
	}
}

static const void *l1_fdt;

/*
 * /memory@0: reg = <0 0 size_hi size_lo> (#address-cells = #size-cells = 2).
 * Read on first use: only the stages that allocate memory need it, and a
 * node lookup is not free on an L0 that emulates ring-0 code.
 */
u64 l1_mem_size(void)
{
	int node, len;

	if (l1_cfg.mem_size)
		return l1_cfg.mem_size;
	node = fdt_subnode_offset(l1_fdt, 0, "memory@0");
	GUEST_ASSERT(node >= 0, "no /memory@0 node: %s", fdt_strerror(node));
	const u8 *reg = fdt_getprop(l1_fdt, node, "reg", &len);
	GUEST_ASSERT(reg && len == 16, "/memory@0/reg has %d bytes, expected 16", len);
	l1_cfg.mem_size = ((u64)be32(reg + 8) << 32) | be32(reg + 12);
	return l1_cfg.mem_size;
}

void config_read(u64 fdt_gpa)
{
	const void *fdt = (const void *)(uintptr_t)fdt_gpa;
	int node, prop, len;
	const char *name;

	GUEST_ASSERT(fdt_gpa == NVM_FDT_BASE, "device tree at 0x%lx, expected 0x%lx in RDI",
		     fdt_gpa, (u64)NVM_FDT_BASE);
	/*
	 * libfdt is built to trust the tree (third_party/libfdt/README.md), so
	 * check once what it would otherwise check on every call.
	 */
	GUEST_ASSERT(fdt_magic(fdt) == FDT_MAGIC, "no device tree at 0x%lx (magic 0x%x)",
		     fdt_gpa, fdt_magic(fdt));
	GUEST_ASSERT(fdt_version(fdt) >= 17 && fdt_last_comp_version(fdt) <= 17,
		     "device tree version %u (last compatible %u): L1 reads version 17",
		     fdt_version(fdt), fdt_last_comp_version(fdt));
	GUEST_ASSERT(fdt_totalsize(fdt) <= NVM_FDT_MAX &&
		     fdt_off_dt_struct(fdt) + fdt_size_dt_struct(fdt) <= fdt_totalsize(fdt) &&
		     fdt_off_dt_strings(fdt) + fdt_size_dt_strings(fdt) <= fdt_totalsize(fdt),
		     "device tree blocks run past its size 0x%x (at most 0x%lx)",
		     fdt_totalsize(fdt), (u64)NVM_FDT_MAX);
	l1_fdt = fdt;

	/* /nestvmm is the first node (vmm/devtree.c): its lookup skips nothing. */
	node = fdt_subnode_offset(fdt, 0, "nestvmm");
	GUEST_ASSERT(node >= 0, "no /nestvmm node: %s", fdt_strerror(node));
	l1_cfg.iterations = 16;
	fdt_for_each_property_offset(prop, fdt, node) {
		const char *val = fdt_getprop_by_offset(fdt, prop, &name, &len);

		GUEST_ASSERT(val, "/nestvmm: unreadable property: %s", fdt_strerror(len));
		/* The first letter picks the one name to compare. */
		char c = name[0];
		if (c == 'v' && !strcmp(name, "vendor"))
			copy_string(val, len, l1_cfg.vendor, sizeof(l1_cfg.vendor));
		else if (c == 's' && !strcmp(name, "stages"))
			parse_stages(val, len);
		else if (c == 'i' && !strcmp(name, "iterations") && len == 4)
			l1_cfg.iterations = be32(val);
		else if (c == 't' && !strcmp(name, "trace") && len == 4)
			l1_cfg.trace = be32(val);
		else if (c == 'c' && !strcmp(name, "cpuid-expect"))
			parse_cpuid((const u8 *)val, len);
		else if (c == 'h' && !strcmp(name, "hostile"))
			copy_string(val, len, l1_cfg.hostile, sizeof(l1_cfg.hostile));
		else if (c == 'n' && !strcmp(name, "nested-state") && len == 4)
			l1_cfg.nested_state = be32(val);
		else if (c == 'm' && !strcmp(name, "migrate") && len == 4)
			l1_cfg.migrate = be32(val) != 0;
	}
}
