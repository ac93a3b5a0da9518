/* SPDX-License-Identifier: MIT */
/*
 * --trace: a narration of each step, in order, on standard error. Lines from
 * the VMM start with "[vmm]", lines L1 sends with "[l1]". Off by default,
 * and then each call site costs one test of a global.
 */
#ifndef NESTVMM_TRACE_H
#define NESTVMM_TRACE_H

#include <stdbool.h>

extern bool trace_on;
void trace_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "[who] text" on stderr, text neutralised as in the text format (no forged lines). */
void trace_text(const char *who, const char *text);
#define TRACE(...) do { if (trace_on) trace_line(__VA_ARGS__); } while (0)

#endif
