/* SPDX-License-Identifier: MIT */
/*
 * The stages of a run, in order. Both sides compile this list: L1 reports
 * stages by id, and the VMM uses the list to name them, to check that L1
 * reports each stage at most once and in order, and to mark the stages a
 * crashed or hung guest never reached.
 *
 * X(id, name, level, needs): "needs" is the stage that must pass before this
 * one can run; a stage whose need did not pass is skipped, naming it.
 */
#ifndef NESTVMM_STAGES_H
#define NESTVMM_STAGES_H

#define NVM_STAGES(X)                                                         \
	X(HOST_KVM,      "host.kvm",          "host", NVM_STAGE_NONE)         \
	X(HOST_NESTED,   "host.nested",       "host", NVM_STAGE_HOST_KVM)     \
	X(L1_BOOT,       "l1.boot",           "l1",   NVM_STAGE_HOST_KVM)     \
	X(L1_CPUID,      "l1.cpuid",          "l1",   NVM_STAGE_L1_BOOT)      \
	X(L1_ENABLE,     "l1.enable",         "l1",   NVM_STAGE_L1_CPUID)     \
	X(L2_RUN,        "l2.run",            "l2",   NVM_STAGE_L1_ENABLE)    \
	X(L2_NESTED_PAGING, "l2.nested-paging", "l2", NVM_STAGE_L1_ENABLE)

enum nvm_stage {
#define NVM_STAGE_ENUM(id, name, level, needs) NVM_STAGE_##id,
	NVM_STAGES(NVM_STAGE_ENUM)
#undef NVM_STAGE_ENUM
	NVM_STAGE_COUNT,
	NVM_STAGE_NONE = -1
};

/* First stage that L1 itself reports; the ones before it are the VMM's. */
#define NVM_STAGE_FIRST_L1 NVM_STAGE_L1_BOOT

#endif
