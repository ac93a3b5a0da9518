/* SPDX-License-Identifier: MIT */
/*
 * Exit codes for `git bisect run` (--bisect): 0 good, 1 bad, 125 "cannot
 * test this commit, skip it". git treats every other code from 1 to 127 as
 * bad and 128 or more as "abort the bisection", so nestvmm's usual codes
 * (2 usage, 4 skip, 130/143 interrupted) must not reach it.
 */
#ifndef NESTVMM_BISECT_H
#define NESTVMM_BISECT_H

#include "nestvmm/stages.h"

struct verdict;

enum { BISECT_GOOD = 0, BISECT_BAD = 1, BISECT_UNTESTABLE = 125 };

/*
 * The first stage that exercises nesting itself (enable VMX/SVM); the ones
 * before it only prepare the test: KVM usable, nesting offered, L1 booted,
 * CPUID as set.
 */
#define BISECT_FIRST_NESTING_STAGE NVM_STAGE_L1_ENABLE

/*
 * The verdict as a bisect answer, first rule that applies:
 *   interrupted (SIGINT/SIGTERM)                          -> 125
 *   a nesting stage (l1.enable onwards) failed            -> 1
 *   a stage before it failed (no KVM, L1 did not boot)    -> 125
 *   a selected stage was skipped or never reported,
 *   or no stage was selected                              -> 125
 *   every selected stage passed                           -> 0
 */
int bisect_exit_code(const struct verdict *v);

/* Any other exit code of nestvmm as a bisect answer: 0 and 1 stay, the rest is 125. */
int bisect_from_exit(int code);

#endif
