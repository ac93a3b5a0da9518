// SPDX-License-Identifier: MIT
/*
 * L1's page allocator: a bump pointer from the end of the image to the end
 * of RAM, with marks. The test runner takes a mark before each test and
 * releases it afterwards, so every test allocates from the same fresh
 * arena: its VMCB/VMCS, page tables and stacks are new, and nothing one
 * test left behind reaches the next.
 */
#include "l1.h"

extern char __l1_end[];
static u64 next_free, dirty_end;

void *page_alloc(unsigned int npages)
{
	u64 size = (u64)npages << 12;

	if (!next_free)
		next_free = dirty_end = (gpa_of(__l1_end) + 0xfff) & ~0xfffull;
	GUEST_ASSERT(next_free + size <= l1_mem_size(),
		     "out of guest memory: %u pages wanted at 0x%lx, RAM ends at 0x%lx",
		     npages, next_free, l1_cfg.mem_size);
	void *p = (void *)(uintptr_t)next_free;
	next_free += size;
	if (next_free > dirty_end)
		dirty_end = next_free;
	return p;   /* zero: fresh from the VMM, or cleared by arena_release */
}

u64 arena_mark(void)
{
	if (!next_free)
		next_free = dirty_end = (gpa_of(__l1_end) + 0xfff) & ~0xfffull;
	return next_free;
}

/* Give back everything allocated since mark, zeroed, so page_alloc's promise holds. */
void arena_release(u64 mark)
{
	GUEST_ASSERT(mark >= gpa_of(__l1_end) && mark <= next_free,
		     "arena_release(0x%lx): not a mark (next free page 0x%lx)", mark, next_free);
	memset((void *)(uintptr_t)mark, 0, dirty_end - mark);
	next_free = dirty_end = mark;
}
