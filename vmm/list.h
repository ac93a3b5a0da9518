/* SPDX-License-Identifier: MIT */
/* --list: the test registry for people (text) and programs (--format json). */
#ifndef NESTVMM_LIST_H
#define NESTVMM_LIST_H

#include <stdio.h>

#include "options.h"

/* Print the tests --tests selects (all by default) for every vendor; -1 on a write error. */
int list_tests(const struct options *o, FILE *out);

#endif
