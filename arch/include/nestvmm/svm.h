/* SPDX-License-Identifier: MIT */
/*
 * AMD SVM: the VMCB (Virtual Machine Control Block) layout, intercept bits
 * and #VMEXIT codes, named after the AMD APM vol. 2: chapter 15, appendix B
 * "Layout of VMCB" and appendix C "SVM Intercept Exit Codes".
 *
 * Plain C, no L1 or host types: arch/amd/common builds it into both, and the
 * unit tests check the offsets against the APM's tables.
 */
#ifndef NESTVMM_SVM_H
#define NESTVMM_SVM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- control area (APM table B-1), offsets from the start of the VMCB ---- */

/* Intercept vector 3 (offset 00Ch), "misc 1". */
#define SVM_INTERCEPT_INTR          (1u << 0)
#define SVM_INTERCEPT_NMI           (1u << 1)
#define SVM_INTERCEPT_CPUID         (1u << 18)
#define SVM_INTERCEPT_HLT           (1u << 24)
#define SVM_INTERCEPT_IOIO_PROT     (1u << 27)
#define SVM_INTERCEPT_MSR_PROT      (1u << 28)
#define SVM_INTERCEPT_SHUTDOWN      (1u << 31)
/* Intercept vector 4 (offset 010h), "misc 2". */
#define SVM_INTERCEPT_VMRUN         (1u << 0)
#define SVM_INTERCEPT_VMMCALL       (1u << 1)
#define SVM_INTERCEPT_VMLOAD        (1u << 2)
#define SVM_INTERCEPT_VMSAVE        (1u << 3)

/* TLB_CONTROL (offset 05Ch). 3 and 7 need CPUID 8000000Ah EDX.FlushByAsid. */
#define SVM_TLB_CONTROL_DO_NOTHING  0
#define SVM_TLB_CONTROL_FLUSH_ALL   1   /* every ASID's entries, the host's too */
#define SVM_TLB_CONTROL_FLUSH_ASID  3   /* only this guest's ASID */

/* CPUID 8000000Ah EDX: optional SVM features (APM 15.4, table "SVM Feature
 * Identification"). NP (bit 0) and NRIPS (bit 3) are in nestvmm/x86.h. */
#define SVM_CPUID_EDX_FLUSH_BY_ASID (1u << 6)
#define SVM_CPUID_EDX_DECODE_ASSISTS (1u << 7)
#define SVM_CPUID_EDX_VGIF          (1u << 16)

/* EVENTINJ (offset 0A8h, APM 15.20 "Event Injection"): vector [7:0],
 * type [10:8], error code valid [11], valid [31], error code [63:32]. */
#define SVM_EVTINJ_TYPE_SHIFT       8
#define SVM_EVTINJ_TYPE_INTR        0u   /* external or virtual interrupt */
#define SVM_EVTINJ_TYPE_NMI         2u
#define SVM_EVTINJ_TYPE_EXCEPTION   3u
#define SVM_EVTINJ_TYPE_SOFT_INT    4u   /* INTn */
#define SVM_EVTINJ_EV               (1ull << 11)
#define SVM_EVTINJ_VALID            (1ull << 31)

/* Offset 090h. */
#define SVM_NP_ENABLE               (1ull << 0)

/* EXITINFO1 of VMEXIT_NPF (APM 15.25.6): a #PF-style error code, plus
 * where in the nested walk the fault happened. */
#define SVM_NPF_P                   (1ull << 0)   /* page was present */
#define SVM_NPF_RW                  (1ull << 1)   /* write access */
#define SVM_NPF_US                  (1ull << 2)   /* user access (always, for nested walks) */
#define SVM_NPF_ID                  (1ull << 4)   /* instruction fetch */
#define SVM_NPF_GUEST_FINAL         (1ull << 32)  /* translating the final guest physical address */
#define SVM_NPF_GUEST_TABLES        (1ull << 33)  /* translating a guest page-table access */

/* EXITINFO1 of VMEXIT_IOIO (APM 15.10.2): TYPE [0] is 1 for IN. */
#define SVM_IOIO_TYPE_IN            (1ull << 0)
#define SVM_IOIO_PORT_SHIFT         16

/* IOPM is 12 KiB, MSRPM 8 KiB (APM 15.10.1, 15.11). */
#define SVM_IOPM_SIZE               (3 * 4096)
#define SVM_MSRPM_SIZE              (2 * 4096)

/* Not in nestvmm/x86.h: only the VMCB's G_PAT needs it. */
#define SVM_MSR_IA32_PAT            0x00000277u
#define SVM_PAT_DEFAULT             0x0007040600070406ull  /* power-on value */

struct vmcb_control_area {
	uint32_t intercept_cr;          /* 000h: CR0-15 reads [15:0], writes [31:16] */
	uint32_t intercept_dr;          /* 004h: DR0-15 reads [15:0], writes [31:16] */
	uint32_t intercept_exceptions;  /* 008h: bit n intercepts exception vector n */
	uint32_t intercept_misc1;       /* 00Ch: INTR ... SHUTDOWN */
	uint32_t intercept_misc2;       /* 010h: VMRUN, VMMCALL ... */
	uint32_t intercept_misc3;       /* 014h: INVLPGB ... */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold; /* 03Ch */
	uint16_t pause_filter_count;    /* 03Eh */
	uint64_t iopm_base_pa;          /* 040h */
	uint64_t msrpm_base_pa;         /* 048h */
	uint64_t tsc_offset;            /* 050h */
	uint32_t guest_asid;            /* 058h */
	uint8_t tlb_control;            /* 05Ch */
	uint8_t reserved_05d[3];
	uint64_t vintr;                 /* 060h: V_TPR, V_IRQ, V_INTR_MASKING, ... */
	uint64_t interrupt_shadow;      /* 068h */
	uint64_t exitcode;              /* 070h */
	uint64_t exitinfo1;             /* 078h */
	uint64_t exitinfo2;             /* 080h */
	uint64_t exitintinfo;           /* 088h */
	uint64_t np_enable;             /* 090h: NP_ENABLE [0], SEV [1], SEV-ES [2] */
	uint64_t avic_apic_bar;         /* 098h */
	uint64_t ghcb_pa;               /* 0A0h */
	uint64_t eventinj;              /* 0A8h */
	uint64_t n_cr3;                 /* 0B0h: nested page table root */
	uint64_t lbr_virtualization;    /* 0B8h: LBR virt [0], VMLOAD/VMSAVE virt [1] */
	uint32_t vmcb_clean;            /* 0C0h */
	uint32_t reserved_0c4;
	uint64_t nrip;                  /* 0C8h: next sequential RIP (NRIPS) */
	uint8_t guest_insn_len;         /* 0D0h: bytes fetched (decode assists) */
	uint8_t guest_insn_bytes[15];   /* 0D1h */
	uint8_t reserved_0e0[0x400 - 0x0e0];
};

/* A segment in the save area: attrib packs descriptor bits 47:40 and 55:52. */
struct vmcb_seg {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};

/* Attribute bits (descriptor access byte, then the flags nibble at 11:8). */
#define SVM_SEG_TYPE_MASK   0x00fu
#define SVM_SEG_S           (1u << 4)
#define SVM_SEG_DPL_SHIFT   5
#define SVM_SEG_P           (1u << 7)
#define SVM_SEG_L           (1u << 9)
#define SVM_SEG_DB          (1u << 10)
#define SVM_SEG_G           (1u << 11)

/* --- state save area (APM table B-2), offsets from the start of the VMCB --- */
struct vmcb_save_area {
	struct vmcb_seg es, cs, ss, ds, fs, gs;  /* 400h-45Fh */
	struct vmcb_seg gdtr, ldtr, idtr, tr;    /* 460h-49Fh */
	uint8_t reserved_4a0[0x4cb - 0x4a0];
	uint8_t cpl;                    /* 4CBh */
	uint32_t reserved_4cc;
	uint64_t efer;                  /* 4D0h */
	uint8_t reserved_4d8[0x548 - 0x4d8];
	uint64_t cr4;                   /* 548h */
	uint64_t cr3;                   /* 550h */
	uint64_t cr0;                   /* 558h */
	uint64_t dr7;                   /* 560h */
	uint64_t dr6;                   /* 568h */
	uint64_t rflags;                /* 570h */
	uint64_t rip;                   /* 578h */
	uint8_t reserved_580[0x5d8 - 0x580];
	uint64_t rsp;                   /* 5D8h */
	uint64_t s_cet;                 /* 5E0h */
	uint64_t ssp;                   /* 5E8h */
	uint64_t isst_addr;             /* 5F0h */
	uint64_t rax;                   /* 5F8h */
	uint64_t star;                  /* 600h */
	uint64_t lstar;                 /* 608h */
	uint64_t cstar;                 /* 610h */
	uint64_t sfmask;                /* 618h */
	uint64_t kernel_gs_base;        /* 620h */
	uint64_t sysenter_cs;           /* 628h */
	uint64_t sysenter_esp;          /* 630h */
	uint64_t sysenter_eip;          /* 638h */
	uint64_t cr2;                   /* 640h */
	uint8_t reserved_648[0x668 - 0x648];
	uint64_t g_pat;                 /* 668h: guest PAT, used when NP_ENABLE */
	uint64_t dbgctl;                /* 670h */
	uint64_t br_from;               /* 678h */
	uint64_t br_to;                 /* 680h */
	uint64_t lastexcpfrom;          /* 688h */
	uint64_t lastexcpto;            /* 690h */
	uint8_t reserved_698[0x1000 - 0x698];
};

/* One 4 KiB page, 4 KiB aligned; VMRUN takes its physical address in RAX. */
struct vmcb {
	struct vmcb_control_area control;
	struct vmcb_save_area save;
};

#define VMCB_OFF(field) offsetof(struct vmcb, field)
_Static_assert(sizeof(struct vmcb_seg) == 16, "VMCB segment is 16 bytes");
_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
_Static_assert(VMCB_OFF(control.intercept_misc1) == 0x00c, "APM B-1");
_Static_assert(VMCB_OFF(control.intercept_misc2) == 0x010, "APM B-1");
_Static_assert(VMCB_OFF(control.iopm_base_pa) == 0x040, "APM B-1");
_Static_assert(VMCB_OFF(control.msrpm_base_pa) == 0x048, "APM B-1");
_Static_assert(VMCB_OFF(control.guest_asid) == 0x058, "APM B-1");
_Static_assert(VMCB_OFF(control.tlb_control) == 0x05c, "APM B-1");
_Static_assert(VMCB_OFF(control.exitcode) == 0x070, "APM B-1");
_Static_assert(VMCB_OFF(control.exitinfo1) == 0x078, "APM B-1");
_Static_assert(VMCB_OFF(control.exitinfo2) == 0x080, "APM B-1");
_Static_assert(VMCB_OFF(control.np_enable) == 0x090, "APM B-1");
_Static_assert(VMCB_OFF(control.eventinj) == 0x0a8, "APM B-1");
_Static_assert(VMCB_OFF(control.n_cr3) == 0x0b0, "APM B-1");
_Static_assert(VMCB_OFF(control.vmcb_clean) == 0x0c0, "APM B-1");
_Static_assert(VMCB_OFF(control.nrip) == 0x0c8, "APM B-1");
_Static_assert(VMCB_OFF(save.es) == 0x400, "APM B-2");
_Static_assert(VMCB_OFF(save.cs) == 0x410, "APM B-2");
_Static_assert(VMCB_OFF(save.gdtr) == 0x460, "APM B-2");
_Static_assert(VMCB_OFF(save.idtr) == 0x480, "APM B-2");
_Static_assert(VMCB_OFF(save.tr) == 0x490, "APM B-2");
_Static_assert(VMCB_OFF(save.cpl) == 0x4cb, "APM B-2");
_Static_assert(VMCB_OFF(save.efer) == 0x4d0, "APM B-2");
_Static_assert(VMCB_OFF(save.cr4) == 0x548, "APM B-2");
_Static_assert(VMCB_OFF(save.cr3) == 0x550, "APM B-2");
_Static_assert(VMCB_OFF(save.cr0) == 0x558, "APM B-2");
_Static_assert(VMCB_OFF(save.rflags) == 0x570, "APM B-2");
_Static_assert(VMCB_OFF(save.rip) == 0x578, "APM B-2");
_Static_assert(VMCB_OFF(save.rsp) == 0x5d8, "APM B-2");
_Static_assert(VMCB_OFF(save.rax) == 0x5f8, "APM B-2");
_Static_assert(VMCB_OFF(save.cr2) == 0x640, "APM B-2");
_Static_assert(VMCB_OFF(save.g_pat) == 0x668, "APM B-2");

/* --- #VMEXIT codes (APM appendix C), as the EXITCODE field holds them --- */
#define VMEXIT_CR0_READ             0x000ull   /* ... CR15 0x00F */
#define VMEXIT_CR0_WRITE            0x010ull   /* ... CR15 0x01F */
#define VMEXIT_DR0_READ             0x020ull
#define VMEXIT_DR0_WRITE            0x030ull
#define VMEXIT_EXCP0                0x040ull   /* ... EXCP31 0x05F */
#define VMEXIT_INTR                 0x060ull
#define VMEXIT_NMI                  0x061ull
#define VMEXIT_VINTR                0x064ull   /* virtual interrupt window */
#define VMEXIT_CPUID                0x072ull
#define VMEXIT_HLT                  0x078ull
#define VMEXIT_IOIO                 0x07bull
#define VMEXIT_MSR                  0x07cull
#define VMEXIT_SHUTDOWN             0x07full
#define VMEXIT_VMRUN                0x080ull
#define VMEXIT_VMMCALL              0x081ull
#define VMEXIT_VMLOAD               0x082ull
#define VMEXIT_VMSAVE               0x083ull
#define VMEXIT_NPF                  0x400ull
#define VMEXIT_INVALID              ((uint64_t)-1)   /* VMRUN consistency check failed */
#define VMEXIT_BUSY                 ((uint64_t)-2)
#define VMEXIT_IDLE_REQUIRED        ((uint64_t)-3)
#define VMEXIT_INVALID_PMC          ((uint64_t)-4)

/* "VMEXIT_VMMCALL" for 0x81, or NULL for a code appendix C does not list. */
const char *svm_exit_name(uint64_t exitcode);

/* --- building a VMCB for L2 (arch/amd/common/svm_vmcb.c) -------------------- */

/* What L1 hands the builder: its own state, which L2 starts from, and the test's wishes. */
struct svm_l2_setup {
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdtr_base, idtr_base;  /* idtr: L2's own IDT, not L1's */
	uint16_t gdtr_limit, idtr_limit;
	const uint64_t *gdt;            /* the GDT's contents: segment attributes */
	uint16_t cs, ss, ds, es, fs, gs, tr;
	uint64_t rip, rsp, rax;         /* where L2 starts */
	uint32_t asid;                  /* must not be 0 */
	uint32_t intercept_exceptions;  /* bit n: exception vector n exits to L1 */
	bool intercept_io;              /* IOIO_PROT: IN/OUT exit as the IOPM says */
	bool nested_paging;
	uint64_t n_cr3;                 /* root of the nested page tables */
	uint64_t g_pat;                 /* guest PAT when nested_paging */
	uint64_t iopm_pa, msrpm_pa;     /* permission maps (checked even when unused) */
};

/* The intercepts every VMCB we build has (VMRUN's intercept is mandatory);
 * IOIO_PROT and the exception bits come from the setup. */
#define SVM_L2_INTERCEPT_MISC1      (SVM_INTERCEPT_HLT | SVM_INTERCEPT_SHUTDOWN)
#define SVM_L2_INTERCEPT_MISC2      (SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL)

/* Decode GDT entry `sel` into VMCB form; a null or out-of-limit selector
 * gives an unusable (attrib 0) segment. */
struct vmcb_seg svm_seg_from_gdt(const uint64_t *gdt, uint16_t gdt_limit, uint16_t sel);

/* Fill the whole VMCB (zeroing it first) from the setup. */
void svm_vmcb_build(struct vmcb *vmcb, const struct svm_l2_setup *s);

/* Fill the 12 KiB IOPM: every port intercepted (all ones) or none. */
void svm_iopm_init(uint8_t *iopm, bool intercept_all);

/* EVENTINJ for one event (APM 15.20); the error code only when has_error_code. */
uint64_t svm_eventinj(uint8_t vector, unsigned int type, bool has_error_code,
		      uint32_t error_code);

/* NVM_REQ() bits (nestvmm/features.h) for what CPUID 8000000Ah:EDX offers. */
uint32_t svm_nested_features(uint32_t edx);

/*
 * Length of the instruction an intercept stopped at, from what the exit
 * left: nRIP (with NRIPS, written for instruction intercepts), EXITINFO2 of
 * VMEXIT_IOIO (the next RIP, always), or 3 for VMMCALL (0F 01 D9). 0 when
 * the exit is no instruction intercept or nothing tells the length.
 */
unsigned int svm_exit_insn_len(uint64_t exitcode, uint64_t rip, uint64_t nrip,
			       uint64_t exitinfo2, bool nrips);

/* --- nested page tables (arch/amd/common/svm_npt.c) ------------------------ *
 * The long-mode 4-level format of L1's own tables (APM 15.25.5); a nested
 * walk is a user access, so every present entry has U=1. The tables are
 * reached through callbacks, so L1 (GPA == pointer) and the unit tests
 * (pages in a pool) share the code.
 */
struct svm_npt_mem {
	uint64_t *(*alloc)(void *ctx, uint64_t *pa);   /* one zeroed 4 KiB table, its address */
	uint64_t *(*table)(void *ctx, uint64_t pa);    /* the table at address pa */
	void *ctx;
};

#define SVM_NPT_RWX                 0x7ull          /* P, W, U: present, writable, user */
#define SVM_NPT_ADDR_MASK           0x000ffffffffff000ull
#define SVM_NPT_2M                  (2ull << 20)

/* Root of a new identity map of [0, mem_size) in 2 MiB pages. */
uint64_t svm_npt_identity(const struct svm_npt_mem *m, uint64_t mem_size);

/* What svm_npt_map changed, so the caller knows what to flush and tell. */
#define SVM_NPT_SPLIT               (1u << 0)   /* a 2 MiB page became 512 4 KiB pages */
#define SVM_NPT_NEW_TABLE           (1u << 1)   /* a missing table level was added */

/*
 * Map the 4 KiB page at gpa to hpa (present, writable as asked; not
 * present keeps hpa in the entry for the record), splitting a 2 MiB page
 * that covers it into 4 KiB pages with the same rights. The caller must
 * flush (TLB_CONTROL) before L2 runs again.
 */
unsigned int svm_npt_map(const struct svm_npt_mem *m, uint64_t root, uint64_t gpa, uint64_t hpa,
			 bool present, bool writable);

/*
 * The VMRUN consistency checks of APM 15.5.1 that can be judged from the
 * VMCB alone. Writes up to `max` static descriptions of failed checks to
 * `why` and returns how many failed (may exceed max).
 */
unsigned int svm_vmcb_check(const struct vmcb *vmcb, const char **why, unsigned int max);

#endif
