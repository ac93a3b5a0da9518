// SPDX-License-Identifier: MIT
/*
 * Helpers for the tests of SVM itself (svm_check.h): VMRUN consistency
 * checks (APM vol. 2, 15.5.1) and the SVM instructions' own semantics
 * (15.4, 15.5, 15.17, APM vol. 3 VMRUN/VMLOAD/VMSAVE/STGI/CLGI/INVLPGA).
 */
#include "svm_check.h"

struct svm_vmrun_regs svm_vmrun_regs;

_Static_assert(__builtin_offsetof(struct svm_vmrun_regs, rax) == 0, "SVM_VR_RAX in svm_entry.S");
_Static_assert(__builtin_offsetof(struct svm_vmrun_regs, rsp) == 8, "SVM_VR_RSP");
_Static_assert(__builtin_offsetof(struct svm_vmrun_regs, rflags) == 16, "SVM_VR_RFLAGS");
_Static_assert(__builtin_offsetof(struct svm_vmrun_regs, rsp_before) == 24, "SVM_VR_RSP_BEFORE");
_Static_assert(__builtin_offsetof(struct svm_vmrun_regs, rflags_before) == 32, "SVM_VR_RFLAGS_BEFORE");

/* VMMCALL (0F 01 D9), then spin: the VMMCALL intercept brings L1 back. */
__asm__(".text\n"
	".global svm_check_l2_vmmcall\n"
	"svm_check_l2_vmmcall:\n\t"
	"vmmcall\n"
	"1:\tpause\n\t"
	"jmp 1b\n");

void svm_l1_state_read(struct svm_l1_state *s)
{
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->efer = rdmsr(MSR_EFER);
}

const char *svm_l1_state_diff(const struct svm_l1_state *a, const struct svm_l1_state *b,
			      u64 *was, u64 *now)
{
	static const char *const names[] = { "CR0", "CR3", "CR4", "EFER" };
	const u64 *x = &a->cr0, *y = &b->cr0;

	for (unsigned int i = 0; i < 4; i++)
		if (x[i] != y[i]) {
			*was = x[i];
			*now = y[i];
			return names[i];
		}
	return NULL;
}

u32 svm_maxphyaddr(void)
{
	u32 c[4];

	cpuid(0x80000000u, 0, c);
	if (c[0] < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, c);
	return c[0] & 0xff;
}

const char *svm_insn_name(enum svm_insn i)
{
	static const char *const names[] = { "VMRUN", "VMLOAD", "VMSAVE", "STGI", "CLGI", "INVLPGA" };

	return (unsigned int)i < SVM_INSN_COUNT ? names[i] : "?";
}

/*
 * One instruction each, so the fixup knows where to resume. VMRUN keeps
 * L1's callee-saved registers: a broken L0 that runs the VMCB anyway
 * returns here through #VMEXIT with L2's values in them.
 */
struct fault svm_insn_safe(enum svm_insn i, u64 rax)
{
	FAULT_REGS;

	if (i == SVM_INSN_VMRUN) {
		__asm__ volatile(ASM_SAFE("vmrun %%rax") : FAULT_OUTPUTS : "a"(rax)
				 : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r12", "r13", "r14",
				   "r15", "memory");
	} else if (i == SVM_INSN_VMLOAD) {
		__asm__ volatile(ASM_SAFE("vmload %%rax") : FAULT_OUTPUTS : "a"(rax) : "memory");
	} else if (i == SVM_INSN_VMSAVE) {
		__asm__ volatile(ASM_SAFE("vmsave %%rax") : FAULT_OUTPUTS : "a"(rax) : "memory");
	} else if (i == SVM_INSN_STGI) {
		__asm__ volatile(ASM_SAFE("stgi") : FAULT_OUTPUTS :: "memory");
	} else if (i == SVM_INSN_CLGI) {
		__asm__ volatile(ASM_SAFE("clgi") : FAULT_OUTPUTS :: "memory");
	} else {
		__asm__ volatile(ASM_SAFE("invlpga %%rax, %%ecx") : FAULT_OUTPUTS : "a"(rax), "c"(1)
				 : "memory");
	}
	return FAULT_RESULT;
}
