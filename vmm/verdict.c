// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verdict.h"

/* The registry (nestvmm/stages.h), as tables the VMM indexes by id. */
const char *const stage_name[NVM_STAGE_COUNT] = {
#define X(id, name, level, vendor, needs, requires, purpose) name,
	NVM_STAGES(X)
#undef X
};
const char *const stage_level[NVM_STAGE_COUNT] = {
#define X(id, name, level, vendor, needs, requires, purpose) level,
	NVM_STAGES(X)
#undef X
};
const int stage_needs[NVM_STAGE_COUNT] = {
#define X(id, name, level, vendor, needs, requires, purpose) needs,
	NVM_STAGES(X)
#undef X
};
const int stage_vendor[NVM_STAGE_COUNT] = {
#define X(id, name, level, vendor, needs, requires, purpose) vendor,
	NVM_STAGES(X)
#undef X
};
const uint32_t stage_requires[NVM_STAGE_COUNT] = {
#define X(id, name, level, vendor, needs, requires, purpose) requires,
	NVM_STAGES(X)
#undef X
};
const char *const stage_purpose[NVM_STAGE_COUNT] = {
#define X(id, name, level, vendor, needs, requires, purpose) purpose,
	NVM_STAGES(X)
#undef X
};
const char *const feature_name[NVM_FEATURE_COUNT] = {
#define X(id, name, what) name,
	NVM_FEATURES(X)
#undef X
};
const char *const feature_what[NVM_FEATURE_COUNT] = {
#define X(id, name, what) what,
	NVM_FEATURES(X)
#undef X
};

const char *status_name(enum nvm_status s)
{
	static const char *const names[] = { "pass", "fail", "skip", "pending" };
	return s <= NVM_STATUS_MAX ? names[s] : "?";
}

void verdict_init(struct verdict *v, const char *arch)
{
	memset(v, 0, sizeof(*v));
	v->arch = arch;
	v->last_stage = -1;
	v->host.nested_param = -1;
	v->host.evmcs_param = -1;
	v->host.fw_disabled = -1;
	v->host.kvm_api_version = -1;
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		v->stage[i].status = NVM_PENDING;
		v->stage[i].selected = true;
		v->stage[i].blocked_by = -1;
	}
}

void verdict_free(struct verdict *v)
{
	for (unsigned int i = 0; i < v->n_log; i++)
		free(v->log[i]);
	v->n_log = 0;
}

void verdict_set(struct verdict *v, enum nvm_stage id, enum nvm_status st,
		 const char *reason, const char *details)
{
	struct stage *s = &v->stage[id];

	s->status = st;
	snprintf(s->reason, sizeof(s->reason), "%s", reason ? reason : "");
	snprintf(s->details, sizeof(s->details), "%s", details ? details : "");
}

void verdict_setf(struct verdict *v, enum nvm_stage id, enum nvm_status st, const char *fmt, ...)
{
	char reason[VERDICT_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	v->stage[id].status = st;
	memcpy(v->stage[id].reason, reason, sizeof(reason));
}

void verdict_add_log(struct verdict *v, const char *line)
{
	char *copy;

	if (v->n_log >= VERDICT_LOG_MAX || !(copy = strdup(line))) {
		v->n_log_dropped++;
		return;
	}
	v->log[v->n_log++] = copy;
}

static bool run_broke(const struct verdict *v)
{
	return v->end != RUN_DONE && v->end != RUN_NOT_STARTED;
}

static void verdict_require(struct verdict *v);

void verdict_finish(struct verdict *v)
{
	bool blamed = false;

	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		struct stage *s = &v->stage[i];
		int need = stage_needs[i];

		if (s->status != NVM_PENDING || !s->selected)
			continue;
		if (need != NVM_STAGE_NONE && v->stage[need].status != NVM_PASS) {
			/* Blocked by an unsupported feature is itself unsupported, not "cannot test". */
			s->unsupported = v->stage[need].unsupported;
			/* Name the direct prerequisite, and the root cause once, not a chain. */
			int root = need;
			while (v->stage[root].blocked_by >= 0)
				root = v->stage[root].blocked_by;
			s->blocked_by = root;
			if (root == need)
				verdict_setf(v, i, NVM_SKIP, "needs %s, which %s: %s", stage_name[need],
					     v->stage[need].status == NVM_FAIL ? "failed" : "was skipped",
					     v->stage[need].reason);
			else
				verdict_setf(v, i, NVM_SKIP, "needs %s, which did not run because %s %s: %s",
					     stage_name[need], stage_name[root],
					     v->stage[root].status == NVM_FAIL ? "failed" : "was skipped",
					     v->stage[root].reason);
		} else if (run_broke(v) && !blamed) {
			/* The stage in progress, or the next one due, takes the blame. */
			verdict_set(v, i, v->end == RUN_INTERRUPTED ? NVM_SKIP : NVM_FAIL,
				    v->end_reason, v->vcpu_state);
			blamed = true;
		} else if (run_broke(v)) {
			verdict_setf(v, i, NVM_SKIP, "not reached: the run ended in %s",
				     stage_name[v->last_stage >= 0 ? v->last_stage : i - 1]);
		} else {
			verdict_set(v, i, NVM_FAIL, "L1 finished without reporting this stage", NULL);
		}
	}
	/*
	 * A run that broke after every stage had reported (a crash on the way
	 * out, a hang before "done") is still a failure: the last stage L1
	 * reached takes it, with its own result kept in the details.
	 */
	if (run_broke(v) && !blamed && !v->broke_in_test && v->end != RUN_INTERRUPTED &&
	    v->last_stage >= 0) {
		struct stage *s = &v->stage[v->last_stage];
		char was[VERDICT_REASON_MAX + 16];

		snprintf(was, sizeof(was), "had reported: %s", s->reason);
		verdict_setf(v, v->last_stage, NVM_FAIL, "L1 broke after this stage: %s", v->end_reason);
		snprintf(s->details, sizeof(s->details), "%s\n%s", was, v->vcpu_state);
	}
	verdict_require(v);
}

/* --strict / --require: a skip for a missing L0 feature the user insists on fails. */
static void verdict_require(struct verdict *v)
{
	uint32_t insist = v->strict ? ~0u : v->require;

	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		struct stage *s = &v->stage[i];
		char was[VERDICT_REASON_MAX];

		if (!s->selected || s->status != NVM_SKIP || !(s->unsupported & insist))
			continue;
		snprintf(was, sizeof(was), "%s", s->reason);
		verdict_setf(v, i, NVM_FAIL, "required by %s: %s", v->strict ? "--strict" : "--require", was);
	}
}

int verdict_exit_code(const struct verdict *v)
{
	bool skipped = false;

	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		if (v->stage[i].status == NVM_FAIL)
			return EXIT_FAIL;
		if (v->stage[i].status == NVM_SKIP && v->stage[i].selected && !v->stage[i].unsupported)
			skipped = true;
	}
	return skipped ? EXIT_SKIP : EXIT_PASS;
}
