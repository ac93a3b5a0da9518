/* SPDX-License-Identifier: MIT */
/*
 * The device tree that describes a run to L1 (read by guest/config.c):
 *
 *   / { #address-cells = <2>; #size-cells = <2>; compatible = "nestvmm,run-v1";
 *       nestvmm { vendor = "amd"; stages = "l1.boot", ...; iterations = <N>;
 *                 trace = <LEVEL>; cpuid-expect = <leaf subleaf eax ebx ecx edx>...;
 *                 hostile = "spin"; (tests only) nested-state = <BYTES>;
 *                 migrate = <1>; (--migrate only) };
 *       memory@0 { device_type = "memory"; reg = <0 0 SIZE_HI SIZE_LO>; }; };
 */
#ifndef NESTVMM_DEVTREE_H
#define NESTVMM_DEVTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FDT_CPUID_MAX 8

struct fdt_run {
	uint64_t mem_size;
	const char *vendor;
	const bool *selected;            /* [NVM_STAGE_COUNT]: run stage n */
	uint32_t iterations;
	uint32_t trace;
	const char *hostile;             /* NULL unless a test asks for misbehaviour */
	uint32_t nested_state;           /* KVM_CAP_NESTED_STATE: 0 when KVM cannot save it */
	bool migrate;                    /* --migrate: L1 syncs with the VMM after every L2 exit */
	uint32_t n_cpuid;
	uint32_t cpuid[FDT_CPUID_MAX][6];
};

/* Build the tree into buf; 0, or -1 with err naming the libfdt error. */
int fdt_build(void *buf, size_t size, const struct fdt_run *run, char *err, size_t errlen);

#endif
