// SPDX-License-Identifier: MIT
/*
 * SVM intercept helpers (arch/amd/common/svm_intercept.c): the MSRPM and
 * IOPM bit positions of APM 15.10.1 / 15.11, the VMEXIT_IOIO EXITINFO1
 * decoder of 15.10.2, and the instruction-length decoder L1 uses without
 * NRIPS. Expected values are the APM's byte/bit positions and the
 * instructions' encodings, not the header's symbols.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "nestvmm/svm_intercept.h"

static uint8_t msrpm[8192], iopm[12288];

Test(svm_intercept, msrpm_two_bits_per_msr_in_three_ranges)
{
	memset(msrpm, 0, sizeof(msrpm));
	/* MSR 174h: read bit 2*0x174 = bit 744 -> byte 93, bit 0; write bit 1. */
	cr_assert(svm_msrpm_set(msrpm, 0x174, true, false));
	cr_assert_eq(msrpm[93], 0x01);
	cr_assert(svm_msrpm_set(msrpm, 0x175, false, true));
	cr_assert_eq(msrpm[93], 0x01 | 0x08);
	/* C000_0102h: second vector at 800h, bits 2*0x102 -> byte 0x800 + 0x40, bits 4/5. */
	cr_assert(svm_msrpm_set(msrpm, 0xc0000102, true, true));
	cr_assert_eq(msrpm[0x840], 0x30);
	/* C001_0000h: third vector at 1000h. */
	cr_assert(svm_msrpm_set(msrpm, 0xc0010000, false, true));
	cr_assert_eq(msrpm[0x1000], 0x02);
	/* Clearing leaves the neighbours. */
	cr_assert(svm_msrpm_set(msrpm, 0x174, false, false));
	cr_assert_eq(msrpm[93], 0x08);
	/* Not covered: 2000h, C000_2000h, 4000_0000h, C001_2000h. */
	cr_assert_not(svm_msrpm_set(msrpm, 0x2000, true, true));
	cr_assert_not(svm_msrpm_set(msrpm, 0xc0002000, true, true));
	cr_assert_not(svm_msrpm_set(msrpm, 0x40000000, true, true));
	cr_assert_not(svm_msrpm_set(msrpm, 0xc0012000, true, true));
}

Test(svm_intercept, iopm_one_bit_per_port)
{
	memset(iopm, 0, sizeof(iopm));
	svm_iopm_set(iopm, 0x5ed, true);
	cr_assert_eq(iopm[0x5ed / 8], 1u << 5);
	svm_iopm_set(iopm, 0xffff, true);
	cr_assert_eq(iopm[0x1fff], 0x80);
	svm_iopm_set(iopm, 0x5ed, false);
	cr_assert_eq(iopm[0xbd], 0);
}

Test(svm_intercept, ioio_exitinfo1)
{
	/* IN word from 5ECh: TYPE=1, SZ16, A64 (bit 9), port in 31:16. */
	struct svm_ioio io = svm_ioio_decode(0x05ec0000ull | (1u << 9) | (1u << 5) | 1);
	cr_assert_eq(io.port, 0x5ec);
	cr_assert_eq(io.size, 2);
	cr_assert(io.in);
	cr_assert_not(io.string);
	/* REP OUTSB to 5EDh: STR, REP, SZ8. */
	io = svm_ioio_decode(0x05ed0000ull | (1u << 9) | (1u << 4) | (1u << 3) | (1u << 2));
	cr_assert_eq(io.size, 1);
	cr_assert_not(io.in);
	cr_assert(io.string && io.rep);
	io = svm_ioio_decode(0x05ea0000ull | (1u << 6));
	cr_assert_eq(io.size, 4);
}

Test(svm_intercept, insn_lengths)
{
	static const struct { uint8_t b[8]; unsigned int len; } t[] = {
		{ { 0x0f, 0xa2 }, 2 },                         /* CPUID */
		{ { 0x0f, 0x31 }, 2 },                         /* RDTSC */
		{ { 0x0f, 0x01, 0xf9 }, 3 },                   /* RDTSCP */
		{ { 0x0f, 0x33 }, 2 },                         /* RDPMC */
		{ { 0x0f, 0x32 }, 2 }, { { 0x0f, 0x30 }, 2 },  /* RDMSR, WRMSR */
		{ { 0xf3, 0x90 }, 2 },                         /* PAUSE */
		{ { 0x0f, 0x20, 0xdb }, 3 },                   /* mov %cr3,%rbx */
		{ { 0x44, 0x0f, 0x22, 0xc1 }, 4 },             /* mov %rcx,%cr8 */
		{ { 0x0f, 0x21, 0xfb }, 3 },                   /* mov %dr7,%rbx */
		{ { 0x0f, 0x06 }, 2 },                         /* CLTS */
		{ { 0x0f, 0x01, 0xf0 }, 3 },                   /* lmsw %ax */
		{ { 0x0f, 0x01, 0x38 }, 3 },                   /* invlpg (%rax) */
		{ { 0x0f, 0x01, 0x3c, 0x24 }, 4 },             /* invlpg (%rsp): SIB */
		{ { 0x0f, 0x01, 0x78, 0x10 }, 4 },             /* invlpg 0x10(%rax) */
		{ { 0x0f, 0x01, 0x3d, 1, 2, 3, 4 }, 7 },       /* invlpg disp32(%rip) */
		{ { 0xf3, 0x6e }, 2 },                         /* rep outsb */
		{ { 0xee }, 1 }, { { 0x66, 0xed }, 2 },        /* out %al,(%dx); in (%dx),%ax */
		{ { 0xe6, 0x80 }, 2 },                         /* out %al,$0x80 */
		{ { 0x0f, 0x0b }, 0 },                         /* UD2: not one of ours */
	};
	for (unsigned int i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_assert_eq(svm_insn_len_decode(t[i].b, 8), t[i].len, "entry %u", i);
	/* Truncated input: unknown, not a guess. */
	cr_assert_eq(svm_insn_len_decode((const uint8_t *)"\x0f\x01", 2), 0);
}
