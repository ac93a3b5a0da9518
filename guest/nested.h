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
	/* Appended for the nested-paging/TSC tests (l2.npt.*, l2.tsc.*): */
	u64 tsc_offset;           /* VMCB TSC_OFFSET (APM 15.30.5) / VMCS TSC offset with "use TSC
				   * offsetting" (SDM 26.6.5): L2's TSC = L1's + this */
	bool npt_ad;              /* EPT: accessed/dirty flags on (EPTP bit 6, SDM 29.3.5); NPT
				   * always has them */
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
