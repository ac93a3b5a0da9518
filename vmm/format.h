/* SPDX-License-Identifier: MIT */
/* Renderers of a verdict; each only reads it. */
#ifndef NESTVMM_FORMAT_H
#define NESTVMM_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct verdict;

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_KTAP, FORMAT_JUNIT, FORMAT_COUNT };

/* The names, for --help and error messages: "text, json, ktap, junit". */
#define FORMAT_NAMES "text, json, ktap, junit"

/* "text" -> FORMAT_TEXT; -1 for an unknown name. */
int format_by_name(const char *name);
const char *format_name(enum format f);
void format_write(enum format f, const struct verdict *v, FILE *out, bool colour);

void format_text(const struct verdict *v, FILE *out, bool colour);
void format_json(const struct verdict *v, FILE *out);
/* KTAP version 1 (Documentation/dev-tools/ktap.rst): one subtest per level. */
void format_ktap(const struct verdict *v, FILE *out);
/* JUnit XML: one <testsuite> per level, one <testcase> per stage. */
void format_junit(const struct verdict *v, FILE *out);

/*
 * Guest or host text on one line of a text output (the table, --trace):
 * newlines, tabs, other controls and non-UTF-8 bytes as \n, \t, \xNN.
 */
void format_text_safe(FILE *out, const char *s);
/* Length of a valid UTF-8 sequence starting at s[0] >= 0x80, or 0. */
size_t format_utf8_len(const unsigned char *s);
/*
 * A JSON string literal, quotes included, with every needed escape; valid
 * UTF-8 is kept, other bytes >= 0x80 become \ufffd.
 */
void json_string(FILE *out, const char *s);
/*
 * XML character data (attr: an attribute value in double quotes). Markup is
 * escaped; bytes XML 1.0 cannot carry (controls, invalid UTF-8, U+FFFE/F)
 * become U+FFFD, so any input gives well-formed XML.
 */
void xml_text(FILE *out, const char *s, bool attr);

/*
 * Stages grouped by level ("host", "l1", "l2"), in stage order: ids
 * [first, end) of which `count` are in this run (stage.selected). Levels
 * with none in the run are left out.
 */
struct level_span {
	const char *name;
	int first, end, count;
};
#define FORMAT_LEVELS_MAX 8
int format_levels(const struct verdict *v, struct level_span *spans, int max);

/* "done", "timeout", ...: how the run ended, as one word. */
const char *format_end_name(int run_end);
/* "pass", "fail" or "skip" for an exit code of verdict_exit_code(). */
const char *format_result_name(int exit_code);
/*
 * The exit code the formats report: verdict_exit_code(), or 128 + signal
 * for an interrupted run, as main() exits (without --bisect).
 */
int format_exit_code(const struct verdict *v);

#endif
