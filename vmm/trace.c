// SPDX-License-Identifier: MIT
#include <stdarg.h>
#include <stdio.h>

#include "trace.h"

bool trace_on;

void trace_line(const char *fmt, ...)
{
	va_list ap;

	fputs("[vmm] ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
