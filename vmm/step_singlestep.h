/* SPDX-License-Identifier: MIT */
/*
 * Host step "migrate-after-vmrun" (SVM): save/restore the vCPU in the
 * window where KVM has emulated L1's VMRUN but L2 has not run an
 * instruction (KVM_STATE_NESTED_RUN_PENDING), the window a live migration
 * hits when it stops a vCPU right after a VMRUN exit. See step_singlestep.c.
 */
#ifndef NESTVMM_STEP_SINGLESTEP_H
#define NESTVMM_STEP_SINGLESTEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

struct run_ctx;

/* A "migrate-after-vmrun" in flight, in struct run_ctx. */
struct step_singlestep {
	bool armed;                /* single-stepping L1 until it is in guest mode */
	uint64_t msg_gpa;          /* the step's message: the second reply goes there */
	unsigned long count;       /* single steps taken so far */
};

/*
 * The action was asked for (protocol_step accepted it): check that the vCPU
 * is an SVM one in L1, arm, and write the first reply. RUN_NOT_STARTED (0)
 * to go on, else how the run ends, with why.
 */
enum run_end step_singlestep_arm(struct run_ctx *c, char *why, size_t len);
/* Around each KVM_RUN while armed: guest debug on before (run), off after (!run). */
enum run_end step_singlestep_debug(struct run_ctx *c, bool run, char *why, size_t len);
/* A KVM_EXIT_DEBUG while armed: one step; in guest mode, the save/restores and the reply. */
enum run_end step_singlestep_exit(struct run_ctx *c, char *why, size_t len);
/* The test ended with status while armed: disarm; a pass (the step never done) ends the run. */
enum run_end step_singlestep_stage_end(struct run_ctx *c, enum nvm_status status, char *why,
				       size_t len);

#endif
