/* SPDX-License-Identifier: MIT */
/*
 * Rules of the stage protocol that the VMM enforces, whatever L1 claims.
 * They depend only on a stage's id, the stage it needs and the statuses so
 * far, so the same check serves any list of stages (nestvmm/stages.h today).
 */
#ifndef NESTVMM_PROTOCOL_H
#define NESTVMM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verdict.h"

/*
 * May L1 send a message of this type about stage `stage` (whose prerequisite
 * is `need`, NVM_STAGE_NONE for none) with status `status` (STAGE_END only)?
 * `statuses` are the stages' statuses so far (NVM_PENDING: not reported),
 * `done` whether L1 already sent DONE. 0, or -1 with `why` naming the rule.
 *   1. no stage begin, stage result or second DONE after DONE;
 *   2. a stage is begun only when the stage it needs passed (L1 skips the
 *      others without reporting them: the VMM names the cause);
 *   3. a stage passes only when the stage it needs passed.
 */
int protocol_check(uint16_t type, int stage, int need, enum nvm_status status,
		   const enum nvm_status *statuses, bool done, char *why, size_t len);

#endif
