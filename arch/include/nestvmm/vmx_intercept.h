/* SPDX-License-Identifier: MIT */
/*
 * VMX intercepts beyond the controls every L2 has (nestvmm/vmx.h): the
 * exit reasons of the instructions L1 may intercept (SDM appendix C), the
 * exit-qualification decoders for control-register accesses, MOV DR and
 * I/O instructions (SDM 28.2.1, tables 28-3, 28-4, 28-5), and the MSR and
 * I/O bitmaps (25.6.9, 25.6.4). Plain C: arch/intel/common/vmx_intercept.c,
 * unit-tested in tests/unit/test_vmx_intercept.c.
 */
#ifndef NESTVMM_VMX_INTERCEPT_H
#define NESTVMM_VMX_INTERCEPT_H

#include <stdbool.h>
#include <stdint.h>

#define EXIT_REASON_INVLPG          14
#define EXIT_REASON_RDPMC           15
#define EXIT_REASON_RDTSC           16
#define EXIT_REASON_DR_ACCESS       29
#define EXIT_REASON_PAUSE           40
#define EXIT_REASON_RDTSCP          51

/* Table 28-3: access types of a control-register access. */
#define VMX_CR_MOV_TO               0u
#define VMX_CR_MOV_FROM             1u
#define VMX_CR_CLTS                 2u
#define VMX_CR_LMSW                 3u

struct vmx_cr_qual {
	uint8_t cr;          /* 3:0 */
	uint8_t type;        /* 5:4, VMX_CR_* */
	bool lmsw_memory;    /* 6: LMSW operand in memory */
	uint8_t gpr;         /* 11:8, MOV CR only */
	uint16_t lmsw_data;  /* 31:16, LMSW only */
};
struct vmx_cr_qual vmx_cr_qual_decode(uint64_t q);

/* Table 28-4: MOV DR. */
struct vmx_dr_qual {
	uint8_t dr;          /* 2:0 */
	bool from;           /* 4: 1 = MOV from DR (read) */
	uint8_t gpr;         /* 11:8 */
};
struct vmx_dr_qual vmx_dr_qual_decode(uint64_t q);

/* Table 28-5: I/O instructions. */
struct vmx_io_qual {
	uint16_t port;       /* 31:16 */
	uint8_t size;        /* 2:0 + 1: 1, 2 or 4 */
	bool in, string, rep, imm;   /* 3, 4, 5, 6 */
};
struct vmx_io_qual vmx_io_qual_decode(uint64_t q);

/*
 * 25.6.9: the 4 KiB MSR bitmap, read bits for 0-1FFFh at byte 0 and for
 * C0000000h-C0001FFFh at 1024, write bits at 2048 and 3072. Sets or clears
 * msr's read and write bits; false for an MSR outside those ranges (its
 * RDMSR/WRMSR always exits).
 */
bool vmx_msr_bitmap_set(uint8_t *bitmap, uint32_t msr, bool read, bool write);

/* 25.6.4: bitmap A covers ports 0-7FFFh, B 8000h-FFFFh, one bit per port. */
void vmx_io_bitmap_set(uint8_t *a, uint8_t *b, uint16_t port, bool intercept);

#endif
