// SPDX-License-Identifier: MIT
#include <libfdt.h>
#include <stdio.h>

#include "devtree.h"
#include "verdict.h"

/* Each libfdt call can fail only by running out of room or bad input: stop at the first. */
#define TRY(call) do { int rc_ = (call); if (rc_ < 0) { \
	snprintf(err, errlen, "device tree: %s: %s", #call, fdt_strerror(rc_)); return -1; } } while (0)

int fdt_build(void *buf, size_t size, const struct fdt_run *run, char *err, size_t errlen)
{
	fdt32_t cells[FDT_CPUID_MAX * 6];
	uint64_t reg[2] = { 0, cpu_to_fdt64(run->mem_size) };
	char stages[NVM_STAGE_COUNT * 64];
	int len = 0;

	if (run->n_cpuid > FDT_CPUID_MAX) {
		snprintf(err, errlen, "device tree: %u CPUID leaves to check, at most %d",
			 run->n_cpuid, FDT_CPUID_MAX);
		return -1;
	}
	/* A string list is NUL-separated names: readable in a dtc dump. */
	for (int i = NVM_STAGE_FIRST_L1; i < NVM_STAGE_COUNT; i++)
		if (run->selected[i])
			len += snprintf(stages + len, sizeof(stages) - (size_t)len, "%s", stage_name[i]) + 1;
	for (uint32_t i = 0; i < run->n_cpuid * 6; i++)
		cells[i] = cpu_to_fdt32(run->cpuid[i / 6][i % 6]);

	TRY(fdt_create(buf, (int)size));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(fdt_property_string(buf, "compatible", "nestvmm,run-v1"));

	/* /nestvmm first: L1 looks it up at boot; /memory@0 only when it allocates. */
	TRY(fdt_begin_node(buf, "nestvmm"));
	TRY(fdt_property_string(buf, "vendor", run->vendor));
	TRY(fdt_property(buf, "stages", stages, len));
	TRY(fdt_property_u32(buf, "iterations", run->iterations));
	TRY(fdt_property_u32(buf, "trace", run->trace));
	TRY(fdt_property(buf, "cpuid-expect", cells, (int)(run->n_cpuid * 6 * sizeof(fdt32_t))));
	if (run->hostile)
		TRY(fdt_property_string(buf, "hostile", run->hostile));
	/* Host steps that save/restore the vCPU need it: L1 skips them without. */
	TRY(fdt_property_u32(buf, "nested-state", run->nested_state));
	/* --migrate: L1 reaches the VMM after every L2 exit, so each is a migration point. */
	if (run->migrate)
		TRY(fdt_property_u32(buf, "migrate", 1));
	TRY(fdt_end_node(buf));

	TRY(fdt_begin_node(buf, "memory@0"));
	TRY(fdt_property_string(buf, "device_type", "memory"));
	TRY(fdt_property(buf, "reg", reg, sizeof(reg)));
	TRY(fdt_end_node(buf));

	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return 0;
}
