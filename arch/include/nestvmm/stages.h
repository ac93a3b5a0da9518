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
	/* SVM consistency checks and instructions (issue 10 items 2, 4; AMD only) */             \
	X(L2_CHECK_SVM_INVALID_STATE, "l2.check.svm.invalid-state", "l2", NVM_AMD,                \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "each APM 15.5.1 rule broken alone ends VMRUN in VMEXIT_INVALID with L1 as at VMRUN")    \
	X(L2_CHECK_SVM_VALID_UNUSUAL, "l2.check.svm.valid-unusual", "l2", NVM_AMD,                \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "unusual but legal VMCBs (CR0.CD, DR6/DR7, max ASID, null ES, maps at the limit) enter")  \
	X(L2_INSN_SVM_FAULTS, "l2.insn.svm.faults", "l2", NVM_AMD, NVM_STAGE_L1_ENABLE,            \
	  NVM_REQ_NONE,                                                                             \
	  "SVM instructions #UD with EFER.SVME=0; VMRUN/VMLOAD/VMSAVE #GP on bad addresses")       \
	X(L2_INSN_SVM_VMLOAD_VMSAVE, "l2.insn.svm.vmload-vmsave", "l2", NVM_AMD,                  \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "VMSAVE stores and VMLOAD loads FS/GS/TR/LDTR and the SYSCALL/SYSENTER MSRs; L2 sees them") \
	X(L2_INSN_SVM_HSAVE, "l2.insn.svm.hsave", "l2", NVM_AMD, NVM_STAGE_L1_ENABLE,              \
	  NVM_REQ_NONE,                                                                             \
	  "VM_HSAVE_PA refuses unaligned/out-of-range values (#GP); a new valid page works for VMRUN") \
	X(L2_INSN_SVM_GIF, "l2.insn.svm.gif", "l2", NVM_AMD, NVM_STAGE_L1_ENABLE, NVM_REQ(VGIF),    \
	  "L2's CLGI/STGI under virtual GIF change V_GIF; VMRUN loads it; an intercepted CLGI exits") \
	/* VMX consistency checks and instructions (SDM 27.2-27.4, 27.8, 31) */                   \
	X(L2_CHECK_VMX_CONTROLS, "l2.check.vmx.controls", "l2", NVM_INTEL, NVM_STAGE_L1_ENABLE,     \
	  NVM_REQ_NONE, "invalid VMX controls fail VMLAUNCH with VMfailValid(7), one row per rule") \
	X(L2_CHECK_VMX_HOST_STATE, "l2.check.vmx.host-state", "l2", NVM_INTEL,                      \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "invalid host-state fields fail VMLAUNCH with VMfailValid(8), one row per rule")         \
	X(L2_CHECK_VMX_GUEST_STATE, "l2.check.vmx.guest-state", "l2", NVM_INTEL,                    \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "invalid guest state exits with reason 33 (MSR loading: 34), bit 31 and the qualification") \
	X(L2_CHECK_VMX_VALID_UNUSUAL, "l2.check.vmx.valid-unusual", "l2", NVM_INTEL,                \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "unusual VMCS settings the SDM allows enter L2 (no over-strict checks)")                  \
	X(L2_INSN_VMX_VMFAIL_CODES, "l2.insn.vmx.vmfail-codes", "l2", NVM_INTEL,                    \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "VMCLEAR/VMPTRLD/VMREAD/VMWRITE/VMLAUNCH/VMRESUME fail with the SDM's error and RFLAGS")   \
	X(L2_INSN_VMX_VMXOFF_CYCLE, "l2.insn.vmx.vmxoff-cycle", "l2", NVM_INTEL,                    \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                        \
	  "VMXON in root fails (15), INVEPT/INVVPID bad types (28), VMXOFF/VMXON and relaunch") \
	/* intercept and exit reflection (issue 10 item 3) */                                    \
	X(L2_INTERCEPT_CPUID, "l2.intercept.cpuid", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "CPUID exits with leaf/subleaf; L2 gets L1's emulated registers (VMX: unconditional)")  \
	X(L2_INTERCEPT_RDTSC, "l2.intercept.rdtsc", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "RDTSC exits; L2 gets L1's emulated counter")                                            \
	X(L2_INTERCEPT_VMX_RDTSCP, "l2.intercept.vmx.rdtscp", "l2", NVM_INTEL, NVM_STAGE_L1_ENABLE, \
	  NVM_REQ_NONE, "RDTSCP exits (RDTSC exiting, enable RDTSCP); L2 gets L1's counter and TSC_AUX") \
	X(L2_INTERCEPT_RDPMC, "l2.intercept.rdpmc", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "RDPMC exits with ECX; L2 gets L1's emulated count")                                     \
	X(L2_INTERCEPT_INVLPG, "l2.intercept.invlpg", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "INVLPG exits, with its linear address where reported (VMX; SVM decode assists)")        \
	X(L2_INTERCEPT_PAUSE, "l2.intercept.pause", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "PAUSE exits at the PAUSE; L2 goes on after it")                                         \
	X(L2_INTERCEPT_CR0, "l2.intercept.cr0", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,  \
	  "CR0 reads/writes, LMSW, CLTS exit as SVM's intercepts / VMX's mask and shadow define")  \
	X(L2_INTERCEPT_CR3, "l2.intercept.cr3", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,  \
	  "MOV from/to CR3 exit with the register; L2 gets L1's value")                            \
	X(L2_INTERCEPT_CR4, "l2.intercept.cr4", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,  \
	  "MOV to CR4 exits (SVM: write intercept; VMX: owned bit vs shadow), unowned bits run in L2") \
	X(L2_INTERCEPT_CR8, "l2.intercept.cr8", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,  \
	  "MOV to/from CR8 exit with the register; L2 gets L1's TPR value")                        \
	X(L2_INTERCEPT_DR, "l2.intercept.dr", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,    \
	  "MOV from/to DR7 and to DR0 exit with DR number, direction and register")                \
	X(L2_INTERCEPT_MSR_BITMAP, "l2.intercept.msr-bitmap", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,  \
	  NVM_REQ_NONE, "RDMSR/WRMSR exit per MSR and direction as the bitmap says, uncovered MSRs always") \
	X(L2_INTERCEPT_IO_BITMAP, "l2.intercept.io-bitmap", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,    \
	  NVM_REQ_NONE, "IN/OUT/INS/OUTS exit when a byte they touch is marked, with port, size, string/REP") \
	X(L2_INTERCEPT_SVM_CR0_SELECTIVE, "l2.intercept.svm.cr0-selective", "l2", NVM_AMD,          \
	  NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,                                                          \
	  "selective CR0 write: TS/MP changes run in L2, other MOV to CR0 and LMSW exit as CR0_SEL_WRITE") \
	X(L2_INTERCEPT_NONE, "l2.intercept.none", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "instructions L1 does not intercept run in L2 without an exit (VMX: CPUID always exits)") \
	/* event injection and interrupts/NMI (issue 10 items 5-6) */                           \
	X(L2_EVENT_INJECT_EXTINT, "l2.event.inject-extint", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,   \
	  NVM_REQ_NONE, "injected external interrupts reach L2's IDT once, return RIP and IF kept") \
	X(L2_EVENT_INJECT_NMI, "l2.event.inject-nmi", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,         \
	  NVM_REQ_NONE, "an injected NMI runs L2's NMI handler once; an exit inside it repeats nothing") \
	X(L2_EVENT_INJECT_SOFTINT, "l2.event.inject-softint", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, \
	  NVM_REQ_NONE, "injected INT n, INT3, INTO return past their 2/1/1-byte instruction")    \
	X(L2_EVENT_EXITINTINFO, "l2.event.exitintinfo", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,       \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "an NPF/EPT violation during event delivery reports the event; re-injected, it runs once") \
	X(L2_IRQ_WINDOW, "l2.irq.window", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,        \
	  "interrupt-window exit (VINTR / reason 7) exactly after STI and its shadow, none at IF=0") \
	X(L2_IRQ_NMI_WINDOW, "l2.irq.nmi-window", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE, \
	  "NMI blocked until the handler's IRET: NMI-window exit (VMX) / IRET intercept (SVM) there") \
	X(L2_IRQ_SVM_VIRQ, "l2.irq.svm.virq", "l2", NVM_AMD, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,     \
	  "V_IRQ waits for L2's IF (V_INTR_MASKING), is taken at V_INTR_VECTOR, then V_IRQ clears") \
	/* nested paging, TLB, TSC (issue 10 items 7-9) */                                       \
	X(L2_NPT_FETCH, "l2.npt.fetch", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ(NESTED_PAGING), \
	  "a fetch from a non-executable NPT/EPT page faults as a fetch at its GPA")                \
	X(L2_NPT_PERMISSIONS, "l2.npt.permissions", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,           \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "reads/writes vs not-present, read-only, read/write leaves: the access and rights reported") \
	X(L2_NPT_PT_WALK, "l2.npt.pt-walk", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,                   \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "a nested fault in L2's own page walk is reported as a guest table access, with its GPA") \
	X(L2_NPT_RESERVED, "l2.npt.reserved", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,                 \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "a reserved bit in a nested leaf: NPF with RSVD / EPT misconfiguration, with the GPA")   \
	X(L2_NPT_LARGE_PAGES, "l2.npt.large-pages", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,           \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "1 GiB and 2 MiB nested leaves map L2's data; a split 2 MiB leaf keeps the other pages") \
	X(L2_NPT_AD_BITS, "l2.npt.ad-bits", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,                   \
	  NVM_REQ(NESTED_PAGING),                                                                   \
	  "the nested walk sets the leaf's accessed flag on a read, dirty on a write")              \
	X(L2_TSC_OFFSET, "l2.tsc.offset", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ_NONE,         \
	  "L2's RDTSC = L1's TSC + TSC offset (+2^62, -2^62), increasing across exits")          \
	X(L2_TLB_REMAP, "l2.tlb.remap", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE, NVM_REQ(NESTED_PAGING), \
	  "L1 remaps an L2 GPA, flushes (TLB_CONTROL, new ASID / INVEPT types); L2 reads the new page") \
	/* save/restore (issue 11): host steps that migrate the vCPU into a fresh VM */            \
	X(L2_MIGRATE_IN_L2, "l2.migrate.in-l2", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,                \
	  NVM_REQ(NESTED_STATE),                                                                    \
	  "save/restore into a fresh VM while L2 runs (its OUT passed through): L2's GPRs, memory " \
	  "and checksum survive, L1 gets its exit; nested paging off and on")                       \
	X(L2_MIGRATE_BETWEEN_ENTRIES, "l2.migrate.between-entries", "l2", NVM_ANY,                 \
	  NVM_STAGE_L1_ENABLE, NVM_REQ(NESTED_STATE),                                               \
	  "save/restore into a fresh VM in L1 between two L2 entries: L2 resumes at its RIP with "  \
	  "its GPRs and memory; nested paging off and on")                                          \
	X(L2_MIGRATE_RESTORE_ORDER, "l2.migrate.restore-order", "l2", NVM_ANY,                     \
	  NVM_STAGE_L1_ENABLE, NVM_REQ(NESTED_STATE),                                               \
	  "save/restore in L2 with KVM_SET_NESTED_STATE in three valid places among the restore "   \
	  "ioctls; after each, L2's next exit reaches L1 with its GPRs and memory intact") \
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
	  "L2 runs 32-bit code in protected mode with paging off (unrestricted guest); the HLT exit saves its 32-bit state") \
	/* save/restore right after the entry (issue 11) */                                        \
	X(L2_MIGRATE_AFTER_ENTRY, "l2.migrate.after-entry", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,    \
	  NVM_REQ(NESTED_STATE),                                                                    \
	  "save/restore at L2's first instruction (its OUT) and, on SVM, between VMRUN and L2 "   \
	  "(RUN_PENDING): L2 starts with L1's GPRs, RSP, RFLAGS; L1 gets its exits") \
	/* save/restore of vCPU events (issue 11): KVM_SET_VCPU_EVENTS in L2, then migrate */       \
	X(L2_MIGRATE_EVENTS, "l2.migrate.events", "l2", NVM_ANY, NVM_STAGE_L1_ENABLE,              \
	  NVM_REQ(NESTED_STATE),                                                                    \
	  "pending #PF (payload), NMI and shadow set in L2, saved/restored: read back the same; "   \
	  "L1 gets the #PF exit first, then the NMI as the vendor's architecture says")

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
