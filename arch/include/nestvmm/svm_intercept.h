/* SPDX-License-Identifier: MIT */
/*
 * SVM intercepts beyond the ones every L2 has (nestvmm/svm.h): the
 * instruction intercept bits of VMCB vectors 3 and 4 (APM table B-1), the
 * CR/DR intercept words, their #VMEXIT codes (appendix C), the MSR and I/O
 * permission maps (15.10, 15.11) and the EXITINFO1 decoders of 15.10.2 and
 * 15.33 (decode assists). Plain C: arch/amd/common/svm_intercept.c,
 * unit-tested in tests/unit/test_svm_intercept.c.
 */
#ifndef NESTVMM_SVM_INTERCEPT_H
#define NESTVMM_SVM_INTERCEPT_H

#include <stdbool.h>
#include <stdint.h>

/* Intercept vector 3 (VMCB 00Ch), beyond nestvmm/svm.h's. */
#define SVM_INTERCEPT_CR0_SEL_WRITE (1u << 5)
#define SVM_INTERCEPT_RDTSC         (1u << 14)
#define SVM_INTERCEPT_RDPMC         (1u << 15)
#define SVM_INTERCEPT_PAUSE         (1u << 23)
#define SVM_INTERCEPT_INVLPG        (1u << 25)
/* Intercept vector 4 (VMCB 010h). */
#define SVM_INTERCEPT_RDTSCP        (1u << 7)

/* VMCB 000h/004h: reads of CRn/DRn in bit n, writes in bit 16 + n. */
#define SVM_INTERCEPT_CR_READ(n)    (1u << (n))
#define SVM_INTERCEPT_CR_WRITE(n)   (1u << (16 + (n)))

/* #VMEXIT codes (appendix C). */
#define VMEXIT_CR0_SEL_WRITE        0x065ull
#define VMEXIT_RDTSC                0x06eull
#define VMEXIT_RDPMC                0x06full
#define VMEXIT_PAUSE                0x077ull
#define VMEXIT_INVLPG               0x079ull
#define VMEXIT_RDTSCP               0x087ull

/* EXITINFO1 of CR/DR intercepts with decode assists (15.33.1): the GPR in
 * bits 3:0; for CRs bit 63 says MOV (1) rather than LMSW/CLTS (0). */
#define SVM_EXITINFO1_CR_MOV        (1ull << 63)
#define SVM_EXITINFO1_GPR_MASK      0xfull

/* EXITINFO1 of VMEXIT_IOIO (15.10.2). */
#define SVM_IOIO_STR                (1ull << 2)
#define SVM_IOIO_REP                (1ull << 3)
#define SVM_IOIO_SZ8                (1ull << 4)
#define SVM_IOIO_SZ16               (1ull << 5)
#define SVM_IOIO_SZ32               (1ull << 6)

struct svm_ioio {
	uint16_t port;
	uint8_t size;        /* 1, 2, 4; 0 when no SZ bit is set */
	bool in, string, rep;
};
struct svm_ioio svm_ioio_decode(uint64_t exitinfo1);

/*
 * Set (intercept) or clear one MSR's read and write bits in the 8 KiB MSRPM
 * (15.11: two bits per MSR, read then write, for 0000_0000h-0000_1FFFh at
 * byte 0, C000_0000h-C000_1FFFh at 800h, C001_0000h-C001_1FFFh at 1000h).
 * Returns false for an MSR outside those ranges (always intercepted).
 */
bool svm_msrpm_set(uint8_t *msrpm, uint32_t msr, bool read, bool write);

/* Set or clear one port's bit in the 12 KiB IOPM (15.10.1: bit n = port n). */
void svm_iopm_set(uint8_t *iopm, uint16_t port, bool intercept);

/*
 * The length of the instruction at p (up to n bytes), for an L1 that has no
 * nRIP (no NRIPS): legacy prefixes, REX, and the opcodes L2 tests execute
 * under intercepts (CPUID, RDTSC(P), RDPMC, RDMSR/WRMSR, PAUSE, HLT, INVLPG,
 * MOV CR/DR, CLTS, LMSW, IN/OUT, INS/OUTS) with their ModRM/SIB/displacement
 * in 64-bit mode. 0 for anything else.
 */
unsigned int svm_insn_len_decode(const uint8_t *p, unsigned int n);

#endif
