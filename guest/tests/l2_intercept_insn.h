/* SPDX-License-Identifier: MIT */
/* Shared by the one-instruction intercept tests (rdpmc, invlpg, pause, cr3, cr8, dr). */
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

/*
 * Enter L2, expect a MOV to or from CRn / DRn (kind L2_EXIT_CR or L2_EXIT_DR)
 * at `at`: the register number and direction the exit reports, the GPR where
 * the vendor reports it (SVM without decode assists does not: -1) and the
 * instruction length (0F 20/22 or 0F 21/23 and ModRM, REX.R for CR8); step
 * over it.
 */
static inline enum nvm_status expect_mov_xr(struct l2_vcpu *vcpu, enum l2_exit_kind kind,
					    const char *at, unsigned int n, bool write, int gpr,
					    u32 len, const char *what, struct stage_result *r)
{
	bool cr = kind == L2_EXIT_CR;
	char reg = cr ? 'C' : 'D';
	struct l2_exit x;
	unsigned int got_n;
	bool got_write;
	int got_gpr;

	if (nested_expect(vcpu, &x, kind, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	got_n = cr ? x.cr.n : x.dr.n;
	got_write = cr ? x.cr.write : x.dr.write;
	got_gpr = cr ? x.cr.gpr : x.dr.gpr;
	stage_detail(r, "%s: exit 0x%lx info 0x%lx: %cR%u %s GPR %d, length %u", what, x.raw, x.info1,
		     reg, got_n, got_write ? "write" : "read", got_gpr, x.insn_len);
	if (got_n != n || got_write != write)
		return stage_fail(r, "%s: exit for %cR%u %s, expected %cR%u %s", what, reg, got_n,
				  got_write ? "write" : "read", reg, n, write ? "write" : "read");
	if (got_gpr >= 0 && got_gpr != gpr)
		return stage_fail(r, "%s: GPR %d reported, expected %d", what, got_gpr, gpr);
	if (x.insn_len != len)
		return stage_fail(r, "%s: instruction length %u, expected %u (%s0F %s ModRM)", what,
				  x.insn_len, len, len == 4 ? "REX.R " : "", cr ? "20/22" : "21/23");
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

#endif
