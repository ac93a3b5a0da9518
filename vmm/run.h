/* SPDX-License-Identifier: MIT */
/* The vCPU loop: run L1 until it is done, breaks, or time runs out. */
#ifndef NESTVMM_RUN_H
#define NESTVMM_RUN_H

#include <stdio.h>

#include "kvm.h"
#include "verdict.h"

struct run_ctx {
	struct vm *vm;
	struct verdict *v;
	unsigned int timeout_s;
	int open_stage;            /* stage L1 began and has not ended, or -1 */
	int done;                  /* L1 sent NVM_MSG_DONE */
};

/* Catch SIGINT/SIGTERM/SIGALRM so that KVM_RUN returns and a verdict is written. */
int run_install_signals(void);
/* Run the vCPU; afterwards v->end says how it ended (v->end_reason in words). */
void run_vcpu(struct run_ctx *c);

#endif
