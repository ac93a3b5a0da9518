// SPDX-License-Identifier: MIT
#include <stdio.h>

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
