/* SPDX-License-Identifier: MIT */
/* L2 in 32-bit protected mode, with PAE paging or without paging (guest/l2_mode.c). */
#ifndef NESTVMM_GUEST_L2_MODE_H
#define NESTVMM_GUEST_L2_MODE_H

#include "test.h"

/*
 * Run L2's 32-bit code once, in protected mode with PAE paging (pae) or
 * paging off, behind nested paging or not, and check what it did and what
 * the HLT exit saved. The l2.mode.* tests are this one call.
 */
enum nvm_status l2_mode32_run(bool pae, bool nested_paging, struct stage_result *r);

#endif
