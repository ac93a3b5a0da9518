// SPDX-License-Identifier: MIT
#include <stdio.h>
#include <string.h>

#include "nestvmm/wire.h"
#include "protocol.h"

static const char *status_word(enum nvm_status s)
{
	return s == NVM_FAIL ? "failed" : s == NVM_SKIP ? "was skipped" : "was not reported";
}

int protocol_check(uint16_t type, int stage, int need, enum nvm_status status,
		   const enum nvm_status *statuses, bool done, char *why, size_t len)
{
	const char *name = stage >= 0 && stage < NVM_STAGE_COUNT ? stage_name[stage] : "?";

	if (done && (type == NVM_MSG_STAGE_BEGIN || type == NVM_MSG_STAGE_END || type == NVM_MSG_DONE)) {
		snprintf(why, len, "rule: no stage results after DONE; L1 sent %s%s",
			 type == NVM_MSG_STAGE_BEGIN ? "a begin of " : type == NVM_MSG_STAGE_END ?
			 "a result of " : "DONE again", type == NVM_MSG_DONE ? "" : name);
		return -1;
	}
	if (type != NVM_MSG_STAGE_BEGIN && type != NVM_MSG_STAGE_END)
		return 0;
	if (need == NVM_STAGE_NONE || statuses[need] == NVM_PASS)
		return 0;
	if (type == NVM_MSG_STAGE_BEGIN) {
		snprintf(why, len, "rule: a stage runs only after the stage it needs passed; L1 began "
			 "%s, but %s %s", name, stage_name[need], status_word(statuses[need]));
		return -1;
	}
	if (status == NVM_PASS) {
		snprintf(why, len, "rule: a stage passes only when the stage it needs passed; L1 "
			 "reported %s passed, but %s %s", name, stage_name[need],
			 status_word(statuses[need]));
		return -1;
	}
	return 0;
}

const char *const step_action_name[STEP_ACTION_COUNT] = {
	[STEP_MIGRATE] = "migrate",
	[STEP_MIGRATE_NESTED_LAST] = "migrate-nested-last",
	[STEP_MIGRATE_NESTED_BEFORE_MSRS] = "migrate-nested-before-msrs",
	[STEP_MIGRATE_AFTER_VMRUN] = "migrate-after-vmrun",
	[STEP_MIGRATE_EVENTS] = "migrate-events",
	[STEP_MIGRATE_EVENTS_INJECTED] = "migrate-events-injected",
};

int protocol_step(uint32_t test, const char *action, int open_stage, bool done,
		  enum step_action *out, char *why, size_t len)
{
	const char *name = test < NVM_STAGE_COUNT ? stage_name[test] : "no such test";
	/* The action as L1 sent it (already sanitized), cut to a readable length. */
	int alen = (int)strnlen(action, NVM_STEP_ACTION_MAX);

	if (open_stage < 0) {
		snprintf(why, len, "rule: a host step belongs to the test in progress; L1 asked for "
			 "\"%.*s%s\" for test %u (%s) %s", alen, action,
			 action[alen] ? "..." : "", test, name,
			 done ? "after DONE" : "outside any test");
		return -1;
	}
	if (test != (uint32_t)open_stage) {
		snprintf(why, len, "rule: a host step belongs to the test in progress; L1 asked for "
			 "\"%.*s%s\" for test %u (%s) while %s is running", alen, action,
			 action[alen] ? "..." : "", test, name, stage_name[open_stage]);
		return -1;
	}
	for (int a = 0; a < STEP_ACTION_COUNT; a++)
		if (!strcmp(action, step_action_name[a])) {
			*out = (enum step_action)a;
			return 0;
		}
	/* The known actions, from the table. */
	char known[STEP_ACTION_COUNT * (NVM_STEP_ACTION_MAX + 2)];
	size_t k = 0;
	for (int a = 0; a < STEP_ACTION_COUNT; a++)
		k += (size_t)snprintf(known + k, sizeof(known) - k, "%s%s", a ? ", " : "",
				      step_action_name[a]);
	snprintf(why, len, "rule: a host step names an action the VMM knows (%s); %s asked "
		 "for unknown action \"%.*s%s\"", known, name, alen, action, action[alen] ? "..." : "");
	return -1;
}
