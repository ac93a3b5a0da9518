// SPDX-License-Identifier: MIT
/* L1's page allocator: a bump pointer from the end of the image to the end of RAM. */
#include "l1.h"

extern char __l1_end[];
static u64 next_free;

void *page_alloc(unsigned int npages)
{
	u64 size = (u64)npages << 12;

	if (!next_free)
		next_free = (gpa_of(__l1_end) + 0xfff) & ~0xfffull;
	GUEST_ASSERT(next_free + size <= l1_mem_size(),
		     "out of guest memory: %u pages wanted at 0x%lx, RAM ends at 0x%lx",
		     npages, next_free, l1_cfg.mem_size);
	void *p = (void *)(uintptr_t)next_free;
	next_free += size;
	return p;   /* zero: RAM comes fresh from the VMM and is never reused */
}
