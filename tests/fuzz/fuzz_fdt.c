// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: fdt_build() with extreme values. The input supplies
 * every field of struct fdt_run (n_cpuid included, up to 2^32-1), the vendor
 * and hostile strings, and the buffer size (0 to 64 KiB, the FDT area of
 * guest RAM). The buffer is exactly that size, at the end of its allocation.
 * A tree that builds must pass fdt_check_full() and read back the values.
 */
#include <libfdt.h>
#include <stdlib.h>
#include <string.h>

#include "devtree.h"
#include "nestvmm/stages.h"

#define FDT_AREA 0x10000

struct fuzz_head {
	uint64_t mem_size;
	uint32_t stage_mask, iterations, trace, n_cpuid, size, flags;
	uint32_t cpuid[FDT_CPUID_MAX][6];
} __attribute__((packed));

static void must(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_head h;
	struct fdt_run run;
	char err[256] = "";

	if (size < sizeof(h))
		return 0;
	memcpy(&h, data, sizeof(h));
	data += sizeof(h), size -= sizeof(h);

	/* The rest: "vendor\0hostile" (either may be long; hostile optional). */
	char *strs = malloc(size + 2);
	if (!strs)
		abort();
	memcpy(strs, data, size);
	strs[size] = strs[size + 1] = '\0';
	const char *vendor = strs, *hostile = strs + strlen(strs) + 1;

	memset(&run, 0, sizeof(run));
	run.mem_size = h.mem_size;
	run.vendor = vendor;
	/* The selection: one bit per stage from the header word, repeated past 32. */
	static bool selected[NVM_STAGE_COUNT];
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		selected[i] = h.stage_mask & (1u << (i % 32));
	run.selected = selected;
	run.iterations = h.iterations;
	run.trace = h.trace;
	run.hostile = (h.flags & 1) ? hostile : NULL;
	/* Mostly in range, sometimes anything: the builder must refuse, not overflow. */
	run.n_cpuid = (h.flags & 2) ? h.n_cpuid : h.n_cpuid % (FDT_CPUID_MAX + 1);
	memcpy(run.cpuid, h.cpuid, sizeof(run.cpuid));

	size_t bufsize = (h.flags & 4) ? h.size % (FDT_AREA + 1) : FDT_AREA;
	uint8_t *buf = malloc(bufsize ? bufsize : 1);
	if (!buf)
		abort();

	if (fdt_build(buf, bufsize, &run, err, sizeof(err)) == 0) {
		int len, node;
		const fdt32_t *p;
		const void *reg;
		uint64_t regv[2];

		must(fdt_check_full(buf, bufsize) == 0);
		must((node = fdt_path_offset(buf, "/nestvmm")) >= 0);
		must(run.n_cpuid <= FDT_CPUID_MAX);
		p = fdt_getprop(buf, node, "iterations", &len);
		must(p && len == 4 && fdt32_ld(p) == run.iterations);
		p = fdt_getprop(buf, node, "cpuid-expect", &len);
		must(p && (size_t)len == run.n_cpuid * 6 * 4);
		for (uint32_t i = 0; i < run.n_cpuid * 6; i++)
			must(fdt32_ld(&p[i]) == run.cpuid[i / 6][i % 6]);
		const char *v = fdt_getprop(buf, node, "vendor", &len);
		must(v && (size_t)len == strlen(vendor) + 1 && !memcmp(v, vendor, (size_t)len));
		must(!run.hostile == !fdt_getprop(buf, node, "hostile", &len));
		reg = fdt_getprop(buf, fdt_path_offset(buf, "/memory@0"), "reg", &len);
		must(reg && len == 16);
		memcpy(regv, reg, sizeof(regv));       /* properties are only 4-byte aligned */
		must(fdt64_to_cpu(regv[1]) == run.mem_size);
	} else {
		must(err[0] != '\0');
	}
	free(buf);
	free(strs);
	return 0;
}
