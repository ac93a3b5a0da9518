// SPDX-License-Identifier: MIT
/*
 * Vendor-neutral helpers for the intercept tests (guest/intercept.h): the
 * expected-exit check every such test makes, and the register numbering of
 * exit qualifications / decode assists (SDM table 28-3, APM 15.33.1).
 */
#include "nested.h"

unsigned int l2_gpr_slot(unsigned int n)
{
	static const u8 slot[16] = {
		L2_RAX, L2_RCX, L2_RDX, L2_RBX, L2_RSP, L2_RBP, L2_RSI, L2_RDI,
		L2_R8, L2_R9, L2_R10, L2_R11, L2_R12, L2_R13, L2_R14, L2_R15,
	};
	return slot[n & 15];
}

enum nvm_status nested_expect(struct l2_vcpu *vcpu, struct l2_exit *x, enum l2_exit_kind kind,
			      const void *at, const char *what, struct stage_result *r)
{
	if (nested_enter(vcpu, x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x->kind != kind)
		return nested_unexpected(vcpu, x, what, r);
	if (at && x->rip != gpa_of(at)) {
		nested->describe(vcpu, r);
		return stage_fail(r, "%s (exit 0x%lx) at L2 RIP 0x%lx, expected the instruction at 0x%lx",
				  what, x->raw, x->rip, gpa_of(at));
	}
	return NVM_PASS;
}
