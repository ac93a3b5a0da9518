/* SPDX-License-Identifier: MIT */
/*
 * What the tests of SVM itself (arch/amd/guest/tests/l2_check_svm_*.c,
 * l2_insn_svm_*.c) need beyond the nested API: L1's registers around the
 * last VMRUN, L1's own state to compare after a failed entry, SVM
 * instructions run with an exception fixup, and the physical-address width.
 */
#ifndef NESTVMM_SVM_CHECK_H
#define NESTVMM_SVM_CHECK_H

#include "l2.h"
#include "svm_guest.h"
#include "nestvmm/svm.h"

/*
 * Written by svm_vmrun (svm_entry.S) on every VMRUN: L1's RSP and RFLAGS
 * at the instruction, and RAX, RSP, RFLAGS as #VMEXIT left them (APM
 * 15.6: #VMEXIT reloads RAX, RSP, RIP and RFLAGS from the host save area,
 * which VMRUN filled, so a failed VMRUN must leave them as they were).
 */
struct svm_vmrun_regs {
	u64 rax, rsp, rflags;            /* after #VMEXIT */
	u64 rsp_before, rflags_before;   /* at VMRUN */
};
extern struct svm_vmrun_regs svm_vmrun_regs;

/* L1's control registers and EFER: #VMEXIT restores them from the host save area. */
struct svm_l1_state { u64 cr0, cr3, cr4, efer; };
void svm_l1_state_read(struct svm_l1_state *s);
/* NULL if equal, else a static name of the first field that differs ("CR0" ...). */
const char *svm_l1_state_diff(const struct svm_l1_state *a, const struct svm_l1_state *b,
			      u64 *was, u64 *now);

/* CPUID 8000_0008h:EAX[7:0], the physical-address width L1 has. */
u32 svm_maxphyaddr(void);

/* The SVM instructions whose faults the tests check (APM vol. 3). */
enum svm_insn { SVM_INSN_VMRUN, SVM_INSN_VMLOAD, SVM_INSN_VMSAVE, SVM_INSN_STGI, SVM_INSN_CLGI,
		SVM_INSN_INVLPGA, SVM_INSN_COUNT };
const char *svm_insn_name(enum svm_insn i);
/* Run one with RAX = rax (RCX = 1 for INVLPGA's ASID) and an exception fixup. */
struct fault svm_insn_safe(enum svm_insn i, u64 rax);

/* L2 code that needs no stack or registers: VMMCALL, then spins (for
 * VMCBs that a broken L0 might run by mistake). */
extern const char svm_check_l2_vmmcall[];

#endif
