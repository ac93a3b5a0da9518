/* SPDX-License-Identifier: MIT */
/*
 * The verdict of a run: one result per stage (nestvmm/stages.h), the facts
 * gathered about the host, and how the run ended. Stages are data; the
 * formats (format_*.c) only render them.
 */
#ifndef NESTVMM_VERDICT_H
#define NESTVMM_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nestvmm/stages.h"
#include "nestvmm/wire.h"

#define VERDICT_REASON_MAX  512
#define VERDICT_DETAILS_MAX 4096
#define VERDICT_LOG_MAX     256     /* lines kept; the rest are counted */

/* A stage nobody reported yet has status NVM_STATUS_MAX ("pending"). */
#define NVM_PENDING NVM_STATUS_MAX

struct stage {
	enum nvm_status status;
	bool selected;                  /* asked for by this run */
	bool begun;                     /* L1 said it started it */
	int blocked_by;                 /* root stage that kept this one from running, or -1 */
	char reason[VERDICT_REASON_MAX];
	char details[VERDICT_DETAILS_MAX];
};

struct host_facts {
	char cpu_vendor[16];            /* CPUID.0 of the host: "AuthenticAMD" */
	char cpu_model[64];             /* /proc/cpuinfo "model name" */
	char cpu_flags[64];             /* the virtualization flags found: "svm npt" */
	char hypervisor[16];            /* CPUID 40000000h signature the host runs under, or "" */
	char kvm_module[32];            /* kvm_amd, kvm_intel, kvm_pvm, ... or "" */
	int nested_param;               /* /sys/module/<module>/parameters/nested: -1 unknown */
	int kvm_api_version;            /* -1 when /dev/kvm did not open */
	bool supported_cpuid_virt;      /* KVM_GET_SUPPORTED_CPUID offers VMX/SVM */
	int cap_nested_state;           /* KVM_CHECK_EXTENSION(KVM_CAP_NESTED_STATE) */
	char kernel_release[72];        /* /proc/sys/kernel/osrelease (uname -r), or "" */
	char kvm_build[320];            /* kvm and backend module identity from /sys/module:
					   "kvm build-id=45ad088e3173 taint=E; kvm_amd ..." */
};

enum run_end {
	RUN_NOT_STARTED, RUN_DONE, RUN_HALTED_EARLY, RUN_GUEST_EXCEPTION, RUN_GUEST_ASSERT,
	RUN_SHUTDOWN, RUN_INTERNAL_ERROR, RUN_FAIL_ENTRY, RUN_TIMEOUT, RUN_INTERRUPTED,
	RUN_PROTOCOL_ERROR, RUN_UNEXPECTED_EXIT, RUN_KVM_ERROR,
};

struct verdict {
	const char *arch;               /* "amd" / "intel" */
	struct stage stage[NVM_STAGE_COUNT];
	struct host_facts host;
	enum run_end end;
	char end_reason[VERDICT_REASON_MAX];  /* how the run ended, in one line */
	char vcpu_state[1024];                /* registers when it ended abnormally */
	int last_stage;                       /* last stage L1 began, or -1 */
	int signal;                           /* the signal that interrupted the run */
	bool strict;                          /* skips for missing host support fail */
	char *log[VERDICT_LOG_MAX];           /* L1's log lines (owned) */
	unsigned int n_log, n_log_dropped;
	double seconds;                       /* wall time of the run */
};

extern const char *const stage_name[NVM_STAGE_COUNT];
extern const char *const stage_level[NVM_STAGE_COUNT];
extern const int stage_needs[NVM_STAGE_COUNT];
const char *status_name(enum nvm_status s);

void verdict_init(struct verdict *v, const char *arch);
void verdict_free(struct verdict *v);
/* Record a stage's result (reason and details are copied, cut to fit). */
void verdict_set(struct verdict *v, enum nvm_stage id, enum nvm_status st,
		 const char *reason, const char *details);
void verdict_setf(struct verdict *v, enum nvm_stage id, enum nvm_status st,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void verdict_add_log(struct verdict *v, const char *line);
/*
 * After the run: give every stage still pending a status and a reason (not
 * selected, prerequisite did not pass, or never reached because the run
 * ended), and fail the stage that was in progress when the run broke.
 */
void verdict_finish(struct verdict *v);
/* 0 all passed, 1 a stage failed, 4 nothing failed but a stage was skipped. */
int verdict_exit_code(const struct verdict *v);

/* Exit codes (documented in README and the man page). */
enum {
	EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_SKIP = 4,
};

#endif
