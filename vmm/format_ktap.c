// SPDX-License-Identifier: MIT
/*
 * The verdict as KTAP version 1, as Documentation/dev-tools/ktap.rst in the
 * kernel defines it, so kunit.py parse, kselftest runners and TAP consumers
 * read it:
 *
 *   KTAP version 1
 *   1..3                                   one test per level
 *   # nestvmm: amd nested virtualization on ...
 *     KTAP version 1                       a level: its own version line,
 *     # Subtest: host                      name (as KUnit writes it) and plan
 *     1..2
 *     # host.kvm: /dev/kvm usable ...      reason and details: diagnostic lines
 *     ok 1 host.kvm                        before the result line they explain
 *     ok 2 host.nested # SKIP no nested SVM ...
 *   ok 1 host                              fails if a stage failed, SKIP if all skipped
 *   ...
 *
 * A result line holds no newline and no bare '#' (a '#' would start the
 * directive): reasons put there are cut to one line with '#' written "\#",
 * the escape TAP uses. Diagnostic lines may hold anything printable.
 */
#include <string.h>

#include "format.h"
#include "verdict.h"

/* Text on a result line: one line, '#' escaped, controls as '?'. */
static void ktap_directive_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '#')
			fputs("\\#", out);
		else if (c == '\n' || c == '\t')
			fputc(' ', out);
		else
			fputc(c < 0x20 || c == 0x7f ? '?' : c, out);
	}
}

/* "# text" lines at an indentation, one per line of s; controls as '?'. */
static void ktap_diag(FILE *out, const char *indent, const char *prefix, const char *s)
{
	while (*s) {
		size_t n = strcspn(s, "\n");
		fprintf(out, "%s# %s", indent, prefix);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)s[i];
			fputc(c < 0x20 && c != '\t' ? '?' : c == 0x7f ? '?' : c, out);
		}
		fputc('\n', out);
		s += n + (s[n] == '\n');
	}
}

static void ktap_stage(FILE *out, const struct verdict *v, int i, int num)
{
	const struct stage *s = &v->stage[i];
	char prefix[64];

	snprintf(prefix, sizeof(prefix), "%s: ", stage_name[i]);
	/*
	 * A skip's reason goes on its result line, after the directive; it is
	 * repeated above only to head the details that belong to it.
	 */
	if (s->reason[0] && (s->status != NVM_SKIP || s->details[0]))
		ktap_diag(out, "  ", prefix, s->reason);
	ktap_diag(out, "  ", "  ", s->details);
	switch (s->status) {
	case NVM_PASS:
		fprintf(out, "  ok %d %s\n", num, stage_name[i]);
		break;
	case NVM_SKIP:
		fprintf(out, "  ok %d %s # SKIP%s", num, stage_name[i], s->reason[0] ? " " : "");
		ktap_directive_text(out, s->reason);
		fputc('\n', out);
		break;
	case NVM_FAIL:
		fprintf(out, "  not ok %d %s\n", num, stage_name[i]);
		break;
	default:
		fprintf(out, "  # %s: never reported\n  not ok %d %s\n", stage_name[i], num,
			stage_name[i]);
	}
}

static void ktap_level(FILE *out, const struct verdict *v, const struct level_span *l, int num)
{
	int failed = 0, skipped = 0;

	int k = 0;

	fprintf(out, "  KTAP version 1\n  # Subtest: %s\n  1..%d\n", l->name, l->count);
	for (int i = l->first; i < l->end; i++) {
		if (!v->stage[i].selected)
			continue;
		ktap_stage(out, v, i, ++k);
		failed += v->stage[i].status != NVM_PASS && v->stage[i].status != NVM_SKIP;
		skipped += v->stage[i].status == NVM_SKIP;
	}
	/* ktap.rst: a parent fails when a subtest fails; all skipped reads best as a skip. */
	if (failed)
		fprintf(out, "# %s: %d of %d stages failed\nnot ok %d %s\n", l->name, failed,
			l->count, num, l->name);
	else if (skipped == l->count)
		fprintf(out, "ok %d %s # SKIP every stage was skipped\n", num, l->name);
	else
		fprintf(out, "ok %d %s\n", num, l->name);
}

void format_ktap(const struct verdict *v, FILE *out)
{
	struct level_span levels[FORMAT_LEVELS_MAX];
	int n = format_levels(v, levels, FORMAT_LEVELS_MAX);
	const struct host_facts *h = &v->host;
	int code = format_exit_code(v);
	char line[256];

	/* The plan must follow the version line directly (kunit.py looks for it there). */
	fprintf(out, "KTAP version 1\n1..%d\n", n);
	snprintf(line, sizeof(line), "%s nested virtualization on %s (%s), KVM backend %s, outer hypervisor %s",
		 v->arch, h->cpu_vendor[0] ? h->cpu_vendor : "unknown vendor",
		 h->cpu_model[0] ? h->cpu_model : "unknown model",
		 h->kvm_module[0] ? h->kvm_module : "none", h->hypervisor[0] ? h->hypervisor : "none");
	ktap_diag(out, "", "nestvmm: ", line);  /* host strings are not trusted either */
	for (int i = 0; i < n; i++)
		ktap_level(out, v, &levels[i], i + 1);
	if (v->end != RUN_DONE && v->end != RUN_NOT_STARTED)
		ktap_diag(out, "", "run: ", v->end_reason);
	for (unsigned int i = 0; i < v->n_log; i++)
		ktap_diag(out, "", "l1 log: ", v->log[i]);
	if (v->n_log_dropped)
		fprintf(out, "# (%u L1 log lines dropped)\n", v->n_log_dropped);
	fprintf(out, "# result: %s (exit code %d), %.3f s\n", format_result_name(verdict_exit_code(v)), code,
		v->seconds);
}
