// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: elf_validate() and, when it accepts, elf_load() into a
 * guest RAM image whose last byte is the last byte of its allocation, so a
 * segment copied one byte too far is an ASan report. Each input is checked
 * against two RAM sizes (4 MiB and 16 MiB, --mem's minimum and default) and
 * also from an odd address: the loader takes a byte pointer, so an image at
 * any alignment is valid input (--kernel data is not promised to be aligned).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf_loader.h"

#define RAM_MAX (16u << 20)

static uint8_t *ram;
static uint8_t *shifted;        /* the image again, one byte off alignment */
static size_t shifted_cap;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t mem_sizes[] = { 4u << 20, RAM_MAX };
	char err[256];
	uint64_t entry;

	if (!ram && !(ram = malloc(RAM_MAX)))
		abort();
	if (size + 1 > shifted_cap) {
		free(shifted);
		shifted_cap = size + 1;
		if (!(shifted = malloc(shifted_cap)))
			abort();
	}
	memcpy(shifted + 1, data, size);

	for (size_t i = 0; i < sizeof(mem_sizes) / sizeof(mem_sizes[0]); i++) {
		uint64_t mem = mem_sizes[i];
		uint8_t *base = ram + RAM_MAX - mem;   /* end of RAM == end of allocation */
		const uint8_t *imgs[2] = { data, shifted + 1 };

		for (int k = 0; k < 2; k++) {
			memset(err, 0, sizeof(err));
			if (elf_validate(imgs[k], size, mem, &entry, err, sizeof(err)) == 0) {
				if (entry >= mem)
					abort();           /* validated entry must be inside RAM */
				elf_load(imgs[k], base);
			} else if (!err[0]) {
				abort();                   /* every rejection says why */
			}
		}
	}
	return 0;
}
