/* SPDX-License-Identifier: MIT */
/* State shared by the files of the Intel L1 side. */
#ifndef NESTVMM_VMX_GUEST_H
#define NESTVMM_VMX_GUEST_H

#include "l1.h"
#include "nestvmm/vmx.h"

/* What l1.enable read from the capability MSRs (0: the MSR does not exist). */
struct vmx_caps {
	u64 basic;                       /* IA32_VMX_BASIC */
	u64 ctl[VMX_CTL_COUNT];          /* per control: TRUE_ MSR when BASIC[55] */
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid_cap;
	u32 revision;                    /* IA32_VMX_BASIC[30:0] */
	void *vmxon_region;
};
extern struct vmx_caps vmx_caps;

/* VMX instructions report failure in RFLAGS (SDM 31.2): CF = VMfailInvalid, ZF = VMfailValid. */
enum vmx_result { VMX_OK, VMX_FAIL_INVALID, VMX_FAIL_VALID, VMX_FAULT };
struct vmx_outcome { enum vmx_result result; struct fault fault; };
const char *vmx_result_name(enum vmx_result res);

struct vmx_outcome vmxon_safe(u64 region_gpa);
/* NVM_REQ() bits for what the capability MSRs offer (vmx_nested.c). */
u32 vmx_nested_features(const struct vmx_caps *c);

/*
 * L2's general-purpose registers (all but RSP, which is in the VMCS):
 * vmx_enter (vmx_entry.S) loads them before VM entry and saves them at
 * VM exit. The offsets are used by the assembly: keep the order.
 */
struct vmx_gprs {
	u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};

/*
 * VMLAUNCH (resume false) or VMRESUME L2 with these registers. Returns
 * VMX_OK after a VM exit (the registers hold L2's), else how the
 * instruction failed (VMX_FAIL_INVALID / VMX_FAIL_VALID).
 */
enum vmx_result vmx_enter(struct vmx_gprs *regs, u64 resume);
extern u64 vmx_host_rsp;        /* HOST_RSP last written by vmx_enter; 0 forces a write */
extern const char vmx_exit_host_rip[];

/* The L2 stub (vmx_entry.S): stores RSI at [RDI], sets RAX = L2_STUB_MAGIC, VMCALL, again. */
extern const char l2_stub[], l2_stub_store[], l2_stub_vmcall[];
#define L2_STUB_MAGIC 0x4c32u   /* "L2" */

#endif
