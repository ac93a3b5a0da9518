/* SPDX-License-Identifier: MIT */
/*
 * What the VMX consistency-check and instruction tests (arch/intel/guest/
 * tests/l2_check_vmx_*.c, l2_insn_vmx_*.c) use on top of the nested API:
 * VMREAD/VMWRITE of the current VMCS after nested->vcpu_reset, the VMX
 * instructions with the RFLAGS they leave (SDM 31.2), and a table runner
 * for "change these fields, VMLAUNCH, expect this outcome" rows.
 */
#ifndef NESTVMM_VMX_CHECK_H
#define NESTVMM_VMX_CHECK_H

#include "l2.h"
#include "vmx_guest.h"

/* VMCS fields nestvmm's image does not write (SDM appendix B). */
#define VMCS_VIRTUAL_PROCESSOR_ID        0x0000u
#define VMCS_PREEMPTION_TIMER_VALUE      0x482eu

/* RFLAGS bits a VMX instruction sets or clears (31.2). */
#define RFLAGS_CF 0x001u
#define RFLAGS_PF 0x004u
#define RFLAGS_AF 0x010u
#define RFLAGS_ZF 0x040u
#define RFLAGS_SF 0x080u
#define RFLAGS_OF 0x800u
#define RFLAGS_VMX_STATUS (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

/* One VMX instruction's outcome: its status flags and, for VMfailValid, the error (31.4). */
struct vmx_insn {
	enum vmx_result result;   /* from CF/ZF, or VMX_FAULT */
	u64 rflags;               /* RFLAGS right after it (entered with all status flags set) */
	u64 error;                /* VM_INSTRUCTION_ERROR after VMfailValid, else 0 */
	u8 vector;                /* VMX_FAULT: the exception */
};

/* VMWRITE/VMREAD of the current VMCS; the first failing VMWRITE is kept for vmx_check_rows. */
enum vmx_result vmx_check_write(u32 field, u64 value);
u64 vmx_check_read(u32 field);
struct vmx_insn vmx_check_vmread(u32 field, u64 *value);
struct vmx_insn vmx_check_vmwrite(u32 field, u64 value);

/* Memory-operand VMX instructions on a physical address. */
struct vmx_insn vmx_check_vmclear(u64 pa);
struct vmx_insn vmx_check_vmptrld(u64 pa);
struct vmx_insn vmx_check_vmxon(u64 pa);
struct vmx_insn vmx_check_vmptrst(u64 *pa);
struct vmx_insn vmx_check_vmxoff(void);
struct vmx_insn vmx_check_invept(u64 type, u64 eptp);
struct vmx_insn vmx_check_invvpid(u64 type, u16 vpid);
/* VMLAUNCH (resume 0) / VMRESUME of the current VMCS through vmx_enter. */
struct vmx_insn vmx_check_launch(struct l2_vcpu *vcpu, bool resume);

/* "VMfailValid(11)", "VMsucceed", "#GP" ... into buf. */
const char *vmx_insn_describe(struct vmx_insn o, char *buf, size_t len);
/* NULL when o is the result expected (error for VMfailValid) with RFLAGS as 31.2 says, else why not. */
const char *vmx_insn_expect(struct vmx_insn o, enum vmx_result want, u64 error, char *buf, size_t len);

/* A sequence of instruction checks: every one runs, the first failure is the reason. */
struct vmx_steps {
	struct stage_result *r;
	unsigned int n, failed;
	char first[L1_REASON_MAX];
};
/* Check o against want (and err for VMfailValid); a mismatch goes into the details. */
void vmx_step(struct vmx_steps *s, const char *what, struct vmx_insn o, enum vmx_result want, u64 err);
/* Any other check of a sequence: ok false records why (printf-style). */
void vmx_step_check(struct vmx_steps *s, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* NVM_FAIL naming the first failed step, else NVM_PASS. */
enum nvm_status vmx_steps_end(struct vmx_steps *s);

/* CPUID.80000008H:EAX[7:0]: an address at 1 << this is beyond the physical-address width. */
unsigned int vmx_check_maxphyaddr(void);

/* What a table row expects of the VM entry. */
enum vmx_expect {
	EXPECT_VMFAIL,            /* VMfailValid with VM-instruction error `code` */
	EXPECT_ENTRY_FAIL,        /* VM exit with reason `code` | bit 31, qualification `qual` */
	EXPECT_DONE,              /* the entry succeeds and L2 runs to L2_HC_DONE */
	EXPECT_EXIT,              /* the entry succeeds, the first exit has basic reason `code` */
};

struct vmx_check_row {
	const char *what;         /* the rule, with its SDM section */
	/*
	 * Change the VMCS after vcpu_reset (vmx_check_write); NULL when the
	 * row applies, else why it does not on this L0 (the row is skipped and named).
	 */
	const char *(*apply)(struct l2_vcpu *vcpu);
	enum vmx_expect expect;
	u32 code;
	u64 qual;
	bool nested_paging;       /* the row needs an EPT to change */
};

/*
 * Run every row on a fresh L2 (its entry: l2_code), compare the outcome,
 * the VM-instruction error or exit reason and qualification, and L1's
 * RFLAGS after the VMLAUNCH (VMfailValid: ZF only, 31.2) or after the
 * failed entry's VM exit (28.5.3: only bit 1). NVM_PASS when every row
 * that applies behaved; the reason names the first that did not.
 */
enum nvm_status vmx_check_rows(const struct vmx_check_row *rows, unsigned int n,
			       void (*l2_code)(u64), struct stage_result *r);

#endif
