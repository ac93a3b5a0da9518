// SPDX-License-Identifier: MIT
/* The device tree describing a run, read back with libfdt as L1 reads it. */
#include <criterion/criterion.h>
#include <libfdt.h>
#include <string.h>

#include "devtree.h"
#include "nestvmm/stages.h"

static uint8_t buf[65536];
static char err[256];

static bool all[NVM_STAGE_COUNT], only_boot[NVM_STAGE_COUNT];

static struct fdt_run sample(void)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		all[i] = true;
	struct fdt_run r = { .mem_size = 16ull << 20, .vendor = "intel", .iterations = 7,
			     .trace = 1, .selected = all, .n_cpuid = 1,
			     .cpuid = { { 1, 0, 0xa, 0xb, 0xc, 0xd } } };
	return r;
}

Test(devtree, builds_what_l1_reads)
{
	struct fdt_run r = sample();
	int node, len;

	cr_assert_eq(fdt_build(buf, sizeof(buf), &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(fdt_check_header(buf), 0);
	node = fdt_path_offset(buf, "/memory@0");
	const fdt64_t *reg = fdt_getprop(buf, node, "reg", &len);
	cr_assert_eq(len, 16);
	cr_assert_eq(fdt64_to_cpu(reg[1]), 16ull << 20);
	node = fdt_path_offset(buf, "/nestvmm");
	cr_assert_geq(node, 0);
	cr_assert_str_eq(fdt_getprop(buf, node, "vendor", NULL), "intel");
	cr_assert_eq(fdt32_to_cpu(*(const fdt32_t *)fdt_getprop(buf, node, "iterations", NULL)), 7);
	cr_assert_eq(fdt_stringlist_count(buf, node, "stages"), NVM_STAGE_COUNT - NVM_STAGE_FIRST_L1,
		     "only L1's stages go into the tree");
	cr_assert_geq(fdt_stringlist_search(buf, node, "stages", "l2.nested-paging"), 0);
	const fdt32_t *c = fdt_getprop(buf, node, "cpuid-expect", &len);
	cr_assert_eq(len, 24);
	cr_assert_eq(fdt32_to_cpu(c[5]), 0xd);
	cr_assert_null(fdt_getprop(buf, node, "hostile", NULL));
}

Test(devtree, stage_selection_is_honoured)
{
	struct fdt_run r = sample();
	int node;

	only_boot[NVM_STAGE_L1_BOOT] = true;
	r.selected = only_boot;
	r.hostile = "spin";
	cr_assert_eq(fdt_build(buf, sizeof(buf), &r, err, sizeof(err)), 0, "%s", err);
	node = fdt_path_offset(buf, "/nestvmm");
	cr_assert_eq(fdt_stringlist_count(buf, node, "stages"), 1);
	cr_assert_str_eq(fdt_getprop(buf, node, "hostile", NULL), "spin");
}

Test(devtree, too_small_a_buffer_is_an_error)
{
	struct fdt_run r = sample();

	cr_assert_eq(fdt_build(buf, 64, &r, err, sizeof(err)), -1);
	cr_assert(strstr(err, "device tree"), "%s", err);
}

Test(devtree, too_many_cpuid_leaves_is_an_error)
{
	struct fdt_run r = sample();

	r.n_cpuid = FDT_CPUID_MAX + 1;
	cr_assert_eq(fdt_build(buf, sizeof(buf), &r, err, sizeof(err)), -1);
}
