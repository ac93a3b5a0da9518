/* SPDX-License-Identifier: MIT */
/*
 * The one wire format between the L1 test kernel and the VMM.
 *
 * L1 builds a message in its own memory and writes the message's
 * guest-physical address with a 32-bit OUT to NVM_PORT_MSG. Port I/O is
 * used, never VMCALL/VMMCALL: hypercalls hang or fail on some L0s, and a
 * port write is the one exit every KVM backend reports to userspace.
 *
 * The VMM treats every message as hostile input: the address, the size,
 * every length and every id is checked before a byte of it is used.
 */
#ifndef NESTVMM_WIRE_H
#define NESTVMM_WIRE_H

#include <stdint.h>

#define NVM_PORT_MSG   0x5e0          /* OUT dword: GPA of a struct nvm_msg */
#define NVM_PORT_RING  0x5e4          /* OUT dword: GPA of L1's struct nvm_ring: drain it */
/*
 * Ports 5E8h-5EBh: a latch the VMM answers, for I/O that L1 passes through
 * to L0 from L2 (l2.intercept.io-bitmap, .none). OUT of 1, 2 or 4 bytes
 * stores them at (port - 5E8h) into a 4-byte latch; IN reads them back. No
 * message, no state beyond the latch.
 */
#define NVM_PORT_ECHO  0x5e8
#define NVM_PORT_ECHO_LEN 4
#define NVM_MSG_MAGIC  0x314d564eu    /* "NVM1", little endian */
#define NVM_MSG_MAX    4096           /* whole message, header included */
#define NVM_MSG_STRS   3
#define NVM_MSG_VALS   8

enum nvm_msg_type {
	NVM_MSG_LOG = 1,        /* arg: trace level;  str0: text                      */
	NVM_MSG_STAGE_BEGIN,    /* arg: stage id                                      */
	NVM_MSG_STAGE_END,      /* arg: stage id; val0: status; str0: reason; str1: details */
	NVM_MSG_FAIL,           /* arg: line; str0: file; str1: message (assertion)   */
	NVM_MSG_EXCEPTION,      /* arg: vector; val: see enum nvm_exc_val; str0: where */
	NVM_MSG_DONE,           /* L1 ran every stage it was asked to                  */
	NVM_MSG_STEP,           /* arg: the open test's id; str0: action; val: enum nvm_step_val */
	NVM_MSG_TYPE_MAX
};

/* Numbers carried by NVM_MSG_EXCEPTION, in val[]. */
enum nvm_exc_val {
	NVM_EXC_ERROR_CODE, NVM_EXC_RIP, NVM_EXC_CS, NVM_EXC_RFLAGS,
	NVM_EXC_RSP, NVM_EXC_CR2, NVM_EXC_HAS_ERROR_CODE, NVM_EXC_VAL_COUNT
};

/*
 * NVM_MSG_STEP: the test that is running asks the VMM to act on the vCPU at
 * this point (host step), e.g. "migrate": save the whole vCPU, nested state
 * included, and restore it into a fresh VM. The sender sends val[NVM_STEP_NONCE]
 * and zeroes the rest; the VMM acts, then writes its reply into the
 * message's val[] in guest memory before the vCPU runs again, so L1 (or an
 * L2 whose port I/O reaches the VMM) reads what was done. A step outside a
 * test, for another test, or naming an unknown action ends the run as a
 * protocol error naming it.
 */
#define NVM_STEP_ACTION_MAX 32          /* bytes of the action name */
enum nvm_step_val {
	NVM_STEP_NONCE,         /* in: the sender's; out: unchanged                         */
	NVM_STEP_SEQ,           /* out: steps the VMM performed in this test, this one included */
	NVM_STEP_FLAGS,         /* out: kvm_nested_state.flags (KVM_STATE_NESTED_*) saved    */
	NVM_STEP_SIZE,          /* out: kvm_nested_state.size saved                          */
	NVM_STEP_PA,            /* out: hdr.svm.vmcb_pa / hdr.vmx.vmcs12_pa                  */
	NVM_STEP_NCR3,          /* out: from the blob: vmcb12 N_CR3 / vmcs12 EPT pointer (guest mode) */
	NVM_STEP_L1_CR3,        /* out: from the blob: L1's CR3 (vmcb01 save / vmcs12 HOST_CR3) */
	NVM_STEP_VMXON_PA,      /* out: hdr.vmx.vmxon_pa (VMX), 0 (SVM)                     */
};
/*
 * "migrate-after-vmrun" (SVM, vmm/step_singlestep.c) answers twice in the
 * same message: when asked (SEQ, the flags and size as they are then), and
 * when L1's next VMRUN has entered guest mode: a second SEQ and the reply of
 * a "migrate" there, with NVM_STEP_FLAGS bits 31:16 the flags of a second
 * save made in the new VM before it ran.
 */
#define NVM_STEP_FLAGS_SECOND_SHIFT 16

/*
 * Host step "migrate-events" (l2.migrate.events, vmm/step_events.c): in
 * guest mode, the VMM completes the exit, sets a pending NMI, a MOV-SS
 * interrupt shadow and (with KVM_CAP_EXCEPTION_PAYLOAD) a pending #PF with
 * error code and payload by KVM_SET_VCPU_EVENTS, reads them back, saves
 * and restores the vCPU into a fresh VM and reads them back there. Its
 * reply replaces val[2..7] of the migrate reply:
 */
enum nvm_step_events_val {
	NVM_STEP_EV_SET = 2,      /* out: NVM_EV_SET_* bits: what the VMM set                   */
	NVM_STEP_EV_EXC,          /* out: vector | has_error_code << 8 | interrupt nr << 16 |
				   * error_code << 32 set                                     */
	NVM_STEP_EV_PAYLOAD,      /* out: the exception's payload set (#PF: the faulting address) */
	NVM_STEP_EV_DIFF_SET,     /* out: NVM_EV_F_* fields KVM_GET_VCPU_EVENTS read back other
				   * than set (before the save)                                  */
	NVM_STEP_EV_DIFF_RESTORE, /* out: NVM_EV_F_* fields the fresh VM read back other than the
				   * old one did                                                 */
	NVM_STEP_EV_NESTED_FLAGS, /* out: kvm_nested_state.flags saved                          */
};
#define NVM_EV_SET_NMI       (1u << 0)    /* nmi.pending = 1                                   */
#define NVM_EV_SET_SHADOW    (1u << 1)    /* interrupt.shadow = KVM_X86_SHADOW_INT_MOV_SS      */
#define NVM_EV_SET_EXCEPTION (1u << 2)    /* exception.pending with payload (the cap offered)  */
/*
 * Host step "migrate-events-injected": the same with an external interrupt
 * in delivery (interrupt.injected, vector in NVM_STEP_EV_EXC bits 23:16)
 * and the pending #PF, no NMI, no shadow: a fault while delivering it.
 */
#define NVM_EV_SET_INTERRUPT (1u << 3)    /* interrupt.injected (not soft)                     */
/* The fields of struct kvm_vcpu_events compared, one bit each (NVM_EV_F_<id>), and their names. */
#define NVM_EV_FIELDS(X)                                                                  \
	X(EXC_INJECTED, "exception.injected") X(EXC_NR, "exception.nr")                      \
	X(EXC_HAS_ERROR_CODE, "exception.has_error_code") X(EXC_PENDING, "exception.pending") \
	X(EXC_ERROR_CODE, "exception.error_code") X(INT_INJECTED, "interrupt.injected")      \
	X(INT_NR, "interrupt.nr") X(INT_SOFT, "interrupt.soft") X(INT_SHADOW, "interrupt.shadow") \
	X(NMI_INJECTED, "nmi.injected") X(NMI_PENDING, "nmi.pending") X(NMI_MASKED, "nmi.masked") \
	X(SMI_SMM, "smi.smm") X(SMI_PENDING, "smi.pending") X(SMI_INSIDE_NMI, "smi.smm_inside_nmi") \
	X(SMI_LATCHED_INIT, "smi.latched_init") X(FLAGS, "flags")                           \
	X(TRIPLE_FAULT, "triple_fault.pending") X(HAS_PAYLOAD, "exception_has_payload")     \
	X(PAYLOAD, "exception_payload")
enum nvm_ev_field {
#define NVM_EV_FIELD_ENUM(id, name) NVM_EV_##id,
	NVM_EV_FIELDS(NVM_EV_FIELD_ENUM)
#undef NVM_EV_FIELD_ENUM
	NVM_EV_FIELD_COUNT
};
#define NVM_EV_F(id) (1u << NVM_EV_##id)

enum nvm_status { NVM_PASS = 0, NVM_FAIL = 1, NVM_SKIP = 2, NVM_STATUS_MAX };

struct nvm_msg {
	uint32_t magic;                  /* NVM_MSG_MAGIC */
	uint16_t type;                   /* enum nvm_msg_type */
	uint16_t size;                   /* bytes from magic to the last string byte */
	uint32_t arg;                    /* meaning per type (see above) */
	uint16_t str_len[NVM_MSG_STRS];  /* strings follow back to back, no NULs */
	uint16_t reserved;               /* zero */
	uint64_t val[NVM_MSG_VALS];      /* meaning per type */
	char str[];
} __attribute__((packed));

#define NVM_MSG_HDR_SIZE ((uint16_t)sizeof(struct nvm_msg))

/*
 * Messages without one exit each: L1 appends messages to a ring in its own
 * memory and OUTs the ring's GPA to NVM_PORT_RING only when a message must
 * reach the VMM now (a stage's end, DONE, a failure, every message under
 * --trace, or a full ring). The VMM decodes used bytes of data, message by
 * message, each exactly as a NVM_PORT_MSG message, and sets used to 0.
 *
 * L1 announces the ring (an OUT with used = 0) before its first message, so
 * that the VMM can also drain it after a crash, a hang, a halt or a signal:
 * what L1 said before it broke is never lost. The ring cannot move: an OUT
 * with another GPA is a protocol error, as is any header field out of range.
 */
#define NVM_RING_MAGIC 0x52564e4eu    /* "NNVR", little endian */
#define NVM_RING_MAX   (64u << 10)    /* largest data area the VMM accepts */
#define NVM_RING_ALIGN 8u             /* each message starts 8-byte aligned */

struct nvm_ring {
	uint32_t magic;                  /* NVM_RING_MAGIC */
	uint32_t size;                   /* bytes of data, a multiple of NVM_RING_ALIGN */
	uint32_t used;                   /* bytes of data holding messages; the VMM zeroes it */
	uint32_t reserved;               /* zero */
	uint8_t data[];
} __attribute__((packed));

#define NVM_RING_HDR_SIZE ((uint32_t)sizeof(struct nvm_ring))

/*
 * Trace levels, set by the VMM in the device tree (property "trace") and
 * carried by NVM_MSG_LOG in arg: L1 only sends lines at or below the level.
 */
enum nvm_trace { NVM_TRACE_OFF = 0, NVM_TRACE_STEPS = 1, NVM_TRACE_DEBUG = 2 };

#endif
