// SPDX-License-Identifier: MIT
#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "elf_loader.h"
#include "nestvmm/x86.h"

#define ELF_MAX_PHDRS 64

/* Lowest guest-physical address a segment may use: below are the VMM's tables and the FDT. */
#define ELF_LOAD_MIN (NVM_FDT_BASE + NVM_FDT_MAX)

static int fail(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

int elf_validate(const uint8_t *img, size_t len, uint64_t mem_size, uint64_t *entry,
		 char *err, size_t errlen)
{
	Elf64_Ehdr ehdr, *eh = &ehdr;   /* a copy: img may sit at any address */
	Elf64_Phdr ph[ELF_MAX_PHDRS];
	unsigned int nload = 0;
	int entry_ok = 0;

	/* The magic of a file cut short is still the magic: call it truncated. */
	if (memcmp(img, ELFMAG, len < SELFMAG ? len : SELFMAG) || len == 0)
		return fail(err, errlen, "not an ELF file (bad magic)");
	if (len < EI_NIDENT) {
		snprintf(err, errlen, "truncated: %zu bytes, shorter than the ELF identification (%d)",
			 len, EI_NIDENT);
		return -1;
	}
	if (img[EI_CLASS] != ELFCLASS64) {
		if (img[EI_CLASS] == ELFCLASS32)
			return fail(err, errlen, "ELF32 file: the L1 kernel must be ELF64 (x86-64)");
		snprintf(err, errlen, "unknown ELF class %u (EI_CLASS): the L1 kernel must be ELF64",
			 img[EI_CLASS]);
		return -1;
	}
	if (len < sizeof(*eh))
		return fail(err, errlen, "truncated: shorter than the ELF header");
	memcpy(&ehdr, img, sizeof(ehdr));
	if (img[EI_DATA] != ELFDATA2LSB) {
		if (img[EI_DATA] == ELFDATA2MSB)
			return fail(err, errlen, "big-endian ELF: the L1 kernel must be little-endian x86-64");
		snprintf(err, errlen, "unknown ELF data encoding %u (EI_DATA): the L1 kernel must be "
			 "little-endian (2)", img[EI_DATA]);
		return -1;
	}
	if (eh->e_machine != EM_X86_64) {
		snprintf(err, errlen, "ELF machine %u is not x86-64 (%u)", eh->e_machine, EM_X86_64);
		return -1;
	}
	if (eh->e_type != ET_EXEC)
		return fail(err, errlen, "not a static executable (e_type is not ET_EXEC)");
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(err, errlen, "program header entries have the wrong size");
	if (eh->e_phnum == 0 || eh->e_phnum > ELF_MAX_PHDRS) {
		snprintf(err, errlen, "%u program headers (expected 1 to %d)", eh->e_phnum, ELF_MAX_PHDRS);
		return -1;
	}
	if (eh->e_phoff > len || (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return fail(err, errlen, "truncated: program headers run past the end of the file");
	memcpy(ph, img + eh->e_phoff, eh->e_phnum * sizeof(Elf64_Phdr));

	for (unsigned int i = 0; i < eh->e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];

		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		nload++;
		if (p->p_filesz > p->p_memsz) {
			snprintf(err, errlen, "segment %u: file size 0x%lx > memory size 0x%lx",
				 i, p->p_filesz, p->p_memsz);
			return -1;
		}
		if (p->p_offset > len || p->p_filesz > len - p->p_offset) {
			snprintf(err, errlen, "truncated: segment %u (offset 0x%lx, 0x%lx bytes) runs past "
				 "the end of the %zu-byte file", i, p->p_offset, p->p_filesz, len);
			return -1;
		}
		if (p->p_paddr < ELF_LOAD_MIN || p->p_paddr > mem_size ||
		    p->p_memsz > mem_size - p->p_paddr) {
			snprintf(err, errlen, "segment %u at 0x%lx-0x%lx is outside guest RAM "
				 "0x%llx-0x%lx (raise --mem or relink the kernel)", i, p->p_paddr,
				 p->p_paddr + p->p_memsz, ELF_LOAD_MIN, mem_size);
			return -1;
		}
		if (p->p_vaddr != p->p_paddr) {
			snprintf(err, errlen, "segment %u: virtual 0x%lx != physical 0x%lx (L1 runs "
				 "identity mapped)", i, p->p_vaddr, p->p_paddr);
			return -1;
		}
		for (unsigned int j = 0; j < i; j++) {
			const Elf64_Phdr *q = &ph[j];
			if (q->p_type == PT_LOAD && q->p_memsz &&
			    p->p_paddr < q->p_paddr + q->p_memsz && q->p_paddr < p->p_paddr + p->p_memsz) {
				snprintf(err, errlen, "segments %u and %u overlap", j, i);
				return -1;
			}
		}
		if ((p->p_flags & PF_X) && eh->e_entry >= p->p_paddr &&
		    eh->e_entry < p->p_paddr + p->p_memsz)
			entry_ok = 1;
	}
	if (nload == 0)
		return fail(err, errlen, "no loadable segment (no PT_LOAD with a size)");
	if (!entry_ok) {
		snprintf(err, errlen, "entry point 0x%lx is not inside an executable segment", eh->e_entry);
		return -1;
	}
	*entry = eh->e_entry;
	return 0;
}

void elf_load(const uint8_t *img, uint8_t *mem)
{
	const uint64_t page = 4096;
	Elf64_Ehdr eh;

	memcpy(&eh, img, sizeof(eh));
	for (unsigned int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr p;

		memcpy(&p, img + eh.e_phoff + i * sizeof(p), sizeof(p));
		if (p.p_type != PT_LOAD || p.p_memsz == 0)
			continue;
		memcpy(mem + p.p_paddr, img + p.p_offset, p.p_filesz);
		/*
		 * The bss: fresh guest RAM is already zero, so only the rest of
		 * the page the file data ends in is cleared. Writing all of it
		 * would make every page of a huge memsz resident (4 GiB, seconds
		 * before --timeout even starts).
		 */
		uint64_t bss = p.p_paddr + p.p_filesz, end = p.p_paddr + p.p_memsz;
		uint64_t page_end = (bss | (page - 1)) + 1;
		memset(mem + bss, 0, (end < page_end ? end : page_end) - bss);
	}
}
