// SPDX-License-Identifier: MIT
/*
 * Nested page tables for L2 (AMD APM vol. 2, 15.25 "Nested Paging"): the
 * same 4-level long-mode format as ordinary page tables (15.25.5), walked
 * with guest-physical addresses as input. Every nested access counts as a
 * user access (15.25.5), so each present entry has U=1 at every level.
 * Plain C over callbacks: L1 passes its page allocator, the unit tests a
 * pool of pages.
 */
#include "nestvmm/svm.h"
#include "nestvmm/x86.h"

#define NPT_LEVELS      4
#define NPT_ENTRIES     512
#define NPT_PS          PTE_PS                 /* 2 MiB page in a PD entry */
#define NPT_2M_MASK     0x000fffffffe00000ull  /* address bits of a 2 MiB entry */
#define NPT_FLAGS_4K    0x8000000000000fffull  /* NX and bits 11:0 carried into a split */

static unsigned int npt_index(uint64_t gpa, int level)
{
	/* Level 4 (PML4) uses GPA bits 47:39, level 1 (PT) bits 20:12. */
	return (unsigned int)(gpa >> (12 + 9 * (level - 1))) & (NPT_ENTRIES - 1);
}

/* The table entry *e points to, allocating it when missing. */
static uint64_t *npt_next(const struct svm_npt_mem *m, uint64_t *e, unsigned int *changed)
{
	uint64_t pa;
	uint64_t *t;

	if (*e & PTE_P)
		return m->table(m->ctx, *e & SVM_NPT_ADDR_MASK);
	t = m->alloc(m->ctx, &pa);
	*e = pa | SVM_NPT_RWX;
	*changed |= SVM_NPT_NEW_TABLE;
	return t;
}

uint64_t svm_npt_identity(const struct svm_npt_mem *m, uint64_t mem_size)
{
	uint64_t root, *pml4 = m->alloc(m->ctx, &root);
	unsigned int changed = 0;

	/* Upper levels on demand, 2 MiB leaves: 4 GiB of RAM costs 6 pages. */
	for (uint64_t gpa = 0; gpa < mem_size; gpa += SVM_NPT_2M) {
		uint64_t *pdpt = npt_next(m, &pml4[npt_index(gpa, 4)], &changed);
		uint64_t *pd = npt_next(m, &pdpt[npt_index(gpa, 3)], &changed);

		pd[npt_index(gpa, 2)] = gpa | NPT_PS | SVM_NPT_RWX;
	}
	return root;
}

unsigned int svm_npt_map(const struct svm_npt_mem *m, uint64_t root, uint64_t gpa, uint64_t hpa,
			 bool present, bool writable)
{
	uint64_t *t = m->table(m->ctx, root);
	unsigned int changed = 0;

	for (int l = NPT_LEVELS; l > 2; l--)
		t = npt_next(m, &t[npt_index(gpa, l)], &changed);

	/* A 2 MiB page covers gpa: 512 4 KiB pages with its address and rights. */
	uint64_t *pde = &t[npt_index(gpa, 2)];
	if (*pde & NPT_PS) {
		uint64_t pa, base = *pde & NPT_2M_MASK, flags = *pde & NPT_FLAGS_4K & ~NPT_PS;
		uint64_t *pt = m->alloc(m->ctx, &pa);

		for (unsigned int i = 0; i < NPT_ENTRIES; i++)
			pt[i] = (base + (uint64_t)i * 4096) | flags;
		*pde = pa | SVM_NPT_RWX;
		changed |= SVM_NPT_SPLIT;
	}
	t = npt_next(m, pde, &changed);

	/* The leaf: U always (nested walks are user accesses), W and P as asked. */
	t[npt_index(gpa, 1)] = (hpa & SVM_NPT_ADDR_MASK) | PTE_U | (writable ? PTE_W : 0) |
			       (present ? PTE_P : 0);
	return changed;
}
