/* SPDX-License-Identifier: MIT */
/*
 * Which tests of the registry a run includes: --tests patterns with
 * kvm-unit-tests' semantics (globs, comma-separated, repeatable; "-PATTERN"
 * excludes), the vendor under test, and the prerequisites of what is left.
 * Tests not included are absent from the verdict.
 */
#ifndef NESTVMM_SELECT_H
#define NESTVMM_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nestvmm/stages.h"

#define SELECT_PATTERNS_MAX 64

struct selection {
	unsigned int n;
	const char *pattern[SELECT_PATTERNS_MAX];  /* "-" prefix: exclude */
	char buf[4096];                            /* the patterns' text */
	size_t used;
};

/* Add the comma-separated patterns of one --tests argument; -1 with err if one matches nothing. */
int select_parse(struct selection *s, const char *arg, char *err, size_t errlen);
/*
 * The tests this run includes, for vendor NVM_AMD / NVM_INTEL: no pattern
 * means all; only exclusions mean all but those; host.* and every
 * prerequisite of an included test are always included.
 */
void select_apply(const struct selection *s, int vendor, bool included[NVM_STAGE_COUNT]);
/* --require nrips,vgif: NVM_REQ() bits; -1 with err naming an unknown feature. */
int select_parse_features(const char *arg, uint32_t *mask, char *err, size_t errlen);
/* "nrips, vgif" into buf. */
const char *select_feature_list(uint32_t mask, char *buf, size_t size);

#endif
