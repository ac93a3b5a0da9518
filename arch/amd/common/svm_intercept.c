// SPDX-License-Identifier: MIT
/*
 * SVM intercept helpers that need no CPU (AMD APM vol. 2, 15.10 "IOIO
 * Intercepts", 15.11 "MSR Intercepts", 15.33 "Decode Assists"): the MSR and
 * I/O permission maps, the VMEXIT_IOIO EXITINFO1 decoder, and an
 * instruction-length decoder for L1 on an L0 without NRIPS.
 */
#include <stddef.h>

#include "nestvmm/svm_intercept.h"

struct svm_ioio svm_ioio_decode(uint64_t e)
{
	struct svm_ioio io = {
		.port = (uint16_t)(e >> 16),
		.in = e & 1,
		.string = (e & SVM_IOIO_STR) != 0,
		.rep = (e & SVM_IOIO_REP) != 0,
	};

	io.size = e & SVM_IOIO_SZ8 ? 1 : e & SVM_IOIO_SZ16 ? 2 : e & SVM_IOIO_SZ32 ? 4 : 0;
	return io;
}

/* 15.11, table "MSR Ranges": the three 2 KiB vectors and their first MSR. */
static long msrpm_bit(uint32_t msr)
{
	static const uint32_t base[] = { 0x00000000u, 0xc0000000u, 0xc0010000u };

	for (unsigned int i = 0; i < 3; i++)
		if (msr - base[i] < 0x2000u)
			return (long)(i * 0x800u * 8 + (msr - base[i]) * 2);
	return -1;
}

bool svm_msrpm_set(uint8_t *msrpm, uint32_t msr, bool read, bool write)
{
	long bit = msrpm_bit(msr);
	uint8_t two;

	if (bit < 0)
		return false;
	two = (uint8_t)((read ? 1 : 0) | (write ? 2 : 0));
	msrpm[bit / 8] = (uint8_t)((msrpm[bit / 8] & ~(3u << (bit % 8))) | (two << (bit % 8)));
	return true;
}

void svm_iopm_set(uint8_t *iopm, uint16_t port, bool intercept)
{
	if (intercept)
		iopm[port / 8] |= (uint8_t)(1u << (port % 8));
	else
		iopm[port / 8] &= (uint8_t)~(1u << (port % 8));
}

/* ModRM (+ SIB + displacement) in 64-bit mode: how many bytes from the ModRM byte on. */
static unsigned int modrm_len(const uint8_t *p, unsigned int n)
{
	unsigned int mod, rm, len = 1;

	if (!n)
		return 0;
	mod = p[0] >> 6;
	rm = p[0] & 7;
	if (mod == 3)
		return 1;
	if (rm == 4) {                           /* SIB follows */
		if (n < 2)
			return 0;
		len++;
		if (mod == 0 && (p[1] & 7) == 5)
			return len + 4;          /* no base: disp32 */
	} else if (mod == 0 && rm == 5) {
		return len + 4;                  /* RIP + disp32 */
	}
	return len + (mod == 1 ? 1 : mod == 2 ? 4 : 0);
}

unsigned int svm_insn_len_decode(const uint8_t *p, unsigned int n)
{
	unsigned int i = 0, m;

	/* Legacy prefixes (operand/address size, segment, REP, LOCK), then REX. */
	while (i < n && i < 14 && (p[i] == 0x66 || p[i] == 0x67 || p[i] == 0xf2 || p[i] == 0xf3 ||
				   p[i] == 0xf0 || p[i] == 0x2e || p[i] == 0x36 || p[i] == 0x3e ||
				   p[i] == 0x26 || p[i] == 0x64 || p[i] == 0x65))
		i++;
	if (i < n && (p[i] & 0xf0) == 0x40)
		i++;
	if (i >= n)
		return 0;
	switch (p[i]) {
	case 0x90: case 0xf4:                    /* PAUSE (F3 90) / NOP, HLT */
	case 0xec: case 0xed: case 0xee: case 0xef:   /* IN/OUT with DX */
	case 0x6c: case 0x6d: case 0x6e: case 0x6f:   /* INS/OUTS */
		return i + 1;
	case 0xe4: case 0xe5: case 0xe6: case 0xe7:   /* IN/OUT with imm8 */
		return i + 2 <= n ? i + 2 : 0;
	case 0x0f:
		break;
	default:
		return 0;
	}
	if (++i >= n)
		return 0;
	switch (p[i]) {
	case 0x06:                               /* CLTS */
	case 0x30: case 0x31: case 0x32: case 0x33:   /* WRMSR RDTSC RDMSR RDPMC */
	case 0xa2:                               /* CPUID */
		return i + 1;
	case 0x01:                               /* group 7: INVLPG /7, LMSW /6, RDTSCP F9 ... */
	case 0x20: case 0x21: case 0x22: case 0x23:   /* MOV CR/DR: ModRM, always a register */
		if (p[i] >= 0x20)
			return i + 2 <= n ? i + 2 : 0;
		m = modrm_len(p + i + 1, n - i - 1);
		return m && i + 1 + m <= n ? i + 1 + m : 0;
	default:
		return 0;
	}
}
