/* SPDX-License-Identifier: MIT */
/*
 * What a test file includes. A test is one function,
 *	NVM_TEST(L2_RUN) { ... return stage_pass(r, "..."); }
 * named after its id in the registry (nestvmm/stages.h), which holds the rest
 * of its description. The runner (guest/main.c) has already checked its
 * vendor, its prerequisite and its required features, and gives it a fresh
 * arena: whatever it page_alloc's is released after it returns.
 */
#ifndef NESTVMM_GUEST_TEST_H
#define NESTVMM_GUEST_TEST_H

#include "l2.h"

#define NVM_TEST(id) enum nvm_status nvm_test_##id(struct stage_result *r)

#define NVM_TEST_DECL(id, name, level, vendor, needs, requires, purpose) NVM_TEST(id);
NVM_STAGES(NVM_TEST_DECL)
#undef NVM_TEST_DECL

#endif
