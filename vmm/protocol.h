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

/*
 * Host steps (NVM_MSG_STEP): the actions the VMM performs on request, by
 * the name L1 sends. Each saves the whole vCPU and restores it into a
 * fresh VM (vmm/migrate.c), the restore ioctls in one valid order:
 * STEP_MIGRATE QEMU's (nested state after sregs and MSRs, before regs and
 * events), STEP_MIGRATE_NESTED_LAST nested state after everything else,
 * STEP_MIGRATE_NESTED_BEFORE_MSRS nested state after sregs, before MSRs.
 * STEP_MIGRATE_AFTER_VMRUN does not act at once: it arms a single-step of
 * L1 and migrates when its next VMRUN has entered guest mode (SVM only).
 */
enum step_action {
	STEP_MIGRATE, STEP_MIGRATE_NESTED_LAST, STEP_MIGRATE_NESTED_BEFORE_MSRS,
	/* appended (issue 11, vmm/step_singlestep.c): single-step L1 to its VMRUN, migrate there */
	STEP_MIGRATE_AFTER_VMRUN,
	STEP_MIGRATE_EVENTS,     /* l2.migrate.events: set event state, then migrate (step_events.h) */
	STEP_MIGRATE_EVENTS_INJECTED,   /* the same with an interrupt in delivery */
	STEP_ACTION_COUNT
};
extern const char *const step_action_name[STEP_ACTION_COUNT];

/*
 * May L1 ask for host step `action` for test `test` now? `open_stage` is
 * the test in progress (-1: none), `done` whether L1 sent DONE.
 *   4. a step belongs to the test in progress: not outside a test, not
 *      for another test;
 *   5. the action is one the VMM knows.
 * 0 with *out set, or -1 with `why` naming the rule and what L1 sent.
 */
int protocol_step(uint32_t test, const char *action, int open_stage, bool done,
		  enum step_action *out, char *why, size_t len);

#endif
