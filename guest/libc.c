// SPDX-License-Identifier: MIT
/*
 * The few C library functions L1 and libfdt use. Plain loops: this code is
 * built without SSE, and on emulating L0s every instruction costs the same.
 */
#include "l1.h"

/*
 * Word loops, not REP MOVSB/STOSB: an L0 that emulates ring-0 code (kvm_pvm)
 * runs a REP string instruction far slower than the equivalent loop.
 */
void *memcpy(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;

	for (; n >= 8; n -= 8, dp += 8, sp += 8)
		*(u64 *)dp = *(const u64 *)sp;
	while (n--)
		*dp++ = *sp++;
	return d;
}

void *memmove(void *d, const void *s, size_t n)
{
	u8 *dp = d;
	const u8 *sp = s;

	if (dp <= sp || dp >= sp + n)
		return memcpy(d, s, n);
	while (n--)
		dp[n] = sp[n];
	return d;
}

void *memset(void *d, int c, size_t n)
{
	u8 *dp = d;
	u64 w = 0x0101010101010101ull * (u8)c;

	for (; n >= 8; n -= 8, dp += 8)
		*(u64 *)dp = w;
	while (n--)
		*dp++ = (u8)c;
	return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	for (const u8 *p = s; n; n--, p++)
		if (*p == (u8)c)
			return (void *)p;
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

/*
 * vsnprintf for %s %c %d %i %u %x %p %% with l/ll/z, '0' padding and a width.
 * Kept in registers as far as possible (a cursor, not a struct behind a
 * pointer; hex digits written in place): on an L0 that emulates ring-0 code,
 * every memory operand costs a software page walk. If-chains, not a switch:
 * no jump tables in L1's own code.
 */
#define EMIT(c) do { if (p < end) *p = (c); p++; } while (0)

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	char *p = buf, *end = size ? buf + size - 1 : buf;

	for (; *fmt; fmt++) {
		/* Literal text up to the next '%': copied in one run. */
		if (*fmt != '%') {
			const char *lit = fmt;
			while (fmt[1] && fmt[1] != '%')
				fmt++;
			size_t n = (size_t)(fmt - lit) + 1;
			if (p < end)
				memcpy(p, lit, n < (size_t)(end - p) ? n : (size_t)(end - p));
			p += n;
			continue;
		}
		char pad = ' ', c;
		int width = 0, lng = 0;

		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng++, fmt++;
		c = *fmt;
		if (c == 's') {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t n = strlen(str);
			for (; width > (int)n; width--)
				EMIT(' ');
			if (p < end)
				memcpy(p, str, n < (size_t)(end - p) ? n : (size_t)(end - p));
			p += n;
		} else if (c == 'c') {
			EMIT((char)va_arg(ap, int));
		} else if (c == 'x' || c == 'p') {
			u64 v = c == 'p' ? (u64)(uintptr_t)va_arg(ap, void *) :
				lng ? va_arg(ap, u64) : va_arg(ap, unsigned);
			/* Hex: count the digits, then write them in place, last first. */
			int digits = v ? (67 - __builtin_clzll(v)) / 4 : 1;
			if (c == 'p') {
				EMIT('0');
				EMIT('x');
			}
			for (; width > digits; width--)
				EMIT(pad);
			for (int d = digits - 1; d >= 0; d--, v >>= 4)
				if (p + d < end)
					p[d] = "0123456789abcdef"[v & 0xf];
			p += digits;
		} else if (c == 'd' || c == 'i' || c == 'u') {
			u64 v;
			bool neg = false;
			if (c == 'u') {
				v = lng ? va_arg(ap, u64) : va_arg(ap, unsigned);
			} else {
				int64_t sv = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
				neg = sv < 0;
				v = neg ? -(u64)sv : (u64)sv;
			}
			/* Decimal: a constant divisor compiles to a multiply, no DIV. */
			char tmp[20];
			int n = 0;
			do {
				tmp[n++] = (char)('0' + v % 10);
				v /= 10;
			} while (v);
			for (width -= neg; width > n; width--)
				EMIT(pad);
			if (neg)
				EMIT('-');
			while (n)
				EMIT(tmp[--n]);
		} else if (c == '%') {
			EMIT('%');
		} else {
			break;
		}
	}
	if (size)
		*(p < end ? p : end) = '\0';
	return (int)(p - buf);
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void stats_min_med_max(u64 *v, unsigned int n, u64 out[3])
{
	/* Insertion sort: n is a few dozen round trips at most. */
	for (unsigned int i = 1; i < n; i++)
		for (unsigned int j = i; j && v[j - 1] > v[j]; j--) {
			u64 t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	out[0] = n ? v[0] : 0;
	out[1] = n ? v[n / 2] : 0;
	out[2] = n ? v[n - 1] : 0;
}
