// SPDX-License-Identifier: MIT
/* ELF validation and loading of --kernel images. */
#include <criterion/criterion.h>
#include <elf.h>
#include <string.h>

#include "elf_loader.h"

#define MEM (16u << 20)

/* A minimal valid image: header, N program headers, then segment bytes. */
struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[3];
	uint8_t code[64];
} __attribute__((packed));

static struct image img;
static char err[256];
static uint64_t entry;

static void make_image(void)
{
	memset(&img, 0, sizeof(img));
	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_entry = 0x200000;
	img.eh.e_phoff = offsetof(struct image, ph);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 1;
	img.ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = offsetof(struct image, code), .p_vaddr = 0x200000, .p_paddr = 0x200000,
		.p_filesz = sizeof(img.code), .p_memsz = 0x1000 };
	memset(img.code, 0xf4, sizeof(img.code));
}

static int validate(size_t len)
{
	return elf_validate((const uint8_t *)&img, len, MEM, &entry, err, sizeof(err));
}

TestSuite(elf, .init = make_image);

Test(elf, accepts_valid_image_and_loads_it)
{
	static uint8_t mem[MEM];

	cr_assert_eq(validate(sizeof(img)), 0, "%s", err);
	cr_assert_eq(entry, 0x200000);
	memset(mem + 0x200000, 0xaa, 0x1000);
	elf_load((const uint8_t *)&img, mem);
	cr_assert_eq(mem[0x200000], 0xf4);
	cr_assert_eq(mem[0x200000 + 63], 0xf4);
	cr_assert_eq(mem[0x200000 + 64], 0, "bss must be zeroed");
	cr_assert_eq(mem[0x200fff], 0);
}

#define REJECTS(name, mutate, len, needle)                                  \
	Test(elf, name)                                                     \
	{                                                                   \
		mutate;                                                     \
		cr_assert_eq(validate(len), -1);                            \
		cr_assert(strstr(err, needle), "error \"%s\" lacks \"%s\"", err, needle); \
	}

REJECTS(bad_magic, img.eh.e_ident[1] = 'X', sizeof(img), "not an ELF")
REJECTS(elf32, img.eh.e_ident[EI_CLASS] = ELFCLASS32, sizeof(img), "ELF32")
REJECTS(wrong_machine, img.eh.e_machine = EM_AARCH64, sizeof(img), "not x86-64")
REJECTS(not_exec, img.eh.e_type = ET_DYN, sizeof(img), "ET_EXEC")
REJECTS(truncated_header, (void)0, 20, "truncated")
REJECTS(truncated_phdrs, (void)0, offsetof(struct image, ph) + 10, "truncated")
REJECTS(truncated_segment, (void)0, sizeof(img) - 10, "truncated")
REJECTS(zero_segments, img.eh.e_phnum = 0, sizeof(img), "program headers")
REJECTS(no_load_segment, img.ph[0].p_type = PT_NOTE, sizeof(img), "no loadable segment")
REJECTS(filesz_over_memsz, img.ph[0].p_memsz = 8, sizeof(img), "file size")
REJECTS(outside_ram, (img.ph[0].p_paddr = img.ph[0].p_vaddr = MEM - 0x100), sizeof(img), "outside guest RAM")
REJECTS(over_boot_area, (img.ph[0].p_paddr = img.ph[0].p_vaddr = 0x1000), sizeof(img), "outside guest RAM")
REJECTS(wrapping_address, (img.ph[0].p_paddr = img.ph[0].p_vaddr = ~0ull - 0x10), sizeof(img), "outside guest RAM")
REJECTS(entry_outside, img.eh.e_entry = 0x300000, sizeof(img), "entry point")
REJECTS(entry_not_executable, img.ph[0].p_flags = PF_R | PF_W, sizeof(img), "entry point")
REJECTS(virt_phys_differ, img.ph[0].p_vaddr = 0x400000, sizeof(img), "identity")

/*
 * Overlap, in every order: segment 0 is 0x200000-0x201000, and a later
 * segment starts inside it, ends inside it (lies below it), contains it,
 * lies within it, or covers exactly it. A check of one direction only
 * (say "a later segment starts inside an earlier one") misses the others.
 */
static void add_segment(unsigned int i, uint64_t paddr, uint64_t memsz)
{
	img.eh.e_phnum = (Elf64_Half)(i + 1);
	img.ph[i] = img.ph[0];
	img.ph[i].p_flags = PF_R | PF_W;
	img.ph[i].p_paddr = img.ph[i].p_vaddr = paddr;
	img.ph[i].p_memsz = memsz;
}

#define REJECTS_OVERLAP(name, paddr, memsz)                                 \
	Test(elf, name)                                                     \
	{                                                                   \
		add_segment(1, paddr, memsz);                               \
		cr_assert_eq(validate(sizeof(img)), -1, "0x%lx+0x%lx accepted", \
			     (unsigned long)(paddr), (unsigned long)(memsz)); \
		cr_assert(strstr(err, "segments 0 and 1 overlap"), "%s", err); \
	}

REJECTS_OVERLAP(rejects_later_segment_starting_inside_earlier, 0x200800, 0x1000)
REJECTS_OVERLAP(rejects_later_segment_below_earlier_ending_inside_it, 0x1ff800, 0x1000)
REJECTS_OVERLAP(rejects_later_segment_containing_earlier, 0x1ff000, 0x3000)
REJECTS_OVERLAP(rejects_later_segment_within_earlier, 0x200400, 0x200)
REJECTS_OVERLAP(rejects_later_segment_over_the_same_range, 0x200000, 0x1000)
REJECTS_OVERLAP(rejects_one_byte_of_overlap_below, 0x1ff000, 0x1001)
REJECTS_OVERLAP(rejects_one_byte_of_overlap_above, 0x200fff, 0x1000)

Test(elf, rejects_overlap_with_any_earlier_segment_not_only_the_previous)
{
	add_segment(1, 0x202000, 0x1000);
	add_segment(2, 0x1ff800, 0x1000);
	cr_assert_eq(validate(sizeof(img)), -1);
	cr_assert(strstr(err, "segments 0 and 2 overlap"), "%s", err);
}

Test(elf, accepts_a_later_segment_touching_from_below)
{
	add_segment(1, 0x1ff000, 0x1000);
	cr_assert_eq(validate(sizeof(img)), 0, "%s", err);
}

Test(elf, accepts_disjoint_segments)
{
	img.eh.e_phnum = 2;
	img.ph[1] = img.ph[0];
	img.ph[1].p_flags = PF_R | PF_W;
	img.ph[1].p_paddr = img.ph[1].p_vaddr = 0x201000;
	cr_assert_eq(validate(sizeof(img)), 0, "%s", err);
}
