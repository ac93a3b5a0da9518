/* SPDX-License-Identifier: MIT */
/*
 * x86 architectural numbers both sides use: CPUID leaves and bits, MSRs,
 * control-register bits, and the guest-physical memory map of a run.
 * Names follow the Intel SDM and AMD APM.
 */
#ifndef NESTVMM_X86_H
#define NESTVMM_X86_H

/* CPUID leaves and the feature bits nestvmm looks at. */
#define CPUID_LEAF_VENDOR          0x00000000u
#define CPUID_LEAF_FEATURES        0x00000001u
#define CPUID_LEAF_HV_BASE         0x40000000u
#define CPUID_LEAF_HV_LAST         0x4fffffffu
#define CPUID_LEAF_EXT_MAX         0x80000000u
#define CPUID_LEAF_EXT_FEATURES    0x80000001u
#define CPUID_LEAF_SVM             0x8000000au

/*
 * The leaves L1 reports raw in l1.cpuid's details, subleaf 0, one line each:
 * "seen CPUID.<leaf hex>H.0 EAX=0x%08x EBX=0x%08x ECX=0x%08x EDX=0x%08x".
 * Every leaf a --cpu feature lives in must be here (tests/unit/test_cpuid.c).
 */
#define NVM_CPUID_SEEN_LEAVES { CPUID_LEAF_VENDOR, CPUID_LEAF_FEATURES, 0x7u,             \
				CPUID_LEAF_HV_BASE, CPUID_LEAF_EXT_FEATURES, CPUID_LEAF_SVM }

#define CPUID_1_ECX_VMX            (1u << 5)
#define CPUID_1_ECX_HYPERVISOR     (1u << 31)
#define CPUID_1_EBX_APIC_ID_SHIFT  24
#define CPUID_1_EDX_APIC           (1u << 9)    /* mirrors IA32_APIC_BASE.EN */
#define CPUID_80000001_ECX_SVM     (1u << 2)
#define CPUID_80000001_EDX_LM      (1u << 29)
#define CPUID_8000000A_EDX_NP      (1u << 0)
#define CPUID_8000000A_EDX_NRIPS   (1u << 3)

/* MSRs. */
#define MSR_IA32_APIC_BASE         0x0000001bu
#define APIC_BASE_EN               (1u << 11)   /* APIC global enable */
#define MSR_IA32_FEATURE_CONTROL   0x0000003au
#define MSR_IA32_VMX_BASIC         0x00000480u
#define MSR_EFER                   0xc0000080u
#define MSR_FS_BASE                0xc0000100u
#define MSR_VM_CR                  0xc0010114u
#define MSR_VM_HSAVE_PA            0xc0010117u

#define EFER_SCE                   (1u << 0)
#define EFER_LME                   (1u << 8)
#define EFER_LMA                   (1u << 10)
#define EFER_NXE                   (1u << 11)
#define EFER_SVME                  (1u << 12)

#define CR0_PE                     (1u << 0)
#define CR0_MP                     (1u << 1)
#define CR0_EM                     (1u << 2)
#define CR0_ET                     (1u << 4)
#define CR0_NE                     (1u << 5)
#define CR0_WP                     (1u << 16)
#define CR0_PG                     (1u << 31)
#define CR4_PAE                    (1u << 5)
#define CR4_OSFXSR                 (1u << 9)
#define CR4_VMXE                   (1u << 13)

#define RFLAGS_RESERVED_1          (1u << 1)
#define RFLAGS_IF                  (1u << 9)

/* Page-table entry bits (4-level paging). */
#define PTE_P                      (1ull << 0)
#define PTE_W                      (1ull << 1)
#define PTE_U                      (1ull << 2)
#define PTE_PS                     (1ull << 7)

/* Mnemonics of exception vectors 0-31: an initializer both sides use. */
#define X86_EXCEPTION_NAMES {                                                   \
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO",   \
	"#TS", "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM",   \
	"#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC",   \
	"#SX", "#31" }

/* Exception vectors the reports name. */
#define X86_VEC_UD                 6
#define X86_VEC_GP                 13
#define X86_VEC_PF                 14

/*
 * Guest-physical memory map of a run (identity mapped by the boot page
 * tables). Low pages hold what the VMM builds before the first instruction;
 * the L1 kernel is linked at NVM_KERNEL_BASE; L1 allocates from the end of
 * its image up to the end of RAM.
 */
#define NVM_BOOT_GDT               0x1000ull
#define NVM_BOOT_PML4              0x2000ull
#define NVM_BOOT_PDPT              0x3000ull
#define NVM_BOOT_PD                0x4000ull   /* 4 pages: 4 GiB of 2 MiB pages */
#define NVM_FDT_BASE               0x10000ull
#define NVM_FDT_MAX                0x10000ull
#define NVM_KERNEL_BASE            0x200000ull
#define NVM_MEM_MIN                (4ull << 20)
#define NVM_MEM_MAX                (4ull << 30)  /* what the boot tables map */

#endif
