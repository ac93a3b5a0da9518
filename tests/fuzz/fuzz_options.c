// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: options_parse() on an argv made from the input (NUL
 * separates arguments; argv[0] is "nestvmm"), and cpuid_parse_overrides()
 * (the --cpu list) on every argument alone. Each argument is its own heap
 * block of exactly its length, so a read past an argument is an ASan report.
 * A parse that succeeds must leave values inside their documented ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define ARGS_MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct options o;
	static struct cpuid_overrides ov;
	char *argv[ARGS_MAX + 2];
	int argc = 0;
	char err[512];

	argv[argc++] = strdup("nestvmm");
	for (size_t start = 0; start <= size && argc <= ARGS_MAX;) {
		const uint8_t *nul = memchr(data + start, 0, size - start);
		size_t n = nul ? (size_t)(nul - (data + start)) : size - start;
		char *a = malloc(n + 1);
		if (!a)
			abort();
		memcpy(a, data + start, n);
		a[n] = '\0';
		argv[argc++] = a;
		start += n + 1;
	}
	argv[argc] = NULL;

	for (int i = 1; i < argc; i++) {
		err[0] = '\0';
		if (cpuid_parse_overrides(argv[i], &ov, err, sizeof(err)) == 0) {
			if (ov.n == 0 || ov.n > CPUID_OVERRIDE_MAX)
				abort();
			for (unsigned int k = 0; k < ov.n; k++)
				if (!ov.o[k].f || !ov.o[k].f->name || ov.o[k].f->bit > 31)
					abort();
		} else if (!err[0]) {
			abort();
		}
	}

	/* Parses follow one another: options_parse() must reset getopt fully (it
	 * did not at first: a half-read "-xyz" leaked into the next parse). */
	err[0] = '\0';
	/* getopt_long may permute argv: hand it a copy, free the originals. */
	char *copy[ARGS_MAX + 2];
	memcpy(copy, argv, sizeof(char *) * (size_t)(argc + 1));
	if (options_parse(argc, copy, &o, err, sizeof(err)) == 0) {
		if (o.mem_size < (4ull << 20) || o.mem_size > (4096ull << 20) ||
		    o.timeout_s < 1 || o.timeout_s > 86400 ||
		    o.iterations < 1 || o.iterations > 1000 ||
		    o.n_outputs < 1 || o.n_outputs > OPTIONS_OUTPUT_MAX ||
		    !o.arch || !o.kvm_device || (unsigned int)o.outputs[0].format >= FORMAT_COUNT)
			abort();
		for (unsigned int i = 0; i < o.n_outputs; i++)
			if ((unsigned int)o.outputs[i].format >= FORMAT_COUNT ||
			    (i > 0 && (!o.outputs[i].path || !o.outputs[i].path[0])))
				abort();
	} else if (!err[0]) {
		abort();
	}
	for (int i = 0; i < argc; i++)
		free(argv[i]);
	return 0;
}
