// SPDX-License-Identifier: MIT
/*
 * Regressions found by tests/fuzz/fuzz_elf (corpus file named in each test).
 * Run under -DNESTVMM_SANITIZE=ON: the failures were UBSan reports.
 */
#include <criterion/criterion.h>
#include <elf.h>
#include <stdalign.h>
#include <string.h>

#include "elf_loader.h"

#define MEM (16u << 20)

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[1];
	uint8_t code[16];
} __attribute__((packed));

static void make_image(struct image *img)
{
	memset(img, 0, sizeof(*img));
	memcpy(img->eh.e_ident, ELFMAG, SELFMAG);
	img->eh.e_ident[EI_CLASS] = ELFCLASS64;
	img->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img->eh.e_type = ET_EXEC;
	img->eh.e_machine = EM_X86_64;
	img->eh.e_entry = 0x200000;
	img->eh.e_phoff = offsetof(struct image, ph);
	img->eh.e_phentsize = sizeof(Elf64_Phdr);
	img->eh.e_phnum = 1;
	img->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = offsetof(struct image, code), .p_vaddr = 0x200000, .p_paddr = 0x200000,
		.p_filesz = sizeof(img->code), .p_memsz = 0x1000 };
	memset(img->code, 0xf4, sizeof(img->code));
}

/*
 * corpus/elf/regress-unaligned-image: elf_validate() and elf_load() read the
 * ELF header through an Elf64_Ehdr pointer cast from the byte pointer they
 * are given: misaligned access (UB) for an image at an odd address, e.g. an
 * ELF embedded at an offset in a bigger buffer. Both now copy the header.
 */
Test(regress_elf, image_at_every_alignment)
{
	static alignas(16) uint8_t buf[sizeof(struct image) + 16];
	static uint8_t mem[MEM];
	struct image img;
	char err[256];
	uint64_t entry;

	make_image(&img);
	for (size_t shift = 0; shift < 8; shift++) {
		uint8_t *p = buf + shift;

		memcpy(p, &img, sizeof(img));
		entry = 0;
		cr_assert_eq(elf_validate(p, sizeof(img), MEM, &entry, err, sizeof(err)), 0,
			     "shift %zu: %s", shift, err);
		cr_assert_eq(entry, 0x200000);
		memset(mem + 0x200000, 0xaa, 0x1000);
		elf_load(p, mem);
		cr_assert_eq(mem[0x200000], 0xf4, "shift %zu", shift);
		cr_assert_eq(mem[0x200000 + 16], 0, "shift %zu: bss zeroed", shift);

		/* and a rejected one, read the same way */
		p[EI_CLASS + 0] = ELFCLASS64;
		memcpy(p + offsetof(Elf64_Ehdr, e_machine), &(uint16_t){ EM_AARCH64 }, 2);
		err[0] = '\0';
		cr_assert_eq(elf_validate(p, sizeof(img), MEM, &entry, err, sizeof(err)), -1);
		cr_assert(strstr(err, "not x86-64"), "%s", err);
	}
}
