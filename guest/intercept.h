/* SPDX-License-Identifier: MIT */
/*
 * Vendor-neutral intercepts a test asks for in l2_cfg.intercepts, and the
 * decoded CR-access types of struct l2_exit (guest/nested.h). Each vendor
 * maps the bits onto its controls (arch/amd/guest/svm_intercept.c: VMCB
 * intercept vectors, APM 15.8-15.11; arch/intel/guest/vmx_intercept.c:
 * processor-based controls, CR masks, bitmaps, SDM 25.6).
 *
 * Where a vendor has no such control the bit says what happens instead:
 * CPUID always exits on VMX (SDM 26.1.2); MOV from CR0/CR4 never exits on
 * VMX (it reads the read shadow, SDM 25.6.6); a CR0/CR4 write exits on VMX
 * only when it changes a bit of the guest/host mask against the read shadow,
 * on SVM always (APM 15.8.1).
 *
 * Included by guest/nested.h after its own declarations.
 */
#ifndef NESTVMM_GUEST_INTERCEPT_H
#define NESTVMM_GUEST_INTERCEPT_H

enum l2_intercept {
	L2_ICPT_CPUID      = 1u << 0,   /* SVM intercept vector 3 bit 18; VMX: always */
	L2_ICPT_RDTSC      = 1u << 1,   /* SVM 3/14; VMX "RDTSC exiting" (also RDTSCP) */
	L2_ICPT_RDTSCP     = 1u << 2,   /* SVM 4/7; VMX: RDTSC exiting + "enable RDTSCP" */
	L2_ICPT_RDPMC      = 1u << 3,   /* SVM 3/15; VMX "RDPMC exiting" */
	L2_ICPT_INVLPG     = 1u << 4,   /* SVM 3/25; VMX "INVLPG exiting" */
	L2_ICPT_PAUSE      = 1u << 5,   /* SVM 3/23 (filter count 0); VMX "PAUSE exiting" */
	L2_ICPT_CR0_READ   = 1u << 6,   /* SVM only (VMX: read shadow, no exit) */
	L2_ICPT_CR0_WRITE  = 1u << 7,   /* SVM CR0 write; VMX CR0 mask (l2_cfg.cr0_mask) */
	L2_ICPT_CR0_SEL    = 1u << 8,   /* SVM only: selective CR0 write (3/5), LMSW included */
	L2_ICPT_CR3_READ   = 1u << 9,   /* SVM CR3 read; VMX "CR3-store exiting" */
	L2_ICPT_CR3_WRITE  = 1u << 10,  /* SVM CR3 write; VMX "CR3-load exiting", no targets */
	L2_ICPT_CR4_READ   = 1u << 11,  /* SVM only (VMX: read shadow, no exit) */
	L2_ICPT_CR4_WRITE  = 1u << 12,  /* SVM CR4 write; VMX CR4 mask (l2_cfg.cr4_mask) */
	L2_ICPT_CR8_READ   = 1u << 13,  /* SVM CR8 read; VMX "CR8-store exiting" */
	L2_ICPT_CR8_WRITE  = 1u << 14,  /* SVM CR8 write; VMX "CR8-load exiting" */
	L2_ICPT_DR_READ    = 1u << 15,  /* SVM DR0-7 reads; VMX "MOV-DR exiting" (both ways) */
	L2_ICPT_DR_WRITE   = 1u << 16,  /* SVM DR0-7 writes; VMX "MOV-DR exiting" (both ways) */
	L2_ICPT_MSR_BITMAP = 1u << 17,  /* RDMSR/WRMSR as the MSR bitmap says (empty at reset) */
	L2_ICPT_IO_BITMAP  = 1u << 18,  /* IN/OUT as the I/O bitmap says (empty at reset) */
};

/* struct l2_exit.cr.type: what accessed the CR (SDM table 28-3 access types). */
enum l2_cr_access { L2_CR_MOV_TO, L2_CR_MOV_FROM, L2_CR_CLTS, L2_CR_LMSW, L2_CR_UNKNOWN };

/* x86 register numbers as ModRM, decode assists and exit qualifications give them (RAX 0, RCX 1, ...). */
enum x86_gpr_num { X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI };

/* The l2_vcpu.gpr[] slot of x86 register number n (0-15). */
unsigned int l2_gpr_slot(unsigned int n);

/*
 * Enter L2 and expect an exit of kind `kind` at L2 RIP `at` (NULL: any RIP);
 * anything else fails r naming what came instead. Fills *x.
 */
enum nvm_status nested_expect(struct l2_vcpu *vcpu, struct l2_exit *x, enum l2_exit_kind kind,
			      const void *at, const char *what, struct stage_result *r);

#endif
