/* SPDX-License-Identifier: MIT */
/* Command-line options: parsed into a plain struct, checked before any work starts. */
#ifndef NESTVMM_OPTIONS_H
#define NESTVMM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bisect.h"              /* --bisect picks the exit code with it */
#include "cpuid_table.h"
#include "format.h"
#include "select.h"

#define OPTIONS_OUTPUT_MAX 8

struct output {
	enum format format;
	const char *path;               /* NULL: standard output */
};

struct options {
	const char *arch;               /* "auto", "amd", "intel" */
	const char *kernel;             /* NULL: the embedded L1 */
	const char *kvm_device;         /* "/dev/kvm" */
	unsigned int n_outputs;         /* outputs[0] is the main one (--format, --output FILE) */
	struct output outputs[OPTIONS_OUTPUT_MAX];
	unsigned int timeout_s;
	uint64_t mem_size;              /* bytes */
	unsigned int iterations;
	bool trace;
	bool hide_hypervisor;
	bool strict;
	bool bisect;                    /* exit 0/1/125 for git bisect run (bisect.h) */
	bool host_only;                 /* only the host stages: no VM, no L1 */
	bool help, version;
	bool list;                      /* --list: print the registry, run nothing */
	bool verbose;                   /* text: details of passing tests too */
	bool migrate;                   /* --migrate: save/restore into a fresh VM at every exit */
	struct selection tests;         /* --tests patterns */
	uint32_t require;               /* --require: NVM_REQ() bits that must not be missing */
	const char *hostile;            /* tests: L1 misbehaves this way */
	struct cpuid_overrides cpu;
};

/* 0, or -1 with err naming the bad option and why. */
int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);
extern const char options_usage[];

#endif
