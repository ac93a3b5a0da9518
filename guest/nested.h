/* SPDX-License-Identifier: MIT */
/*
 * The nested API tests program against: one small interface, implemented
 * once per vendor (arch/amd/guest/svm_nested.c, arch/intel/guest/vmx_nested.c).
 * It plays the part of the KVM selftests' generic_svm_setup()/run_guest()
 * and kvm-unit-tests' vmcb_ident()/test_run(): reset a fresh VMCB/VMCS for
 * one test, enter L2 until it exits, and hand back a normalised exit.
 *
 * A test:
 *	struct l2_vcpu vcpu;
 *	struct l2_cfg cfg = { .entry = my_l2_code, .arg = 42 };
 *	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS) return r->status;
 *	struct l2_exit x;
 *	if (nested_enter(&vcpu, &x, r) != NVM_PASS) return r->status;
 *	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_DONE) ...
 *
 * L2 code is ordinary C (guest/l2.h) that runs on its own stack and its own
 * IDT, in 64-bit mode on L1's GDT and (without nested paging) L1's page
 * tables, and talks to L1 with l2_hypercall(): VMMCALL on AMD, VMCALL on
 * Intel, function code in RAX, arguments in RDI, RSI, RDX.
 *
 * Everything a reset allocates comes from the per-test arena (guest/mem.c):
 * the runner releases it after the test, so no test sees another's VMCB/VMCS,
 * page tables or stacks.
 */
#ifndef NESTVMM_GUEST_NESTED_H
#define NESTVMM_GUEST_NESTED_H

#include "l1.h"
#include "nestvmm/features.h"

/*
 * Hypercall function codes. L2 puts L2_HC_RAX(code) in RAX: the code in bits
 * 31:0 and its complement in bits 63:32, so that an L0 that changes L2's RAX
 * on the way out is named as such, not read as another call.
 */
#define L2_HC_RAX(code) ((u64)(u32)(code) | ((u64)(u32)~(u32)(code) << 32))
enum l2_hc {
	L2_HC_DONE = 0x4e0,       /* L2 finished: RDI = result (0 ok) */
	L2_HC_FAIL,               /* L2 assertion: RDI = struct l2_report * */
	L2_HC_EXCEPTION,          /* L2's own IDT took an exception: RDI vector, RSI error code, RDX RIP */
	L2_HC_PING,               /* round-trip measurement and GPR checks: RDI/RSI/RDX free */
	L2_HC_USER,               /* first code for a test's own protocol */
};

/* What L2 passes with L2_HC_FAIL (in L2 memory, which L1 can read). */
struct l2_report {
	const char *file;
	u32 line;
	char msg[160];
};

/* What a test varies. Zero is the default for every field. */
struct l2_cfg {
	void (*entry)(u64 arg);   /* L2's code; returning ends L2 with L2_HC_DONE(0) */
	u64 arg;                  /* its argument (RDI) */
	bool nested_paging;       /* NPT/EPT: identity map of all guest RAM (page sizes: the
				   * vendor's choice; npt_map splits a large page it hits) */
	bool io_passthrough;      /* false: every IN/OUT of L2 exits to L1 */
	u32 intercept_exceptions; /* vectors that exit to L1; the rest go to L2's own IDT */
	/* Intercepts (appended for issue 10 item 3, guest/intercept.h has the bits): */
	u64 intercepts;           /* L2_ICPT_* bits, vendor-neutral; 0: none beyond the above */
	u64 cr0_mask, cr4_mask;   /* VMX: the CR0/CR4 guest/host mask with L2_ICPT_CR0/CR4_WRITE
				   * (0: every bit); the read shadow is L2's initial value.
				   * SVM intercepts every write and ignores them. */
	/* Appended for the nested-paging/TSC tests (l2.npt.*, l2.tsc.*): */
	u64 tsc_offset;           /* VMCB TSC_OFFSET (APM 15.30.5) / VMCS TSC offset with "use TSC
				   * offsetting" (SDM 26.6.5): L2's TSC = L1's + this */
	bool npt_ad;              /* EPT: accessed/dirty flags on (EPTP bit 6, SDM 29.3.5); NPT
				   * always has them */
};

/* What an L2_EXIT_INTR was (issue 10 item 6, appended kinds go at the end). */
enum l2_intr {
	L2_INTR_NONE,             /* not an L2_EXIT_INTR */
	L2_INTR_EXTERNAL,         /* VMEXIT_INTR / external interrupt (reason 1) */
	L2_INTR_NMI,              /* VMEXIT_NMI / exception-or-NMI exit of type NMI */
	L2_INTR_WINDOW,           /* VMEXIT_VINTR / interrupt window (reason 7) */
	L2_INTR_NMI_WINDOW,       /* NMI window (reason 8); SVM: VMEXIT_IRET (before the IRET runs) */
};

/*
 * An event whose delivery an exit interrupted (APM 15.7.2 EXITINTINFO; SDM
 * 28.2.4 IDT-vectoring information and error code): L1 must deliver it
 * again (nested_ops.reinject), or L2 loses it.
 */
struct l2_exit_event {
	bool valid;
	u8 vector;
	u8 type;                  /* enum l2_event; SVM reports INT3/INTO as L2_EVENT_EXCEPTION */
	bool has_error_code;
	u32 error_code;
	u32 insn_len;             /* VMX software events: VM-exit instruction length; else 0 */
	u64 raw;                  /* EXITINTINFO / IDT-vectoring information field */
};

enum l2_exit_kind {
	L2_EXIT_HYPERCALL,        /* VMMCALL / VMCALL; hc holds the call */
	L2_EXIT_EXCEPTION,        /* an intercepted exception: vector, error_code */
	L2_EXIT_NPF,              /* VMEXIT_NPF / EPT violation: gpa, info1 = EXITINFO1 / qualification */
	L2_EXIT_IO,               /* IN/OUT: info1 = EXITINFO1 / qualification */
	L2_EXIT_MSR,              /* RDMSR/WRMSR */
	L2_EXIT_CPUID,
	L2_EXIT_HLT,
	L2_EXIT_INTR,             /* external interrupt, NMI or interrupt window */
	L2_EXIT_SHUTDOWN,         /* triple fault in L2 */
	L2_EXIT_INVALID,          /* the entry failed: see raw, why */
	L2_EXIT_OTHER,            /* any other exit: raw is the vendor's code */
	/* Appended for the intercepts (issue 10 item 3): */
	L2_EXIT_RDTSC,
	L2_EXIT_RDTSCP,
	L2_EXIT_RDPMC,
	L2_EXIT_INVLPG,           /* linear: the address where the vendor reports it */
	L2_EXIT_PAUSE,
	L2_EXIT_CR,               /* MOV to/from CRn, CLTS, LMSW, SVM's selective CR0 write: cr */
	L2_EXIT_DR,               /* MOV to/from DRn: dr */
};

struct l2_exit {
	enum l2_exit_kind kind;
	u64 raw;                  /* EXITCODE (APM appendix C) / basic exit reason (SDM C) */
	u64 info1, info2;         /* EXITINFO1/2 (AMD); exit qualification, interruption info (Intel) */
	u64 gpa;                  /* guest-physical address of an NPF / EPT violation */
	u64 rip;                  /* L2's RIP at the exit */
	u32 insn_len;             /* length of the exiting instruction, 0 when unknown */
	u8 vector;                /* L2_EXIT_EXCEPTION */
	bool has_error_code;
	u32 error_code;
	struct { u64 code, arg0, arg1, arg2; } hc;   /* L2_EXIT_HYPERCALL: RAX, RDI, RSI, RDX, filled
						       * by nested_enter (vendors set only kind) */
	/* L2_EXIT_NPF, decoded from EXITINFO1 / the exit qualification: */
	struct { bool present, write, fetch; } npf;   /* page was present; the access was a write / fetch */
	char why[120];            /* L2_EXIT_INVALID: the decoded VM-instruction error / reason */
	/* Appended for the intercepts (issue 10 item 3); gpr is -1 where the vendor does not
	 * report the register (SVM without decode assists): */
	struct { u32 index; bool write; u64 value; } msr;   /* L2_EXIT_MSR: ECX, WRMSR, EDX:EAX written */
	struct { u16 port; u8 size; bool in, string, rep; } io;   /* L2_EXIT_IO */
	struct { u8 n; bool write; int8_t gpr; u8 type; bool selective; u16 lmsw; } cr;   /* L2_EXIT_CR */
	struct { u8 n; bool write; int8_t gpr; } dr;            /* L2_EXIT_DR */
	bool has_linear;          /* L2_EXIT_INVLPG: linear holds the operand's address */
	u64 linear;
	/* Event injection and interrupts (issue 10 items 5-6), appended: */
	struct l2_exit_event event;   /* the event the exit interrupted (EXITINTINFO / IDT vectoring) */
	enum l2_intr intr;            /* L2_EXIT_INTR: which one */
	/*
	 * Appended for the l2.npt.* tests: the rest of EXITINFO1 of VMEXIT_NPF
	 * (APM 15.25.6) and of the EPT-violation qualification (SDM 28.2.1,
	 * table 28-7), and EPT misconfigurations (exit reason 49, 29.3.3.1).
	 */
	struct {
		bool read;            /* EPT: bit 0, a data read; NPF: neither RW nor ID */
		bool user;            /* NPF: US (bit 2); EPT: never */
		bool rsvd;            /* NPF: RSVD (bit 3), a reserved bit set in the nested tables */
		bool final;           /* translating the final GPA: NPF bit 32; EPT: bits 7 and 8 */
		bool walk;            /* translating one of L2's page tables: NPF bit 33; EPT: 7 set, 8 clear */
		bool gla_valid;       /* EPT: bit 7, GUEST_LINEAR_ADDRESS holds gla */
		u8 allowed;           /* EPT: bits 5:3, what the entry allowed (L2_NPT_R/W/X) */
		bool misconfig;       /* EPT misconfiguration (exit 49: kind L2_EXIT_OTHER, gpa set) */
		u64 gla;              /* EPT: guest linear address, when gla_valid */
	} npfx;
};

/* L2's general-purpose registers as L1 sees them between entries. */
enum l2_gpr {
	L2_RAX, L2_RBX, L2_RCX, L2_RDX, L2_RSI, L2_RDI, L2_RBP, L2_RSP,
	L2_R8, L2_R9, L2_R10, L2_R11, L2_R12, L2_R13, L2_R14, L2_R15, L2_GPR_COUNT
};

/* Event types for inject (both vendors' encodings map onto these). */
enum l2_event { L2_EVENT_EXTINT, L2_EVENT_NMI, L2_EVENT_EXCEPTION, L2_EVENT_SOFTINT,
		/* appended: INT3/INTO (#BP/#OF raised by an instruction; VMX type 6, SVM
		 * an exception whose return RIP is past the instruction) */
		L2_EVENT_SOFT_EXCEPTION };

struct l2_vcpu {
	u64 gpr[L2_GPR_COUNT];    /* enter() loads them into L2 and stores them back */
	u64 rip, rflags;          /* likewise */
	struct l2_cfg cfg;
	void *stack;              /* L2's stack page (top = stack + 4096) */
	u64 ncr3;                 /* root of the nested page tables, 0 without */
	u32 entries;              /* successful entries since the reset */
	void *vendor;             /* the VMCB (AMD) or VMCS region (Intel) */
};

/*
 * L2's architectural state as the VMCB save area (APM appendix B, table B-2)
 * or the VMCS guest-state area (SDM 25.4) holds it after an exit: what L1
 * can observe of L2 beyond the GPRs. Vendor-neutral; the groups a vendor's
 * exit saves are in `saved` (L2_ST_*), the rest are zero.
 */
enum l2_seg_reg { L2_ES, L2_CS, L2_SS, L2_DS, L2_FS, L2_GS, L2_LDTR, L2_TR, L2_SEG_COUNT };

/* attrib: descriptor bits 47:40 in 7:0 and 55:52 in 11:8 (the VMCB's packing;
 * VMX's AR bytes are converted), L2_SEG_UNUSABLE for VMX's "unusable" bit. */
#define L2_SEG_UNUSABLE (1u << 16)
struct l2_seg { u16 selector; u32 attrib; u32 limit; u64 base; };
struct l2_dt { u64 base; u32 limit; };

/* Groups of struct l2_state, for l2_state.saved and state_set. */
#define L2_ST_CR        (1u << 0)   /* CR0, CR3, CR4 */
#define L2_ST_CR2       (1u << 1)   /* SVM: the VMCB's CR2; VMX: L1's own CR2 (no VMCS field) */
#define L2_ST_EFER      (1u << 2)
#define L2_ST_SEG       (1u << 3)   /* ES, CS, SS, DS */
#define L2_ST_SEG_OTHER (1u << 4)   /* FS, GS, LDTR, TR (SVM: VMSAVE's, not #VMEXIT's) */
#define L2_ST_DTR       (1u << 5)   /* GDTR, IDTR */
#define L2_ST_DR7       (1u << 6)
#define L2_ST_PAT       (1u << 7)
#define L2_ST_DEBUGCTL  (1u << 8)
#define L2_ST_SHADOW    (1u << 9)   /* interrupt shadow / interruptibility */
#define L2_ST_NEXT_RIP  (1u << 10)
#define L2_ST_REGS      (1u << 11)  /* RIP, RSP, RFLAGS, RAX */

/* l2_state.shadow: SVM's INTERRUPT_SHADOW is one bit; VMX tells STI from MOV SS. */
#define L2_SHADOW_STI    (1u << 0)  /* VMX: blocking by STI; SVM: the interrupt shadow */
#define L2_SHADOW_MOV_SS (1u << 1)  /* VMX only: blocking by MOV SS */

struct l2_state {
	u64 cr0, cr2, cr3, cr4, efer;
	u64 rip, rsp, rflags, rax;
	struct l2_seg seg[L2_SEG_COUNT];
	struct l2_dt gdtr, idtr;
	u64 dr7, pat, debugctl;
	u32 shadow;                  /* L2_SHADOW_* */
	u64 next_rip;                /* SVM nRIP with NRIPS */
	u32 saved;                   /* L2_ST_* this vendor's exit saved */
};

struct nested_ops {
	const char *virt;         /* "SVM" / "VMX" */
	/* Fresh control structure and L2 state from cfg; NVM_FAIL with the reason in r. */
	enum nvm_status (*vcpu_reset)(struct l2_vcpu *vcpu, const struct l2_cfg *cfg,
				      struct stage_result *r);
	/*
	 * Enter L2 (VMRUN; VMLAUNCH the first time, then VMRESUME) and return
	 * when it exits. NVM_PASS with *x filled for every exit, failed entries
	 * included (L2_EXIT_INVALID); NVM_FAIL only when the instruction itself
	 * faulted or failed in L1, with the reason in r.
	 */
	enum nvm_status (*enter)(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r);
	/* Move L2's RIP past the instruction that exited (NRIPS / exit length, else decode). */
	void (*skip_insn)(struct l2_vcpu *vcpu, const struct l2_exit *x);
	/* Inject an event at the next entry (EVENTINJ / VM-entry interruption info). */
	void (*inject)(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, bool has_error_code,
		       u32 error_code);
	/* Raw control-structure state for a failure report, into r's details. */
	void (*describe)(struct l2_vcpu *vcpu, struct stage_result *r);
	/* Map one 4 KiB GPA in the nested page tables (or leave it not present) and flush. */
	void (*npt_map)(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, bool present, bool writable);
	/* After each test, before its arena is released (VMX: VMCLEAR the current VMCS). */
	void (*test_end)(void);
	/* Appended for the intercepts (issue 10 item 3). With L2_ICPT_MSR_BITMAP: make RDMSR
	 * and/or WRMSR of msr exit (true) or run in L2 (false); false when the bitmap does
	 * not cover msr (such an MSR always exits). */
	bool (*msr_intercept)(struct l2_vcpu *vcpu, u32 msr, bool read, bool write);
	/* With L2_ICPT_IO_BITMAP: make IN/OUT of port exit (true) or run in L2 (false). */
	void (*io_intercept)(struct l2_vcpu *vcpu, u16 port, bool intercept);

	/* --- event injection and interrupts (issue 10 items 5-6), appended --- */
	/*
	 * Inject a software interrupt (L2_EVENT_SOFTINT: INT n) or software
	 * exception (L2_EVENT_SOFT_EXCEPTION: INT3, INTO) as if raised by the
	 * insn_len-byte instruction at vcpu->rip: the handler returns past it
	 * (VMX: VM-entry instruction length, SDM 26.6.1.3; SVM: RIP moves past
	 * it, and NextRIP with NRIPS, APM 15.20).
	 */
	void (*inject_sw)(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, u32 insn_len);
	/* Deliver x->event again at the next entry (EXITINTINFO -> EVENTINJ; IDT vectoring ->
	 * VM-entry interruption information, error code, instruction length). */
	void (*reinject)(struct l2_vcpu *vcpu, const struct l2_exit *x);
	/*
	 * Ask for an exit as soon as L2 can take a maskable interrupt (VMX
	 * interrupt-window exiting, SDM 26.7.5; SVM V_IRQ with the VINTR
	 * intercept, APM 15.21.4), or stop asking (SVM: V_IRQ cleared too).
	 */
	void (*irq_window)(struct l2_vcpu *vcpu, bool on);
	/*
	 * Ask for an exit when L2's NMI blocking ends (VMX NMI-window exiting
	 * with virtual NMIs, SDM 26.7.6; SVM: the IRET intercept, APM 15.21.3,
	 * which exits before the IRET runs). VMX: every call first turns on NMI
	 * exiting and virtual NMIs (call it with false before injecting the
	 * NMI); false when the L0 does not offer them.
	 */
	bool (*nmi_window)(struct l2_vcpu *vcpu, bool on);
	/*
	 * Appended for the l2.npt.* tests (arch/amd/guest/svm_npt_ops.c,
	 * arch/intel/guest/vmx_ept_ops.c). npt_set: map gpa -> hpa with the
	 * rights in flags (L2_NPT_*): a 4 KiB leaf (splitting a 2 MiB page that
	 * holds it), or a 2 MiB / 1 GiB leaf; then flush. NULL reason when done,
	 * else why it could not (the L0 lacks 1 GiB pages, execute-only, ...).
	 */
	const char *(*npt_set)(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, u32 flags);
	/* The accessed/dirty flags (L2_NPT_ACCESSED/DIRTY) of gpa's leaf entry; clear: zero them. */
	u32 (*npt_ad)(struct l2_vcpu *vcpu, u64 gpa, bool clear);
	/* Flush L2's nested translations by `how` (L2_TLB_*); NULL when done, else why it can't. */
	const char *(*tlb_flush)(struct l2_vcpu *vcpu, u32 how);
	/* --- entry/exit state transfer (arch/amd/guest/svm_state.c, arch/intel/guest/vmx_state.c) --- */
	/*
	 * Ask the CPU to save at each exit, and load at each entry, every piece of
	 * L2 state it can (VMX: the "save IA32_EFER", "save/load IA32_PAT" and
	 * "save/load debug controls" controls; SVM: nothing to ask). After
	 * vcpu_reset; NVM_FAIL names a control the L0 does not allow.
	 */
	enum nvm_status (*state_save_all)(struct l2_vcpu *vcpu, struct stage_result *r);
	/* L2's state as the last exit left it in the VMCB/VMCS; s->saved says which fields. */
	void (*state_get)(struct l2_vcpu *vcpu, struct l2_state *s);
	/* Put the L2_ST_* groups in `fields` of s into the VMCB/VMCS for the next entry. */
	void (*state_set)(struct l2_vcpu *vcpu, const struct l2_state *s, u32 fields);
};

/* npt_set flags. NPT has no "write only": R is its present bit. */
#define L2_NPT_R        (1u << 0)   /* NPT: P; EPT: read */
#define L2_NPT_W        (1u << 1)   /* NPT: R/W; EPT: write */
#define L2_NPT_X        (1u << 2)   /* NPT: NX clear; EPT: execute */
#define L2_NPT_RWX      (L2_NPT_R | L2_NPT_W | L2_NPT_X)
#define L2_NPT_RSVD     (1u << 3)   /* also set the lowest reserved address bit (MAXPHYADDR) */
#define L2_NPT_2M       (1u << 4)   /* a 2 MiB leaf (gpa and hpa 2 MiB aligned) */
#define L2_NPT_1G       (1u << 5)   /* a 1 GiB leaf (gpa and hpa 1 GiB aligned) */
#define L2_NPT_NOFLUSH  (1u << 6)   /* leave the flush to the caller (tlb_flush) */
/* tlb_flush kinds */
#define L2_TLB_CONTEXT  0u          /* TLB_CONTROL flush this ASID (else all) / INVEPT single-context */
#define L2_TLB_ALL      1u          /* TLB_CONTROL flush all ASIDs / INVEPT all-context */
#define L2_TLB_NEW_TAG  2u          /* SVM: a new ASID and no flush; VMX: none (EPT is tagged by EPTP) */
/* npt_ad results */
#define L2_NPT_ACCESSED (1u << 8)
#define L2_NPT_DIRTY    (1u << 9)

/* The vendor in use (set by l1.enable) and the features its L0 offers. */
extern const struct nested_ops *nested;
extern u32 nested_features;              /* NVM_REQ() bits */

extern const struct nested_ops nested_ops_svm;
extern const struct nested_ops nested_ops_vmx;

/* The vendor in use is SVM (else VMX); `nested` may be a wrapper (--migrate), compare names. */
static inline bool nested_is_svm(void)
{
	return nested && nested->virt[0] == 'S';
}

/* --migrate: make every nested->enter reach the VMM after the exit (idempotent). */
void nested_sync_after_exits(void);

/* Names for messages. */
const char *l2_exit_kind_name(enum l2_exit_kind k);

/* Enter L2 once and describe any L2_HC_FAIL / L2_HC_EXCEPTION as a stage failure. */
enum nvm_status nested_enter(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r);
/* Run L2 until it calls L2_HC_DONE; every other exit is a failure naming it. */
enum nvm_status nested_run_to_done(struct l2_vcpu *vcpu, struct stage_result *r);
/* Fail r with "expected KIND, got ..." naming every field of the exit. */
enum nvm_status nested_unexpected(struct l2_vcpu *vcpu, const struct l2_exit *x,
				  const char *expected, struct stage_result *r);

#include "intercept.h"

#endif
