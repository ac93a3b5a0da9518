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

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

unsigned long strtoul(const char *s, char **end, int base)
{
	unsigned long v = 0;

	if ((base == 0 || base == 16) && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, base = 16;
	else if (base == 0)
		base = s[0] == '0' ? 8 : 10;
	for (;; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' :
			*s >= 'a' && *s <= 'z' ? *s - 'a' + 10 :
			*s >= 'A' && *s <= 'Z' ? *s - 'A' + 10 : 99;
		if (d >= base)
			break;
		v = v * (unsigned long)base + (unsigned long)d;
	}
	if (end)
		*end = (char *)s;
	return v;
}

/*
 * vsnprintf for %s %c %d %i %u %x %p %% with l/ll, '0' padding and a width.
 * Written with if-chains, not a switch: no jump tables in L1's own code.
 */
struct out { char *buf; size_t size, len; };

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_num(struct out *o, u64 v, unsigned base, bool neg, int width, char pad)
{
	char tmp[24];
	int n = 0;

	/* Shifts for hex, a constant divisor for decimal: no DIV instruction. */
	do {
		if (base == 16) {
			tmp[n++] = "0123456789abcdef"[v & 0xf];
			v >>= 4;
		} else {
			tmp[n++] = (char)('0' + v % 10);
			v /= 10;
		}
	} while (v);
	if (neg)
		tmp[n++] = '-';
	while (width-- > n)
		put(o, pad);
	while (n)
		put(o, tmp[--n]);
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		/* Literal text up to the next '%': copied in one run. */
		if (*fmt != '%') {
			const char *lit = fmt;
			while (fmt[1] && fmt[1] != '%')
				fmt++;
			size_t n = (size_t)(fmt - lit) + 1;
			if (o.len < o.size) {
				size_t room = o.size - 1 - o.len;
				memcpy(o.buf + o.len, lit, n < room ? n : room);
			}
			o.len += n;
			continue;
		}
		char pad = ' ';
		int width = 0, lng = 0;

		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l' || *fmt == 'z')
			lng++, fmt++;
		char c = *fmt;
		if (c == 's') {
			const char *s = va_arg(ap, const char *);
			int n = (int)strlen(s ? s : "(null)");
			while (width-- > n)
				put(&o, ' ');
			s = s ? s : "(null)";
			if (o.len < o.size) {
				size_t room = o.size - 1 - o.len;
				memcpy(o.buf + o.len, s, (size_t)n < room ? (size_t)n : room);
			}
			o.len += (size_t)n;
		} else if (c == 'c') {
			put(&o, (char)va_arg(ap, int));
		} else if (c == 'd' || c == 'i') {
			int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
			put_num(&o, v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, pad);
		} else if (c == 'u' || c == 'x') {
			u64 v = lng ? va_arg(ap, u64) : va_arg(ap, unsigned);
			put_num(&o, v, c == 'x' ? 16 : 10, false, width, pad);
		} else if (c == 'p') {
			put(&o, '0'), put(&o, 'x');
			put_num(&o, (u64)(uintptr_t)va_arg(ap, void *), 16, false, 0, ' ');
		} else if (c == '%') {
			put(&o, '%');
		} else {
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
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
