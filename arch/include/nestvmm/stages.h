/* SPDX-License-Identifier: MIT */
/*
 * The test registry: every stage and test of a run, in order. Both sides
 * compile this one list: L1 runs tests by id (its function is
 * nvm_test_<ID>, in the test's own file), the VMM names them, selects them
 * (--tests), lists them (--list), checks that L1 reports each at most once
 * and in order, and marks the ones a crashed or hung guest never reached.
 *
 * X(id, name, level, vendor, needs, requires, purpose)
 *   name      l<level>.<area>.<what>: dashboards key on it, never rename one
 *   vendor    NVM_ANY, NVM_AMD or NVM_INTEL: tests for the other vendor are
 *             absent from the verdict
 *   needs     the stage that must have passed first (NVM_STAGE_NONE: none)
 *   requires  NVM_REQ() mask of optional L0 features (nestvmm/features.h);
 *             missing ones make the test skip as "unsupported"
 *
 * Adding a test: one file (guest/tests/ for both vendors,
 * arch/<vendor>/guest/tests/ for one) and one line here.
 */
#ifndef NESTVMM_STAGES_H
#define NESTVMM_STAGES_H

#include "nestvmm/features.h"

#define NVM_ANY   0
#define NVM_AMD   1
#define NVM_INTEL 2

#define NVM_STAGES(X)                                                                          \
	X(HOST_KVM,    "host.kvm",    "host", NVM_ANY, NVM_STAGE_NONE, NVM_REQ_NONE,              \
	  "/dev/kvm opens, API version 12, the capabilities nestvmm uses")                          \
	X(HOST_NESTED, "host.nested", "host", NVM_ANY, NVM_STAGE_HOST_KVM, NVM_REQ_NONE,          \
	  "the host's KVM offers nested VMX/SVM: module, parameter, CPU flags, supported CPUID")    \
	X(L1_BOOT,     "l1.boot",     "l1",   NVM_ANY, NVM_STAGE_HOST_KVM, NVM_REQ_NONE,          \
	  "L1 runs in 64-bit mode on its own GDT/IDT and gets its exceptions")                     \
	X(L1_CPUID,    "l1.cpuid",    "l1",   NVM_ANY, NVM_STAGE_L1_BOOT, NVM_REQ_NONE,           \
	  "L1 sees exactly the CPUID values the VMM set")                                           \
	X(L1_ENABLE,   "l1.enable",   "l1",   NVM_ANY, NVM_STAGE_L1_CPUID, NVM_REQ_NONE,          \
	  "L1 turns VMX/SVM on (EFER.SVME / VMXON)")                                                \
	X(L2_RUN,      "l2.run",      "l2",   NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,         \
	  "L2 runs C code on its own stack and IDT, hypercalls to L1, GPRs survive each exit")     \
	X(L2_NESTED_PAGING, "l2.nested-paging", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,               \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "L2 behind NPT/EPT: a write to an unmapped GPA exits with its address, L1 maps it, L2 retries") \
	X(L2_EXCEPTION_INTERCEPT, "l2.exception.intercept", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,   \
	  NVM_REQ_NONE, "intercepted #UD and #GP exit with vector, error code and the faulting RIP") \
	X(L2_EVENT_INJECT, "l2.event.inject", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,    \
	  "exceptions L1 injects reach L2's IDT with their error code and return RIP")            \
	X(L2_INTERCEPT_HLT, "l2.intercept.hlt", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,  \
	  "HLT in L2 exits at the HLT; L2 goes on after L1 steps over it")                        \
	X(L2_BENCH_ROUND_TRIP, "l2.bench.round-trip", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,         \
	  NVM_REQ_NONE,                                                                             \
	  "cycles per L1 -> L2 -> L1 round trip (hypercall exit), without and with nested paging") \
	/* entry/exit state transfer (issue 10 item 1) */                                          \
	X(L2_STATE_CONTROL_REGS, "l2.state.control-regs", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,     \
	  NVM_REQ_NONE, "CR0, CR2, CR3, CR4 and EFER L2 wrote are in the VMCB/VMCS after the exit and L2's again after the entry") \
	X(L2_STATE_SEGMENTS, "l2.state.segments", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "segment registers (selector, base, limit, attributes), GDTR and IDTR L2 loaded are saved at the exit and L2's again after the entry") \
	X(L2_STATE_RFLAGS_RSP_RIP, "l2.state.rflags-rsp-rip", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,  \
	  NVM_REQ_NONE, "RIP, RSP, RFLAGS and RAX at the exit are L2's; L1's RFLAGS and RAX reach L2 at the entry") \
	X(L2_STATE_DEBUG, "l2.state.debug", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,       \
	  "L2's DR7 is saved at the exit and loaded at the entry; L2's DR0-DR3 stay in the CPU for L1") \
	X(L2_STATE_INTERRUPT_SHADOW, "l2.state.interrupt-shadow", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, \
	  NVM_REQ_NONE, "exits right after STI / MOV SS report the interrupt shadow, others do not") \
	X(L2_STATE_L1_RESTORED, "l2.state.l1-restored", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,       \
	  NVM_REQ_NONE, "after L2 changed them, the exit gives L1 its CRs, EFER, segments, GDTR/IDTR, DR7, RFLAGS as the manual defines") \
	X(L2_MODE_PAE, "l2.mode.pae", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,             \
	  "L2 runs 32-bit code in protected mode with PAE paging; the HLT exit saves its 32-bit state") \
	X(L2_MODE_SVM_PROTECTED32, "l2.mode.svm.protected32", "l2", NVM_AMD, NVM_STAGE_L1_ENABLE,  \
	  NVM_REQ_NONE, "L2 runs 32-bit code in protected mode with paging off; the HLT exit saves its 32-bit state") \
	X(L2_MODE_VMX_PROTECTED32, "l2.mode.vmx.protected32", "l2", NVM_INTEL, NVM_STAGE_L1_ENABLE, \
	  NVM_REQ(UNRESTRICTED) | NVM_REQ(NESTED_PAGING),                                           \
	  "L2 runs 32-bit code in protected mode with paging off (unrestricted guest); the HLT exit saves its 32-bit state")

enum nvm_stage {
#define NVM_STAGE_ENUM(id, name, level, vendor, needs, requires, purpose) NVM_STAGE_##id,
	NVM_STAGES(NVM_STAGE_ENUM)
#undef NVM_STAGE_ENUM
	NVM_STAGE_COUNT,
	NVM_STAGE_NONE = -1
};

/* First stage that L1 itself reports; the ones before it are the VMM's. */
#define NVM_STAGE_FIRST_L1 NVM_STAGE_L1_BOOT

#endif
