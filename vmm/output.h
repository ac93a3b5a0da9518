/* SPDX-License-Identifier: MIT */
/* Writing verdicts: to standard output, or atomically to a file (temp file, then rename). */
#ifndef NESTVMM_OUTPUT_H
#define NESTVMM_OUTPUT_H

#include <stddef.h>

#include "options.h"
#include "verdict.h"

/* Fail early, before the run, when an output file cannot be created. */
int output_check_writable(const struct output *o, char *err, size_t errlen);
/* Write one output; 0, or -1 with err. A failed write leaves no partial file. */
int output_write(const struct output *o, const struct verdict *v, char *err, size_t errlen);

#endif
