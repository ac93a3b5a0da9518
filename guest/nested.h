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
};

/* L2's general-purpose registers as L1 sees them between entries. */
enum l2_gpr {
	L2_RAX, L2_RBX, L2_RCX, L2_RDX, L2_RSI, L2_RDI, L2_RBP, L2_RSP,
	L2_R8, L2_R9, L2_R10, L2_R11, L2_R12, L2_R13, L2_R14, L2_R15, L2_GPR_COUNT
};

/* Event types for inject (both vendors' encodings map onto these). */
enum l2_event { L2_EVENT_EXTINT, L2_EVENT_NMI, L2_EVENT_EXCEPTION, L2_EVENT_SOFTINT };

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

/* The vendor in use (set by l1.enable) and the features its L0 offers. */
extern const struct nested_ops *nested;
extern u32 nested_features;              /* NVM_REQ() bits */

extern const struct nested_ops nested_ops_svm;
extern const struct nested_ops nested_ops_vmx;

/* Names for messages. */
const char *l2_exit_kind_name(enum l2_exit_kind k);

/* Enter L2 once and describe any L2_HC_FAIL / L2_HC_EXCEPTION as a stage failure. */
enum nvm_status nested_enter(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r);
/* Run L2 until it calls L2_HC_DONE; every other exit is a failure naming it. */
enum nvm_status nested_run_to_done(struct l2_vcpu *vcpu, struct stage_result *r);
/* Fail r with "expected KIND, got ..." naming every field of the exit. */
enum nvm_status nested_unexpected(struct l2_vcpu *vcpu, const struct l2_exit *x,
				  const char *expected, struct stage_result *r);

#endif
