/* SPDX-License-Identifier: MIT */
/* Renderers of a verdict; each only reads it. */
#ifndef NESTVMM_FORMAT_H
#define NESTVMM_FORMAT_H

#include <stdbool.h>
#include <stdio.h>

struct verdict;

enum format { FORMAT_TEXT, FORMAT_JSON, FORMAT_COUNT };

/* "text" -> FORMAT_TEXT; -1 for an unknown name. */
int format_by_name(const char *name);
const char *format_name(enum format f);
void format_write(enum format f, const struct verdict *v, FILE *out, bool colour);

void format_text(const struct verdict *v, FILE *out, bool colour);
void format_json(const struct verdict *v, FILE *out);
/* A JSON string literal, quotes included, with every needed escape. */
void json_string(FILE *out, const char *s);

#endif
