/* SPDX-License-Identifier: MIT */
/* Validate and load the L1 kernel: a static x86-64 ELF executable. */
#ifndef NESTVMM_ELF_LOADER_H
#define NESTVMM_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

/*
 * Check every header of the image against a guest RAM of mem_size bytes:
 * class, machine, type, program headers inside the file, each PT_LOAD
 * inside RAM above the VMM's boot area, no overlaps, filesz <= memsz, and
 * the entry point inside an executable segment. 0, or -1 with err set.
 */
int elf_validate(const uint8_t *img, size_t len, uint64_t mem_size, uint64_t *entry,
		 char *err, size_t errlen);
/*
 * Copy the PT_LOAD segments into guest memory (validate first). mem must be
 * zero (a fresh anonymous mapping): of each bss only the part in the page
 * where the file data ends is written, so untouched RAM stays unbacked.
 */
void elf_load(const uint8_t *img, uint8_t *mem);

#endif
