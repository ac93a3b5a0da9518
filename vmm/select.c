// SPDX-License-Identifier: MIT
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "select.h"
#include "verdict.h"

static bool matches_any(const char *pattern)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		if (!fnmatch(pattern, stage_name[i], 0))
			return true;
	return false;
}

int select_parse(struct selection *s, const char *arg, char *err, size_t errlen)
{
	const char *p = arg;

	if (!*arg) {
		snprintf(err, errlen, "--tests: empty pattern list (see --list)");
		return -1;
	}
	while (*p) {
		size_t n = strcspn(p, ",");
		char *copy = s->buf + s->used;

		if (!n) {
			snprintf(err, errlen, "--tests \"%s\": empty pattern between commas", arg);
			return -1;
		}
		if (s->n >= SELECT_PATTERNS_MAX || s->used + n + 1 > sizeof(s->buf)) {
			snprintf(err, errlen, "--tests: more than %d patterns or %zu bytes of them",
				 SELECT_PATTERNS_MAX, sizeof(s->buf));
			return -1;
		}
		memcpy(copy, p, n);
		copy[n] = '\0';
		s->used += n + 1;
		/* A pattern that selects nothing is a typo: say so rather than run nothing. */
		if (!matches_any(copy[0] == '-' ? copy + 1 : copy)) {
			snprintf(err, errlen, "--tests: \"%s\" matches no test (nestvmm --list shows them)",
				 copy[0] == '-' ? copy + 1 : copy);
			return -1;
		}
		s->pattern[s->n++] = copy;
		p += n + (p[n] == ',');
	}
	return 0;
}

void select_apply(const struct selection *s, int vendor, bool included[NVM_STAGE_COUNT])
{
	bool any_positive = false;

	for (unsigned int k = 0; k < s->n; k++)
		any_positive |= s->pattern[k][0] != '-';
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		bool in = !any_positive;
		/* Later patterns win: "l2.*,-l2.bench.*" keeps l2 but the benchmarks. */
		for (unsigned int k = 0; k < s->n; k++) {
			const char *pat = s->pattern[k];
			if (!fnmatch(pat[0] == '-' ? pat + 1 : pat, stage_name[i], 0))
				in = pat[0] != '-';
		}
		included[i] = in && (stage_vendor[i] == NVM_ANY || stage_vendor[i] == vendor);
	}
	/* Prerequisites run first (needs always point backwards): walk down from the last. */
	for (int i = NVM_STAGE_COUNT - 1; i >= 0; i--)
		if (included[i] && stage_needs[i] != NVM_STAGE_NONE)
			included[stage_needs[i]] = true;
	for (int i = 0; i < NVM_STAGE_FIRST_L1; i++)
		included[i] = true;
}

int select_parse_features(const char *arg, uint32_t *mask, char *err, size_t errlen)
{
	const char *p = arg;

	while (*p) {
		size_t n = strcspn(p, ",");
		int f;

		for (f = 0; f < NVM_FEATURE_COUNT; f++)
			if (strlen(feature_name[f]) == n && !strncmp(p, feature_name[f], n))
				break;
		if (f == NVM_FEATURE_COUNT) {
			char names[512];
			snprintf(err, errlen, "--require: unknown feature \"%.*s\" (one of: %s)", (int)n, p,
				 select_feature_list(~0u, names, sizeof(names)));
			return -1;
		}
		*mask |= 1u << f;
		p += n + (p[n] == ',');
	}
	if (!*arg) {
		snprintf(err, errlen, "--require: empty feature list");
		return -1;
	}
	return 0;
}

const char *select_feature_list(uint32_t mask, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (int f = 0; f < NVM_FEATURE_COUNT; f++)
		if (mask & (1u << f)) {
			int k = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", feature_name[f]);
			if (k < 0 || (size_t)k >= size - len)
				break;
			len += (size_t)k;
		}
	return buf;
}
