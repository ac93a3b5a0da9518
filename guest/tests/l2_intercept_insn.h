/* SPDX-License-Identifier: MIT */
/* Shared by the one-instruction intercept tests (rdpmc, invlpg, pause). */
#ifndef NESTVMM_L2_INTERCEPT_INSN_H
#define NESTVMM_L2_INTERCEPT_INSN_H

#include "test.h"

/* Enter L2, expect `kind` at `at` with instruction length `len`, step over it. */
static inline enum nvm_status expect_insn(struct l2_vcpu *vcpu, struct l2_exit *x,
					  enum l2_exit_kind kind, const char *at, u32 len,
					  const char *what, struct stage_result *r)
{
	if (nested_expect(vcpu, x, kind, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx at RIP 0x%lx, info 0x%lx, length %u", what, x->raw, x->rip,
		     x->info1, x->insn_len);
	if (x->insn_len != len)
		return stage_fail(r, "%s: instruction length %u, expected %u", what, x->insn_len, len);
	nested->skip_insn(vcpu, x);
	return NVM_PASS;
}

#endif
