// SPDX-License-Identifier: MIT
/*
 * VMX intercept helpers that need no CPU (Intel SDM vol. 3C, 25.6.4 "I/O
 * bitmaps", 25.6.9 "MSR-bitmap address", 28.2.1 "Basic VM-exit
 * information", tables 28-3 to 28-5): exit-qualification decoders and the
 * MSR and I/O bitmap setters.
 */
#include "nestvmm/vmx_intercept.h"

struct vmx_cr_qual vmx_cr_qual_decode(uint64_t q)
{
	struct vmx_cr_qual c = {
		.cr = q & 0xf,
		.type = (q >> 4) & 3,
		.lmsw_memory = (q >> 6) & 1,
		.gpr = (q >> 8) & 0xf,
		.lmsw_data = (uint16_t)(q >> 16),
	};
	return c;
}

struct vmx_dr_qual vmx_dr_qual_decode(uint64_t q)
{
	struct vmx_dr_qual d = { .dr = q & 7, .from = (q >> 4) & 1, .gpr = (q >> 8) & 0xf };
	return d;
}

struct vmx_io_qual vmx_io_qual_decode(uint64_t q)
{
	struct vmx_io_qual io = {
		.port = (uint16_t)(q >> 16),
		.size = (uint8_t)((q & 7) + 1),
		.in = (q >> 3) & 1,
		.string = (q >> 4) & 1,
		.rep = (q >> 5) & 1,
		.imm = (q >> 6) & 1,
	};
	return io;
}

static void bit_put(uint8_t *map, uint32_t bit, bool on)
{
	if (on)
		map[bit / 8] |= (uint8_t)(1u << (bit % 8));
	else
		map[bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

bool vmx_msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool read, bool write)
{
	uint32_t off;

	if (msr < 0x2000u)
		off = 0;
	else if (msr - 0xc0000000u < 0x2000u)
		off = 1024;
	else
		return false;
	msr &= 0x1fff;
	bit_put(bitmap + off, msr, read);
	bit_put(bitmap + 2048 + off, msr, write);
	return true;
}

void vmx_io_bitmap_set(uint8_t *a, uint8_t *b, uint16_t port, bool intercept)
{
	bit_put(port < 0x8000 ? a : b, port & 0x7fff, intercept);
}
