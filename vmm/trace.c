// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "format.h"
#include "trace.h"

bool trace_on;

/* One line per event: what the guest or host put into it is neutralised. */
void trace_line(const char *fmt, ...)
{
	char line[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	trace_text("vmm", line);
}

void trace_text(const char *who, const char *text)
{
	fprintf(stderr, "[%s] ", who);
	format_text_safe(stderr, text);
	fputc('\n', stderr);
}
