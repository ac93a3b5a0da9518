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

#define VERDICT_REASON_MAX  1024
#define HOST_MISSING_MAX    6
#define VERDICT_DETAILS_MAX 4096
#define VERDICT_LOG_MAX     256     /* lines kept; the rest are counted */

/* A stage nobody reported yet has status NVM_STATUS_MAX ("pending"). */
#define NVM_PENDING NVM_STATUS_MAX

struct stage {
	enum nvm_status status;
	bool selected;                  /* in this run (select.h); the rest are absent from the verdict */
	uint32_t unsupported;           /* skipped: the L0 lacks these NVM_REQ() features */
	double seconds;                 /* from L1's begin to its end of this stage */
	double begun_at;                /* monotonic seconds at the begin (run.c) */
	bool begun;                     /* L1 said it started it */
	int blocked_by;                 /* root stage that kept this one from running, or -1 */
	unsigned int migrations;        /* --migrate: save/restores into a fresh VM during it */
	char reason[VERDICT_REASON_MAX];
	char details[VERDICT_DETAILS_MAX];
};

struct hypervisor;

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
	/* When the host is itself a VM: who runs it (hypervisor.c) and how that was seen. */
	bool hv_bit;                    /* CPUID.1:ECX[31] */
	char hv_behind[16];             /* signature at 4000_0100h (KVM/Xen behind Hyper-V's interface) */
	char hv_user[16];               /* 4000_0000h in user mode, when it differs (PVM guests) */
	const struct hypervisor *outer; /* NULL: no hypervisor seen */
	const char *outer_via;          /* "cpuid", "cpuid 0x40000100", "dmi", "cpuid+dmi" */
	char dmi_vendor[64], dmi_product[64];
	bool cpu_has_virt;              /* CPUID reports VMX/SVM (the kernel may still hide the flag) */
	/* Hyper-V's nesting enlightenments (CPUID 4000_0004h, 4000_000Ah) and KVM's use of them. */
	bool hv_leaves;
	uint32_t hv_hints, hv_nested;   /* 4000_0004h EAX, 4000_000Ah EAX */
	int evmcs_param;                /* <module>/parameters/enlightened_vmcs: 1, 0, -1 none */
	/* Firmware switch (firmware.c): 1 disabled, 0 enabled, -1 unknown. */
	int fw_disabled;
	char fw_source[16];             /* "msr", "kernel-log", "" */
	char fw_evidence[256];
	/* host.nested's missing pieces, each with the exact command or setting that fixes it. */
	unsigned int n_missing;
	struct host_missing {
		char piece[24];         /* "outer-hypervisor", "firmware", "nested-param", ... */
		char remedy_id[48];
		char remedy[640];
	} missing[HOST_MISSING_MAX];
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
	unsigned int restarts;                /* fresh L1 boots after a test broke L1 */
	unsigned long messages;               /* L1's messages decoded, over all boots ... */
	unsigned long message_exits;          /* ... and the OUTs that carried them (wire.h ring) */
	unsigned long migrations;             /* --migrate: save/restores into a fresh VM, in all */
	bool migrate;                         /* --migrate was given */
	bool broke_in_test;                   /* the run broke inside a test, which took the blame */
	bool strict;                          /* skips for missing host support fail */
	uint32_t require;                     /* --require: unsupported skips of these fail */
	bool verbose;                         /* text: passing tests' details too */
	char *log[VERDICT_LOG_MAX];           /* L1's log lines (owned) */
	unsigned int n_log, n_log_dropped;
	double seconds;                       /* wall time of the run */
	int exit_override;                    /* nonzero: exit code after an output failed (output.h) */
};

extern const char *const stage_name[NVM_STAGE_COUNT];
extern const char *const stage_level[NVM_STAGE_COUNT];
extern const int stage_needs[NVM_STAGE_COUNT];
extern const int stage_vendor[NVM_STAGE_COUNT];          /* NVM_ANY / NVM_AMD / NVM_INTEL */
extern const uint32_t stage_requires[NVM_STAGE_COUNT];   /* NVM_REQ() mask */
extern const char *const stage_purpose[NVM_STAGE_COUNT];
extern const char *const feature_name[NVM_FEATURE_COUNT];
extern const char *const feature_what[NVM_FEATURE_COUNT];
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
/*
 * 0 all passed, 1 a stage failed, 4 nothing failed but a stage was skipped;
 * a skip for an unsupported L0 feature counts as passed (verdict_finish has
 * already turned it into a failure under --strict or --require).
 */
int verdict_exit_code(const struct verdict *v);

/* Exit codes (documented in README and the man page). */
enum {
	EXIT_PASS = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_OUTPUT = 3, EXIT_SKIP = 4,
};

#endif
