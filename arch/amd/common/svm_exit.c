// SPDX-License-Identifier: MIT
/*
 * Names of the SVM #VMEXIT codes, after AMD APM vol. 2 appendix C "SVM
 * Intercept Exit Codes". Plain C: L1 names the exits it reports, the host
 * and the unit tests use the same table.
 */
#include "nestvmm/svm.h"

#define N16(base, pfx, sfx)                                                 \
	[(base) + 0] = pfx "0" sfx, [(base) + 1] = pfx "1" sfx,             \
	[(base) + 2] = pfx "2" sfx, [(base) + 3] = pfx "3" sfx,             \
	[(base) + 4] = pfx "4" sfx, [(base) + 5] = pfx "5" sfx,             \
	[(base) + 6] = pfx "6" sfx, [(base) + 7] = pfx "7" sfx,             \
	[(base) + 8] = pfx "8" sfx, [(base) + 9] = pfx "9" sfx,             \
	[(base) + 10] = pfx "10" sfx, [(base) + 11] = pfx "11" sfx,         \
	[(base) + 12] = pfx "12" sfx, [(base) + 13] = pfx "13" sfx,         \
	[(base) + 14] = pfx "14" sfx, [(base) + 15] = pfx "15" sfx

#define EXCP_TENS(base, first)                                                 \
	[(base) + 0] = "VMEXIT_EXCP" #first "0",                            \
	[(base) + 1] = "VMEXIT_EXCP" #first "1",                            \
	[(base) + 2] = "VMEXIT_EXCP" #first "2",                            \
	[(base) + 3] = "VMEXIT_EXCP" #first "3",                            \
	[(base) + 4] = "VMEXIT_EXCP" #first "4",                            \
	[(base) + 5] = "VMEXIT_EXCP" #first "5",                            \
	[(base) + 6] = "VMEXIT_EXCP" #first "6",                            \
	[(base) + 7] = "VMEXIT_EXCP" #first "7",                            \
	[(base) + 8] = "VMEXIT_EXCP" #first "8",                            \
	[(base) + 9] = "VMEXIT_EXCP" #first "9"

/* Codes 000h-0A6h, indexed by code. */
static const char *const svm_exit_names[] = {
	N16(0x00, "VMEXIT_CR", "_READ"),
	N16(0x10, "VMEXIT_CR", "_WRITE"),
	N16(0x20, "VMEXIT_DR", "_READ"),
	N16(0x30, "VMEXIT_DR", "_WRITE"),
	/* EXCP0-9 as "VMEXIT_EXCP0".."9", then 10-31 by hand (no leading 0). */
	[0x40] = "VMEXIT_EXCP0", [0x41] = "VMEXIT_EXCP1", [0x42] = "VMEXIT_EXCP2",
	[0x43] = "VMEXIT_EXCP3", [0x44] = "VMEXIT_EXCP4", [0x45] = "VMEXIT_EXCP5",
	[0x46] = "VMEXIT_EXCP6", [0x47] = "VMEXIT_EXCP7", [0x48] = "VMEXIT_EXCP8",
	[0x49] = "VMEXIT_EXCP9",
	EXCP_TENS(0x4a, 1),
	EXCP_TENS(0x54, 2),
	[0x5e] = "VMEXIT_EXCP30", [0x5f] = "VMEXIT_EXCP31",
	[0x60] = "VMEXIT_INTR",
	[0x61] = "VMEXIT_NMI",
	[0x62] = "VMEXIT_SMI",
	[0x63] = "VMEXIT_INIT",
	[0x64] = "VMEXIT_VINTR",
	[0x65] = "VMEXIT_CR0_SEL_WRITE",
	[0x66] = "VMEXIT_IDTR_READ",
	[0x67] = "VMEXIT_GDTR_READ",
	[0x68] = "VMEXIT_LDTR_READ",
	[0x69] = "VMEXIT_TR_READ",
	[0x6a] = "VMEXIT_IDTR_WRITE",
	[0x6b] = "VMEXIT_GDTR_WRITE",
	[0x6c] = "VMEXIT_LDTR_WRITE",
	[0x6d] = "VMEXIT_TR_WRITE",
	[0x6e] = "VMEXIT_RDTSC",
	[0x6f] = "VMEXIT_RDPMC",
	[0x70] = "VMEXIT_PUSHF",
	[0x71] = "VMEXIT_POPF",
	[0x72] = "VMEXIT_CPUID",
	[0x73] = "VMEXIT_RSM",
	[0x74] = "VMEXIT_IRET",
	[0x75] = "VMEXIT_SWINT",
	[0x76] = "VMEXIT_INVD",
	[0x77] = "VMEXIT_PAUSE",
	[0x78] = "VMEXIT_HLT",
	[0x79] = "VMEXIT_INVLPG",
	[0x7a] = "VMEXIT_INVLPGA",
	[0x7b] = "VMEXIT_IOIO",
	[0x7c] = "VMEXIT_MSR",
	[0x7d] = "VMEXIT_TASK_SWITCH",
	[0x7e] = "VMEXIT_FERR_FREEZE",
	[0x7f] = "VMEXIT_SHUTDOWN",
	[0x80] = "VMEXIT_VMRUN",
	[0x81] = "VMEXIT_VMMCALL",
	[0x82] = "VMEXIT_VMLOAD",
	[0x83] = "VMEXIT_VMSAVE",
	[0x84] = "VMEXIT_STGI",
	[0x85] = "VMEXIT_CLGI",
	[0x86] = "VMEXIT_SKINIT",
	[0x87] = "VMEXIT_RDTSCP",
	[0x88] = "VMEXIT_ICEBP",
	[0x89] = "VMEXIT_WBINVD",
	[0x8a] = "VMEXIT_MONITOR",
	[0x8b] = "VMEXIT_MWAIT",
	[0x8c] = "VMEXIT_MWAIT_CONDITIONAL",
	[0x8d] = "VMEXIT_XSETBV",
	[0x8e] = "VMEXIT_RDPRU",
	[0x8f] = "VMEXIT_EFER_WRITE_TRAP",
	N16(0x90, "VMEXIT_CR", "_WRITE_TRAP"),
	[0xa0] = "VMEXIT_INVLPGB",
	[0xa1] = "VMEXIT_INVLPGB_ILLEGAL",
	[0xa2] = "VMEXIT_INVPCID",
	[0xa3] = "VMEXIT_MCOMMIT",
	[0xa4] = "VMEXIT_TLBSYNC",
	[0xa5] = "VMEXIT_BUSLOCK",
	[0xa6] = "VMEXIT_IDLE_HLT",
};

/* Codes 400h-403h. */
static const char *const svm_exit_names_400[] = {
	"VMEXIT_NPF", "VMEXIT_AVIC_INCOMPLETE_IPI", "VMEXIT_AVIC_NOACCEL", "VMEXIT_VMGEXIT",
};

/* Codes -1 to -4 (the EXITCODE field is 64 bits wide). */
static const char *const svm_exit_names_neg[] = {
	"VMEXIT_INVALID", "VMEXIT_BUSY", "VMEXIT_IDLE_REQUIRED", "VMEXIT_INVALID_PMC",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

const char *svm_exit_name(uint64_t code)
{
	if (code < ARRAY_LEN(svm_exit_names))
		return svm_exit_names[code];
	if (code - VMEXIT_NPF < ARRAY_LEN(svm_exit_names_400))
		return svm_exit_names_400[code - VMEXIT_NPF];
	if (-code - 1 < ARRAY_LEN(svm_exit_names_neg))
		return svm_exit_names_neg[-code - 1];
	return NULL;
}

unsigned int svm_exit_insn_len(uint64_t exitcode, uint64_t rip, uint64_t nrip,
			       uint64_t exitinfo2, bool nrips)
{
	/* IOIO always leaves the next RIP in EXITINFO2 (15.10.2). */
	if (exitcode == VMEXIT_IOIO)
		return exitinfo2 > rip && exitinfo2 - rip <= 15 ? (unsigned int)(exitinfo2 - rip) : 0;
	/* NRIPS writes nRIP for instruction intercepts; exceptions, NPF,
	 * interrupts and failed entries stop at no instruction to skip. */
	if ((exitcode >= VMEXIT_EXCP0 && exitcode < VMEXIT_INTR) || exitcode == VMEXIT_NPF ||
	    exitcode >= VMEXIT_INVALID_PMC || exitcode == VMEXIT_INTR || exitcode == VMEXIT_NMI ||
	    exitcode == VMEXIT_SHUTDOWN)
		return 0;
	if (nrips && nrip > rip && nrip - rip <= 15)
		return (unsigned int)(nrip - rip);
	if (exitcode == VMEXIT_VMMCALL)
		return 3;
	return 0;
}
