// SPDX-License-Identifier: MIT
/*
 * Render a made-up verdict in one format, for the cases this host cannot
 * produce with a real run (everything passing, hostile text from L1, a
 * stage never reported), so the external parsers see them too.
 *
 *   render_verdict all-pass|hostile|pending|timeout text|json|ktap|junit
 */
#include <stdio.h>
#include <string.h>

#include "format.h"
#include "verdict.h"

/* Everything an L1 could put into a reason to break a format. */
static const char hostile[] =
	"a # SKIP b # TODO c \\# <x y=\"z\">&amp; ]]> 'q'\n"
	"ok 9 forged\nnot ok 9 forged\nKTAP version 1\n# Subtest: forged\n1..9\n"
	"\x01\x1b[31m\x7f \xff\xfe \xc3 \xed\xa0\x80 caf\xc3\xa9 \xe2\x82\xac\t|";

static void all_pass(struct verdict *v)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		verdict_set(v, i, NVM_PASS, "fine", i == NVM_STAGE_L2_RUN ? "32 round trips\nmin 1200 ns" : NULL);
	v->end = RUN_DONE;
	snprintf(v->end_reason, sizeof(v->end_reason), "L1 reported every stage and halted");
	verdict_add_log(v, "L1: hello from the test kernel");
}

static int make(struct verdict *v, const char *name)
{
	verdict_init(v, "intel");
	snprintf(v->host.cpu_vendor, sizeof(v->host.cpu_vendor), "GenuineIntel");
	snprintf(v->host.kvm_module, sizeof(v->host.kvm_module), "kvm_intel");
	v->host.nested_param = 1;
	v->host.kvm_api_version = 12;
	v->seconds = 0.25;
	all_pass(v);
	if (!strcmp(name, "all-pass"))
		return 0;
	if (!strcmp(name, "hostile")) {
		verdict_set(v, NVM_STAGE_HOST_NESTED, NVM_SKIP, hostile, hostile);
		verdict_set(v, NVM_STAGE_L1_ENABLE, NVM_FAIL, hostile, hostile);
		verdict_set(v, NVM_STAGE_L2_RUN, NVM_PENDING, "", "");
		verdict_set(v, NVM_STAGE_L2_NESTED_PAGING, NVM_PENDING, "", "");
		verdict_finish(v);
		verdict_add_log(v, hostile);
		snprintf(v->host.cpu_model, sizeof(v->host.cpu_model), "%.60s", hostile);
		return 0;
	}
	if (!strcmp(name, "pending")) {
		/* Not finished: a format must still say something sane. */
		v->stage[NVM_STAGE_L2_NESTED_PAGING].status = NVM_PENDING;
		v->stage[NVM_STAGE_L2_NESTED_PAGING].reason[0] = '\0';
		return 0;
	}
	if (!strcmp(name, "timeout")) {
		v->end = RUN_TIMEOUT;
		snprintf(v->end_reason, sizeof(v->end_reason), "timed out after 10 s");
		snprintf(v->vcpu_state, sizeof(v->vcpu_state), "RIP=0xffffffff81000000 RFLAGS=0x2");
		v->last_stage = NVM_STAGE_L2_RUN;
		v->stage[NVM_STAGE_L2_RUN].status = NVM_PENDING;
		v->stage[NVM_STAGE_L2_NESTED_PAGING].status = NVM_PENDING;
		verdict_finish(v);
		return 0;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static struct verdict v;
	int f;

	if (argc != 3 || (f = format_by_name(argv[2])) < 0 || make(&v, argv[1])) {
		fprintf(stderr, "usage: render_verdict all-pass|hostile|pending|timeout %s\n", FORMAT_NAMES);
		return 2;
	}
	format_write(f, &v, stdout, false);
	verdict_free(&v);
	return 0;
}
