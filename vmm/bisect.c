// SPDX-License-Identifier: MIT
/* The verdict as an answer for `git bisect run`; see bisect.h for the rules. */
#include "bisect.h"
#include "verdict.h"

int bisect_exit_code(const struct verdict *v)
{
	bool untestable = false, selected = false;

	if (v->end == RUN_INTERRUPTED)
		return BISECT_UNTESTABLE;
	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		const struct stage *s = &v->stage[i];

		if (!s->selected)
			continue;
		selected = true;
		if (s->status == NVM_FAIL && i >= BISECT_FIRST_NESTING_STAGE)
			return BISECT_BAD;
		/*
		 * Failed preparation, skipped, or never reported (pending): no answer.
		 * A test the L0 cannot offer (unsupported) is neutral: it says nothing
		 * about the kernel under test.
		 */
		if (s->status != NVM_PASS && !(s->status == NVM_SKIP && s->unsupported))
			untestable = true;
	}
	if (untestable || !selected)
		return BISECT_UNTESTABLE;
	return BISECT_GOOD;
}

int bisect_from_exit(int code)
{
	return code == EXIT_PASS ? BISECT_GOOD : code == EXIT_FAIL ? BISECT_BAD : BISECT_UNTESTABLE;
}
