/* SPDX-License-Identifier: MIT */
/*
 * Intel VMX architectural numbers both sides compile (Intel SDM vol. 3C):
 * capability MSRs (appendix A), VMCS field encodings (appendix B), control
 * bits (chapter 25), exit reasons (appendix C), VM-instruction errors
 * (31.4), EPT (29.3). The functions at the end live in arch/intel/common/:
 * plain C the L1 kernel and the host library (unit tests) both build.
 */
#ifndef NESTVMM_VMX_H
#define NESTVMM_VMX_H

#include <stdbool.h>
#include <stdint.h>

#include "nestvmm/x86.h"   /* MSR_IA32_FEATURE_CONTROL, MSR_IA32_VMX_BASIC, CR and EFER bits */

/* --- capability MSRs (SDM A.1-A.10) ------------------------------------------ */
#define MSR_IA32_VMX_PINBASED_CTLS        0x481u
#define MSR_IA32_VMX_PROCBASED_CTLS       0x482u
#define MSR_IA32_VMX_EXIT_CTLS            0x483u
#define MSR_IA32_VMX_ENTRY_CTLS           0x484u
#define MSR_IA32_VMX_MISC                 0x485u
#define MSR_IA32_VMX_CR0_FIXED0           0x486u
#define MSR_IA32_VMX_CR0_FIXED1           0x487u
#define MSR_IA32_VMX_CR4_FIXED0           0x488u
#define MSR_IA32_VMX_CR4_FIXED1           0x489u
#define MSR_IA32_VMX_VMCS_ENUM            0x48au
#define MSR_IA32_VMX_PROCBASED_CTLS2      0x48bu
#define MSR_IA32_VMX_EPT_VPID_CAP         0x48cu
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS   0x48du
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS  0x48eu
#define MSR_IA32_VMX_TRUE_EXIT_CTLS       0x48fu
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS      0x490u

#define MSR_IA32_SYSENTER_CS              0x174u
#define MSR_IA32_SYSENTER_ESP             0x175u
#define MSR_IA32_SYSENTER_EIP             0x176u
#define MSR_IA32_PAT                      0x277u
#define MSR_GS_BASE                       0xc0000101u

/* IA32_FEATURE_CONTROL (SDM 24.7). */
#define FEATURE_CONTROL_LOCKED            (1u << 0)
#define FEATURE_CONTROL_VMXON_IN_SMX      (1u << 1)
#define FEATURE_CONTROL_VMXON_OUTSIDE_SMX (1u << 2)

/* IA32_VMX_BASIC (SDM A.1). */
#define VMX_BASIC_REVISION_MASK           0x7fffffffull
#define VMX_BASIC_VMCS_SIZE(b)            ((unsigned int)(((b) >> 32) & 0x1fff))
#define VMX_BASIC_PA_32BIT                (1ull << 48)
#define VMX_BASIC_MEM_TYPE(b)             ((unsigned int)(((b) >> 50) & 0xf))
#define VMX_BASIC_INOUT                   (1ull << 54)
#define VMX_BASIC_TRUE_CTLS               (1ull << 55)
#define VMX_MEMTYPE_UC                    0
#define VMX_MEMTYPE_WB                    6

/* IA32_VMX_MISC (SDM A.6). */
#define VMX_MISC_SAVE_EFER_LMA            (1ull << 5)
#define VMX_MISC_ACTIVITY_HLT             (1ull << 6)

/* IA32_VMX_EPT_VPID_CAP (SDM A.10). */
#define VMX_EPT_EXECUTE_ONLY              (1ull << 0)
#define VMX_EPT_PAGE_WALK_4               (1ull << 6)
#define VMX_EPT_PAGE_WALK_5               (1ull << 7)
#define VMX_EPT_MEMTYPE_UC                (1ull << 8)
#define VMX_EPT_MEMTYPE_WB                (1ull << 14)
#define VMX_EPT_2MB_PAGE                  (1ull << 16)
#define VMX_EPT_1GB_PAGE                  (1ull << 17)
#define VMX_EPT_INVEPT                    (1ull << 20)
#define VMX_EPT_AD                        (1ull << 21)
#define VMX_EPT_INVEPT_SINGLE_CONTEXT     (1ull << 25)
#define VMX_EPT_INVEPT_ALL_CONTEXT        (1ull << 26)
#define VMX_VPID_INVVPID                  (1ull << 32)

/* --- VMCS field encodings (SDM appendix B) ------------------------------------ *
 * Encoding bits: 0 access (1 = high half of a 64-bit field), 9:1 index,
 * 11:10 type (control, exit information, guest state, host state), 14:13 width.
 */
#define VMCS_ENC_HIGH(e)                  ((e) & 1u)
#define VMCS_ENC_TYPE(e)                  (((e) >> 10) & 3u)
#define VMCS_ENC_WIDTH(e)                 (((e) >> 13) & 3u)
enum vmcs_type  { VMCS_TYPE_CONTROL, VMCS_TYPE_EXIT_INFO, VMCS_TYPE_GUEST, VMCS_TYPE_HOST };
enum vmcs_width { VMCS_WIDTH_16, VMCS_WIDTH_64, VMCS_WIDTH_32, VMCS_WIDTH_NATURAL };

/*
 * X(name, encoding): every field nestvmm writes, reads or dumps. The table
 * in arch/intel/common/vmx_names.c and the enum below are built from it.
 */
#define VMCS_FIELDS(X)                                                        \
	/* 16-bit control, guest-state and host-state fields (B.1) */         \
	X(VIRTUAL_PROCESSOR_ID,          0x0000)                              \
	X(GUEST_ES_SELECTOR,             0x0800)                              \
	X(GUEST_CS_SELECTOR,             0x0802)                              \
	X(GUEST_SS_SELECTOR,             0x0804)                              \
	X(GUEST_DS_SELECTOR,             0x0806)                              \
	X(GUEST_FS_SELECTOR,             0x0808)                              \
	X(GUEST_GS_SELECTOR,             0x080a)                              \
	X(GUEST_LDTR_SELECTOR,           0x080c)                              \
	X(GUEST_TR_SELECTOR,             0x080e)                              \
	X(HOST_ES_SELECTOR,              0x0c00)                              \
	X(HOST_CS_SELECTOR,              0x0c02)                              \
	X(HOST_SS_SELECTOR,              0x0c04)                              \
	X(HOST_DS_SELECTOR,              0x0c06)                              \
	X(HOST_FS_SELECTOR,              0x0c08)                              \
	X(HOST_GS_SELECTOR,              0x0c0a)                              \
	X(HOST_TR_SELECTOR,              0x0c0c)                              \
	/* 64-bit fields (B.2) */                                             \
	X(IO_BITMAP_A,                   0x2000)                              \
	X(IO_BITMAP_B,                   0x2002)                              \
	X(MSR_BITMAP,                    0x2004)                              \
	X(VM_EXIT_MSR_STORE_ADDR,        0x2006)                              \
	X(VM_EXIT_MSR_LOAD_ADDR,         0x2008)                              \
	X(VM_ENTRY_MSR_LOAD_ADDR,        0x200a)                              \
	X(TSC_OFFSET,                    0x2010)                              \
	X(EPT_POINTER,                   0x201a)                              \
	X(GUEST_PHYSICAL_ADDRESS,        0x2400)                              \
	X(VMCS_LINK_POINTER,             0x2800)                              \
	X(GUEST_IA32_DEBUGCTL,           0x2802)                              \
	X(GUEST_IA32_PAT,                0x2804)                              \
	X(GUEST_IA32_EFER,               0x2806)                              \
	X(HOST_IA32_PAT,                 0x2c00)                              \
	X(HOST_IA32_EFER,                0x2c02)                              \
	/* 32-bit fields (B.3) */                                             \
	X(PIN_BASED_VM_EXEC_CONTROL,     0x4000)                              \
	X(CPU_BASED_VM_EXEC_CONTROL,     0x4002)                              \
	X(EXCEPTION_BITMAP,              0x4004)                              \
	X(PAGE_FAULT_ERROR_CODE_MASK,    0x4006)                              \
	X(PAGE_FAULT_ERROR_CODE_MATCH,   0x4008)                              \
	X(CR3_TARGET_COUNT,              0x400a)                              \
	X(VM_EXIT_CONTROLS,              0x400c)                              \
	X(VM_EXIT_MSR_STORE_COUNT,       0x400e)                              \
	X(VM_EXIT_MSR_LOAD_COUNT,        0x4010)                              \
	X(VM_ENTRY_CONTROLS,             0x4012)                              \
	X(VM_ENTRY_MSR_LOAD_COUNT,       0x4014)                              \
	X(VM_ENTRY_INTR_INFO_FIELD,      0x4016)                              \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x4018)                              \
	X(VM_ENTRY_INSTRUCTION_LEN,      0x401a)                              \
	X(TPR_THRESHOLD,                 0x401c)                              \
	X(SECONDARY_VM_EXEC_CONTROL,     0x401e)                              \
	X(VM_INSTRUCTION_ERROR,          0x4400)                              \
	X(VM_EXIT_REASON,                0x4402)                              \
	X(VM_EXIT_INTR_INFO,             0x4404)                              \
	X(VM_EXIT_INTR_ERROR_CODE,       0x4406)                              \
	X(IDT_VECTORING_INFO_FIELD,      0x4408)                              \
	X(IDT_VECTORING_ERROR_CODE,      0x440a)                              \
	X(VM_EXIT_INSTRUCTION_LEN,       0x440c)                              \
	X(VMX_INSTRUCTION_INFO,          0x440e)                              \
	X(GUEST_ES_LIMIT,                0x4800)                              \
	X(GUEST_CS_LIMIT,                0x4802)                              \
	X(GUEST_SS_LIMIT,                0x4804)                              \
	X(GUEST_DS_LIMIT,                0x4806)                              \
	X(GUEST_FS_LIMIT,                0x4808)                              \
	X(GUEST_GS_LIMIT,                0x480a)                              \
	X(GUEST_LDTR_LIMIT,              0x480c)                              \
	X(GUEST_TR_LIMIT,                0x480e)                              \
	X(GUEST_GDTR_LIMIT,              0x4810)                              \
	X(GUEST_IDTR_LIMIT,              0x4812)                              \
	X(GUEST_ES_AR_BYTES,             0x4814)                              \
	X(GUEST_CS_AR_BYTES,             0x4816)                              \
	X(GUEST_SS_AR_BYTES,             0x4818)                              \
	X(GUEST_DS_AR_BYTES,             0x481a)                              \
	X(GUEST_FS_AR_BYTES,             0x481c)                              \
	X(GUEST_GS_AR_BYTES,             0x481e)                              \
	X(GUEST_LDTR_AR_BYTES,           0x4820)                              \
	X(GUEST_TR_AR_BYTES,             0x4822)                              \
	X(GUEST_INTERRUPTIBILITY_INFO,   0x4824)                              \
	X(GUEST_ACTIVITY_STATE,          0x4826)                              \
	X(GUEST_SYSENTER_CS,             0x482a)                              \
	X(HOST_IA32_SYSENTER_CS,         0x4c00)                              \
	/* natural-width fields (B.4) */                                      \
	X(CR0_GUEST_HOST_MASK,           0x6000)                              \
	X(CR4_GUEST_HOST_MASK,           0x6002)                              \
	X(CR0_READ_SHADOW,               0x6004)                              \
	X(CR4_READ_SHADOW,               0x6006)                              \
	X(EXIT_QUALIFICATION,            0x6400)                              \
	X(GUEST_LINEAR_ADDRESS,          0x640a)                              \
	X(GUEST_CR0,                     0x6800)                              \
	X(GUEST_CR3,                     0x6802)                              \
	X(GUEST_CR4,                     0x6804)                              \
	X(GUEST_ES_BASE,                 0x6806)                              \
	X(GUEST_CS_BASE,                 0x6808)                              \
	X(GUEST_SS_BASE,                 0x680a)                              \
	X(GUEST_DS_BASE,                 0x680c)                              \
	X(GUEST_FS_BASE,                 0x680e)                              \
	X(GUEST_GS_BASE,                 0x6810)                              \
	X(GUEST_LDTR_BASE,               0x6812)                              \
	X(GUEST_TR_BASE,                 0x6814)                              \
	X(GUEST_GDTR_BASE,               0x6816)                              \
	X(GUEST_IDTR_BASE,               0x6818)                              \
	X(GUEST_DR7,                     0x681a)                              \
	X(GUEST_RSP,                     0x681c)                              \
	X(GUEST_RIP,                     0x681e)                              \
	X(GUEST_RFLAGS,                  0x6820)                              \
	X(GUEST_PENDING_DBG_EXCEPTIONS,  0x6822)                              \
	X(GUEST_SYSENTER_ESP,            0x6824)                              \
	X(GUEST_SYSENTER_EIP,            0x6826)                              \
	X(HOST_CR0,                      0x6c00)                              \
	X(HOST_CR3,                      0x6c02)                              \
	X(HOST_CR4,                      0x6c04)                              \
	X(HOST_FS_BASE,                  0x6c06)                              \
	X(HOST_GS_BASE,                  0x6c08)                              \
	X(HOST_TR_BASE,                  0x6c0a)                              \
	X(HOST_GDTR_BASE,                0x6c0c)                              \
	X(HOST_IDTR_BASE,                0x6c0e)                              \
	X(HOST_IA32_SYSENTER_ESP,        0x6c10)                              \
	X(HOST_IA32_SYSENTER_EIP,        0x6c12)                              \
	X(HOST_RSP,                      0x6c14)                              \
	X(HOST_RIP,                      0x6c16)

enum vmcs_field {
#define VMCS_FIELD_ENUM(name, enc) name = enc,
	VMCS_FIELDS(VMCS_FIELD_ENUM)
#undef VMCS_FIELD_ENUM
};

/* --- pin-based VM-execution controls (SDM 25.6.1) ------------------------------ */
#define PIN_BASED_EXT_INTR_EXITING        (1u << 0)
#define PIN_BASED_NMI_EXITING             (1u << 3)
#define PIN_BASED_VIRTUAL_NMIS            (1u << 5)
#define PIN_BASED_VMX_PREEMPTION_TIMER    (1u << 6)
#define PIN_BASED_POSTED_INTR             (1u << 7)

/* --- primary processor-based VM-execution controls (SDM 25.6.2) ------------- */
#define CPU_BASED_INTR_WINDOW_EXITING     (1u << 2)
#define CPU_BASED_USE_TSC_OFFSETTING      (1u << 3)
#define CPU_BASED_HLT_EXITING             (1u << 7)
#define CPU_BASED_INVLPG_EXITING          (1u << 9)
#define CPU_BASED_MWAIT_EXITING           (1u << 10)
#define CPU_BASED_RDPMC_EXITING           (1u << 11)
#define CPU_BASED_RDTSC_EXITING           (1u << 12)
#define CPU_BASED_CR3_LOAD_EXITING        (1u << 15)
#define CPU_BASED_CR3_STORE_EXITING       (1u << 16)
#define CPU_BASED_CR8_LOAD_EXITING        (1u << 19)
#define CPU_BASED_CR8_STORE_EXITING       (1u << 20)
#define CPU_BASED_TPR_SHADOW              (1u << 21)
#define CPU_BASED_NMI_WINDOW_EXITING      (1u << 22)
#define CPU_BASED_MOV_DR_EXITING          (1u << 23)
#define CPU_BASED_UNCOND_IO_EXITING       (1u << 24)
#define CPU_BASED_USE_IO_BITMAPS          (1u << 25)
#define CPU_BASED_MONITOR_TRAP_FLAG       (1u << 27)
#define CPU_BASED_USE_MSR_BITMAPS         (1u << 28)
#define CPU_BASED_MONITOR_EXITING         (1u << 29)
#define CPU_BASED_PAUSE_EXITING           (1u << 30)
#define CPU_BASED_ACTIVATE_SECONDARY_CONTROLS (1u << 31)

/* --- secondary processor-based VM-execution controls (SDM 25.6.2) ----------- */
#define SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES (1u << 0)
#define SECONDARY_EXEC_ENABLE_EPT         (1u << 1)
#define SECONDARY_EXEC_DESC_TABLE_EXITING (1u << 2)
#define SECONDARY_EXEC_ENABLE_RDTSCP      (1u << 3)
#define SECONDARY_EXEC_ENABLE_VPID        (1u << 5)
#define SECONDARY_EXEC_WBINVD_EXITING     (1u << 6)
#define SECONDARY_EXEC_UNRESTRICTED_GUEST (1u << 7)
#define SECONDARY_EXEC_ENABLE_INVPCID     (1u << 12)
#define SECONDARY_EXEC_SHADOW_VMCS        (1u << 14)
#define SECONDARY_EXEC_ENABLE_XSAVES      (1u << 20)

/* --- VM-exit controls (SDM 25.7.1) -------------------------------------------- */
#define VM_EXIT_SAVE_DEBUG_CONTROLS       (1u << 2)
#define VM_EXIT_HOST_ADDR_SPACE_SIZE      (1u << 9)
#define VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL (1u << 12)
#define VM_EXIT_ACK_INTR_ON_EXIT          (1u << 15)
#define VM_EXIT_SAVE_IA32_PAT             (1u << 18)
#define VM_EXIT_LOAD_IA32_PAT             (1u << 19)
#define VM_EXIT_SAVE_IA32_EFER            (1u << 20)
#define VM_EXIT_LOAD_IA32_EFER            (1u << 21)
#define VM_EXIT_SAVE_VMX_PREEMPTION_TIMER (1u << 22)

/* --- VM-entry controls (SDM 25.8.1) ------------------------------------------- */
#define VM_ENTRY_LOAD_DEBUG_CONTROLS      (1u << 2)
#define VM_ENTRY_IA32E_MODE               (1u << 9)
#define VM_ENTRY_SMM                      (1u << 10)
#define VM_ENTRY_DEACT_DUAL_MONITOR       (1u << 11)
#define VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL (1u << 13)
#define VM_ENTRY_LOAD_IA32_PAT            (1u << 14)
#define VM_ENTRY_LOAD_IA32_EFER           (1u << 15)

/* --- guest state (SDM 25.4) ----------------------------------------------------- */
/* Segment access rights: the descriptor's type..G bits, bit 16 "unusable". */
#define VMX_AR_TYPE(t)                    ((t) & 0xfu)
#define VMX_AR_S                          (1u << 4)
#define VMX_AR_DPL(d)                     (((d) & 3u) << 5)
#define VMX_AR_P                          (1u << 7)
#define VMX_AR_L                          (1u << 13)
#define VMX_AR_DB                         (1u << 14)
#define VMX_AR_G                          (1u << 15)
#define VMX_AR_UNUSABLE                   (1u << 16)
#define VMX_AR_TYPE_CODE_XRA              0xbu     /* execute/read, accessed */
#define VMX_AR_TYPE_DATA_RWA              0x3u     /* read/write, accessed */
#define VMX_AR_TYPE_TSS64_BUSY            0xbu
#define VMX_AR_TYPE_LDT                   0x2u
#define GUEST_ACTIVITY_ACTIVE             0
#define GUEST_ACTIVITY_HLT                1
#define VMCS_LINK_POINTER_NONE            (~0ull)

/* --- exit reasons (SDM 25.9.1, appendix C) ------------------------------------ */
#define VMX_EXIT_REASON_BASIC(r)          ((r) & 0xffffu)
#define VMX_EXIT_REASON_ENCLAVE           (1u << 27)
#define VMX_EXIT_REASON_PENDING_MTF       (1u << 28)
#define VMX_EXIT_REASON_FROM_ROOT         (1u << 29)
#define VMX_EXIT_REASON_ENTRY_FAILURE     (1u << 31)

#define EXIT_REASON_EXCEPTION_NMI         0
#define EXIT_REASON_EXTERNAL_INTERRUPT    1
#define EXIT_REASON_TRIPLE_FAULT          2
#define EXIT_REASON_CPUID                 10
#define EXIT_REASON_HLT                   12
#define EXIT_REASON_INTERRUPT_WINDOW      7
#define EXIT_REASON_NMI_WINDOW            8
#define EXIT_REASON_VMCALL                18
#define EXIT_REASON_CR_ACCESS             28
#define EXIT_REASON_IO_INSTRUCTION        30
#define EXIT_REASON_MSR_READ              31
#define EXIT_REASON_MSR_WRITE             32
#define EXIT_REASON_INVALID_STATE         33
#define EXIT_REASON_MSR_LOAD_FAIL         34
#define EXIT_REASON_MCE_DURING_VMENTRY    41
#define EXIT_REASON_EPT_VIOLATION         48
#define EXIT_REASON_EPT_MISCONFIG         49
#define EXIT_REASON_PREEMPTION_TIMER      52
#define EXIT_REASON_MAX                   77

/* Exit qualification of an EPT violation (SDM 28.3.3.2, table 28-7). */
#define EPT_VIOLATION_READ                (1ull << 0)
#define EPT_VIOLATION_WRITE               (1ull << 1)
#define EPT_VIOLATION_FETCH               (1ull << 2)
#define EPT_VIOLATION_READABLE            (1ull << 3)
#define EPT_VIOLATION_WRITABLE            (1ull << 4)
#define EPT_VIOLATION_EXECUTABLE          (1ull << 5)
#define EPT_VIOLATION_GLA_VALID           (1ull << 7)
#define EPT_VIOLATION_GLA_TRANSLATED      (1ull << 8)

/* --- VM-instruction error numbers (SDM 31.4, table 31-1) --------------------- */
#define VMXERR_VMCALL_IN_VMX_ROOT         1
#define VMXERR_VMCLEAR_INVALID_ADDRESS    2
#define VMXERR_VMCLEAR_VMXON_POINTER      3
#define VMXERR_VMLAUNCH_NONCLEAR_VMCS     4
#define VMXERR_VMRESUME_NONLAUNCHED_VMCS  5
#define VMXERR_VMRESUME_AFTER_VMXOFF      6
#define VMXERR_ENTRY_INVALID_CONTROL      7
#define VMXERR_ENTRY_INVALID_HOST_STATE   8
#define VMXERR_VMPTRLD_INVALID_ADDRESS    9
#define VMXERR_VMPTRLD_VMXON_POINTER      10
#define VMXERR_VMPTRLD_INCORRECT_REVISION 11
#define VMXERR_UNSUPPORTED_VMCS_COMPONENT 12
#define VMXERR_VMWRITE_READ_ONLY          13
#define VMXERR_VMXON_IN_VMX_ROOT          15
#define VMXERR_ENTRY_EVENTS_BLOCKED_MOV_SS 26
#define VMXERR_INVALID_INVEPT_INVVPID     28
#define VMXERR_MAX                        28

/* --- EPT (SDM 29.3) ------------------------------------------------------------- */
#define EPT_READ                          (1ull << 0)
#define EPT_WRITE                         (1ull << 1)
#define EPT_EXEC                          (1ull << 2)
#define EPT_RWX                           (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_WB                    (6ull << 3)   /* leaf entries */
#define EPT_LARGE_PAGE                    (1ull << 7)
#define EPTP_MEMTYPE_WB                   6ull
#define EPTP_PAGE_WALK_4                  (3ull << 3)   /* page-walk length - 1 */
#define EPT_IGNORE_PAT                    (1ull << 6)
#define EPT_SUPPRESS_VE                   (1ull << 63)
#define EPT_ADDR_MASK                     0x000ffffffffff000ull
#define INVEPT_SINGLE_CONTEXT             1ull
#define INVEPT_ALL_CONTEXT                2ull

/* --- arch/intel/common: control derivation (SDM A.3-A.5, 32.5.1) ----------------- */
enum vmx_ctl {
	VMX_CTL_PIN, VMX_CTL_PROC, VMX_CTL_PROC2, VMX_CTL_EXIT, VMX_CTL_ENTRY, VMX_CTL_COUNT
};

/* The VMCS field a control lives in, and the MSR that says what it may hold. */
uint32_t vmx_ctl_field(enum vmx_ctl ctl);
const char *vmx_ctl_name(enum vmx_ctl ctl);
/* TRUE_ MSR when IA32_VMX_BASIC[55] says the CPU has them (not for PROC2). */
uint32_t vmx_ctl_cap_msr(enum vmx_ctl ctl, uint64_t vmx_basic);

/*
 * Derive a control value from its capability MSR: the allowed-0 settings
 * (low 32 bits, bits that must be 1) are forced on, and of the bits asked
 * for, those the allowed-1 settings (high 32 bits) permit are set.
 * "required" bits the CPU does not allow are returned in *refused (and the
 * function returns false); "optional" bits it does not allow are dropped.
 */
bool vmx_ctl_derive(uint64_t cap, uint32_t required, uint32_t optional,
		    uint32_t *value, uint32_t *refused);
/* What an L2 asks of the controls (vmx_l2_controls' wants). */
#define VMX_L2_WANT_EPT                   (1u << 0)   /* enable EPT (nested paging) */
#define VMX_L2_WANT_IO_EXITING            (1u << 1)   /* every IN/OUT exits */
/*
 * All five controls for nestvmm's L2 (what vmx_vmcs_image puts in the
 * VMCS), from the capability MSRs in cap[] (the TRUE_ ones where they
 * exist) and VMX_L2_WANT_* bits. PROC2 is 0 unless PROC activates it. On
 * false, *bad and *refused name what the CPU does not allow.
 */
bool vmx_l2_controls(const uint64_t cap[VMX_CTL_COUNT], uint32_t wants,
		     uint32_t value[VMX_CTL_COUNT], enum vmx_ctl *bad, uint32_t *refused);
/* Does the capability MSR allow this control bit to be 1? */
static inline bool vmx_ctl_allows(uint64_t cap, uint32_t bits)
{
	return ((cap >> 32) & bits) == bits;
}
/* Name of one control bit ("enable EPT"), or NULL if nestvmm does not know it. */
const char *vmx_ctl_bit_name(enum vmx_ctl ctl, unsigned int bit);

/* CR0/CR4 in VMX operation: bits fixed to 1 set, bits fixed to 0 cleared (A.7, A.8). */
static inline uint64_t vmx_cr_fixed(uint64_t cr, uint64_t fixed0, uint64_t fixed1)
{
	return (cr | fixed0) & fixed1;
}

/* Why the CPU offers no usable EPT for a 4-level WB identity map, or NULL. */
const char *vmx_ept_unusable(uint64_t proc_cap, uint64_t proc2_cap, uint64_t ept_vpid_cap);

/* --- interruption information (SDM 25.8.3 VM-entry, 25.9.2 VM-exit) ------------ */
#define INTR_INFO_VECTOR(i)               ((i) & 0xffu)
#define INTR_INFO_TYPE(i)                 (((i) >> 8) & 7u)
#define INTR_INFO_DELIVER_CODE            (1u << 11)
#define INTR_INFO_VALID                   (1u << 31)
#define INTR_TYPE_EXT_INTR                0u
#define INTR_TYPE_NMI                     2u
#define INTR_TYPE_HARD_EXCEPTION          3u
#define INTR_TYPE_SOFT_INTR               4u
#define INTR_TYPE_PRIV_SOFT_EXCEPTION     5u
#define INTR_TYPE_SOFT_EXCEPTION          6u
#define VMX_MISC_ZERO_LEN_INJECTION       (1ull << 30)   /* IA32_VMX_MISC[30] */

/* --- arch/intel/common: the VMCS for one L2 (vmx_vmcs.c) --------------------------- */

/* One segment as the VMCS holds it (25.4.1): access rights in VMX layout. */
struct vmx_seg { uint16_t selector; uint64_t base; uint32_t limit, ar; };
/*
 * A GDT entry as the guest-state segment fields describe it: access byte in
 * AR 7:0, flags (AVL, L, D/B, G) in AR 15:12, limit scaled by G, 16-byte
 * system descriptors' base 63:32; code and data segments marked accessed
 * (loading them would). Null, LDT (TI=1) or out-of-limit: unusable (AR 16).
 */
struct vmx_seg vmx_seg_from_gdt(const uint64_t *gdt, uint16_t gdt_limit, uint16_t sel);

/*
 * Everything the VMCS for one L2 is derived from: the CPU's capabilities,
 * the test's configuration, L1 as it runs now (host state; L2 shares its
 * GDT and page tables) and where L2 starts. L1 fills it from its live
 * registers; the unit tests fill it with fixtures.
 */
struct vmx_l2_setup {
	const uint64_t *cap;                  /* [VMX_CTL_COUNT]: capability MSR per control */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	bool nested_paging, io_passthrough;   /* struct l2_cfg */
	uint32_t intercept_exceptions;        /* exception bitmap: vectors that exit */
	uint64_t eptp;                        /* with nested_paging */
	uint64_t cr0, cr3, cr4, efer;         /* L1's */
	uint64_t fs_base, gs_base;            /* IA32_FS_BASE / IA32_GS_BASE of L1 */
	const uint64_t *gdt;                  /* L1's GDT, readable here */
	uint64_t gdtr_base, idtr_base;        /* L1's GDTR and IDTR bases (its addresses) */
	uint16_t gdtr_limit;
	uint16_t cs, ds, tr;                  /* L1's code, data and TSS selectors */
	uint64_t host_rip;                    /* where VM exits land in L1 */
	uint64_t rip, rsp, rflags;            /* L2's first instruction, stack, flags */
	uint64_t l2_idtr_base;                /* L2's own IDT */
	uint16_t l2_idtr_limit;
};

#define VMCS_IMAGE_MAX 96
/* The (field, value) pairs L1 VMWRITEs, in order, and the controls among them. */
struct vmcs_image {
	unsigned int n;
	struct vmcs_pair { uint32_t field; uint64_t value; } f[VMCS_IMAGE_MAX];
	uint32_t ctl[VMX_CTL_COUNT];
	enum vmx_ctl bad;                     /* on false: the control that refused ... */
	uint32_t refused;                     /* ... these bits */
};
/*
 * The complete VMCS for one L2 (25.4-25.8): controls from the capability
 * MSRs, host state = L1 now, guest state = 64-bit L2 on L1's GDT and CR3
 * with its own IDT and stack. Fields the controls make absent (secondary
 * controls, IA32_EFER, EPTP) are left out. HOST_RSP is not in it: the
 * world switch writes it from the stack it runs on. false: a control the
 * test needs is refused (img->bad, img->refused).
 */
bool vmx_vmcs_image(const struct vmx_l2_setup *s, struct vmcs_image *img);
/* The value of a field in the image; false if it is not there. */
bool vmcs_image_get(const struct vmcs_image *img, uint32_t field, uint64_t *value);

/* --- arch/intel/common: EPT entries and exits (vmx_vmcs.c) --------------------------- */

/* A 4 KiB EPT leaf (29.3.2): read+execute, +write, WB memory type; 0 = not present. */
uint64_t vmx_ept_pte(uint64_t hpa, bool present, bool writable);
/* The 512 4 KiB entries that map what the 2 MiB leaf pde maps, with its permissions and type. */
void vmx_ept_split(uint64_t pde, uint64_t pt[512]);
/* EPTP for a 4-level walk of the tables at pml4_pa in WB memory (25.6.11). */
uint64_t vmx_eptp(uint64_t pml4_pa);
/* An EPT violation's qualification (table 28-7): the GPA was mapped; the access wrote / fetched. */
struct vmx_ept_access { bool present, write, fetch; };
struct vmx_ept_access vmx_ept_violation_decode(uint64_t qualification);
/* VM-entry interruption-information field (25.8.3) for an event of INTR_TYPE_* type. */
uint32_t vmx_entry_intr_info(uint8_t vector, unsigned int type, bool deliver_error_code);
/* Is the VM-exit instruction length field valid for this exit (28.2.4)? */
bool vmx_exit_has_insn_len(uint32_t reason, uint32_t exit_intr_info);
/* NVM_REQ() bits (nestvmm/features.h) the capability MSRs offer; cap[] as for vmx_l2_controls. */
uint32_t vmx_features(const uint64_t cap[VMX_CTL_COUNT], uint64_t ept_vpid_cap);

/* --- arch/intel/common: names ---------------------------------------------------- */
const char *vmcs_field_name(uint32_t encoding);      /* NULL if unknown */
unsigned int vmcs_field_count(void);
uint32_t vmcs_field_at(unsigned int i);               /* i-th field of the table */
const char *vmx_exit_reason_name(uint32_t basic);     /* "VMCALL"; NULL if unknown */
const char *vmx_instruction_error_name(uint32_t err); /* "VM entry with invalid control field(s)" */

/*
 * An exit reason as one line: "VMCALL (18)", or for a failed VM entry
 * (bit 31) "VM-entry failure: invalid guest state (33)". Writes at most
 * size bytes (NUL included) and returns buf.
 */
char *vmx_exit_reason_describe(uint32_t reason, char *buf, unsigned int size);

#endif
