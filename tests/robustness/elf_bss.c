// SPDX-License-Identifier: MIT
/*
 * A 4 KiB ELF whose segment has a 4 GiB memory size, loaded into 4 GiB of
 * guest RAM mapped as nestvmm maps it (anonymous, MAP_NORESERVE): elf_load()
 * must not touch the bss beyond the page its file data ends in (fresh RAM is
 * zero). It used to memset all of it: 4 GiB resident, ~19 s, before
 * --timeout even starts. Checks: resident memory grows by less than 16 MiB,
 * the load takes less than a second, the code is in place, and the rest of
 * the page after the file data is cleared. Exit 0 pass, 1 fail.
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "elf_loader.h"

#define MEM (4096ull << 20)
#define BASE 0x200000ull

struct image {
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint8_t code[4096 - sizeof(Elf64_Ehdr) - sizeof(Elf64_Phdr)];
};

static long resident_kib(void)
{
	long size, res;
	FILE *f = fopen("/proc/self/statm", "r");

	if (!f || fscanf(f, "%ld %ld", &size, &res) != 2) {
		perror("/proc/self/statm");
		return -1;
	}
	fclose(f);
	return res * (sysconf(_SC_PAGESIZE) / 1024);
}

int main(void)
{
	static struct image img;
	char err[256];
	uint64_t entry;
	struct timespec t0, t1;
	int fail = 0;

	memcpy(img.eh.e_ident, ELFMAG, SELFMAG);
	img.eh.e_ident[EI_CLASS] = ELFCLASS64;
	img.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	img.eh.e_ident[EI_VERSION] = EV_CURRENT;
	img.eh.e_type = ET_EXEC;
	img.eh.e_machine = EM_X86_64;
	img.eh.e_version = EV_CURRENT;
	img.eh.e_entry = BASE;
	img.eh.e_phoff = sizeof(Elf64_Ehdr);
	img.eh.e_ehsize = sizeof(Elf64_Ehdr);
	img.eh.e_phentsize = sizeof(Elf64_Phdr);
	img.eh.e_phnum = 1;
	img.ph = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X,
			       .p_offset = offsetof(struct image, code), .p_vaddr = BASE,
			       .p_paddr = BASE, .p_filesz = 100, .p_memsz = MEM - BASE,
			       .p_align = 0x1000 };
	memset(img.code, 0xf4, sizeof(img.code));     /* hlt */
	if (elf_validate((const uint8_t *)&img, sizeof(img), MEM, &entry, err, sizeof(err))) {
		printf("FAIL: the image is refused: %s\n", err);
		return 1;
	}
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			    -1, 0);
	if (mem == MAP_FAILED) {
		perror("mmap 4 GiB");
		return 1;
	}
	/* Dirt in the first bss page: the loader must clear it. */
	memset(mem + BASE + 100, 0xaa, 4096 - 100);
	long before = resident_kib();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	elf_load((const uint8_t *)&img, mem);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long grown = resident_kib() - before;
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("elf_load of a 4 GiB memsz: %.3f s, resident memory +%ld KiB\n", s, grown);
	if (grown > 16 * 1024) {
		printf("FAIL: resident memory grew by %ld KiB (limit 16 MiB)\n", grown);
		fail = 1;
	}
	if (s > 1.0) {
		printf("FAIL: took %.3f s (limit 1 s)\n", s);
		fail = 1;
	}
	if (mem[BASE] != 0xf4 || mem[BASE + 99] != 0xf4) {
		printf("FAIL: the file data is not in place\n");
		fail = 1;
	}
	for (unsigned int i = 100; i < 4096; i++)
		if (mem[BASE + i]) {
			printf("FAIL: bss byte at 0x%llx is 0x%02x, not 0\n", BASE + i, mem[BASE + i]);
			fail = 1;
			break;
		}
	munmap(mem, MEM);
	puts(fail ? "elf_bss: FAILED" : "elf_bss: all checks passed");
	return fail;
}
