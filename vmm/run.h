/* SPDX-License-Identifier: MIT */
/* The vCPU loop: run L1 until it is done, breaks, or time runs out. */
#ifndef NESTVMM_RUN_H
#define NESTVMM_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "kvm.h"
#include "migrate.h"
#include "step_singlestep.h"
#include "verdict.h"

struct run_ctx {
	struct vm *vm;
	struct verdict *v;
	unsigned int timeout_s;
	int open_stage;            /* stage L1 began and has not ended, or -1 */
	int done;                  /* L1 sent NVM_MSG_DONE */
	bool ring_known;           /* L1 announced its message ring (nestvmm/wire.h) ... */
	uint64_t ring_gpa;         /* ... here */
	double resumed_at;         /* when L1 last went back to running (batched BEGINs start there) */
	uint64_t msg_gpa;          /* where the message being handled lies (a step's reply goes there) */
	unsigned int steps;        /* host steps performed in the open test (NVM_MSG_STEP) */
	bool migrate;              /* --migrate: save/restore into a fresh VM after every exit */
	struct step_singlestep ss; /* host step migrate-after-vmrun in flight (step_singlestep.c) */
};

/*
 * Catch SIGINT/SIGTERM/SIGHUP/SIGALRM so that KVM_RUN returns and a verdict
 * is written; only our own timer's SIGALRM is a timeout.
 */
int run_install_signals(void);
/* The last of those signals caught (0: none), e.g. while outputs are written. */
int run_signal_pending(void);
/* The run took the signal into its verdict: forget it. */
void run_signal_clear(void);
/*
 * vm_migrate on c->vm for a host step, with the signal handler kept off the
 * kvm_run that goes away. 0, or -1 with err.
 */
int run_migrate(struct run_ctx *c, enum migrate_order order, struct migrate_info *mi, char *err);
/* Run the vCPU; afterwards v->end says how it ended (v->end_reason in words). */
void run_vcpu(struct run_ctx *c);

#endif
