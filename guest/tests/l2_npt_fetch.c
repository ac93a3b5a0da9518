// SPDX-License-Identifier: MIT
/*
 * l2.npt.fetch: an instruction fetch from a page the nested page tables map
 * readable and writable but not executable is a nested page fault reported
 * as a fetch, at the GPA of the instruction.
 *
 * AMD (APM 15.25.5, 15.25.6): NX (bit 63) of a nested entry forbids
 * fetches; the nested walk uses L1's EFER.NXE (1 here, else NX would be a
 * reserved bit). EXITINFO1 = P (the page is present) | US (every nested
 * access is a user access) | ID (instruction fetch), bit 32 (the final
 * GPA, not a guest page-table access); RW clear. EXITINFO2 = the GPA.
 * Intel (SDM 28.2.1, table 28-7; 29.3.3.2): bit 2 (fetch) set, bits 0/1
 * clear, bits 5:3 = the entry's rights (R and W: 011b), bit 7 (linear
 * address valid) and bit 8 (final translation) set, GUEST_LINEAR_ADDRESS =
 * the instruction's address (L2 runs on L1's identity page tables).
 *
 * L1 writes "MOV RAX, imm64; RET" into a fresh page, L2 calls it; after
 * the fault L1 makes the page executable and L2 gets imm64 back.
 */
#include "npt_test.h"

#define MAGIC 0x46455443485f4f4bul   /* "FETCH_OK" */

static void l2_code(u64 page)
{
	u64 v = ((u64 (*)(void))(uintptr_t)page)();

	L2_ASSERT(v == MAGIC, "the code in the executable page returned 0x%lx, expected 0x%lx",
		  v, MAGIC);
}

NVM_TEST(L2_NPT_FETCH)
{
	struct l2_vcpu vcpu;
	struct l2_exit x;
	u8 *code = page_alloc(1);
	u64 gpa = gpa_of(code);
	struct l2_cfg cfg = { .entry = l2_code, .arg = gpa, .nested_paging = true };
	const char *why, *what = "the fetch from the non-executable page";

	/* 48 B8 imm64: MOV RAX, imm64; C3: RET. */
	code[0] = 0x48;
	code[1] = 0xb8;
	memcpy(code + 2, &(u64){ MAGIC }, 8);
	code[10] = 0xc3;
	if (npt_is_svm() && !(rdmsr(MSR_EFER) & EFER_NXE))
		return stage_fail(r, "L1's EFER.NXE=0: the nested walk would take NX as reserved");
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if ((why = nested->npt_set(&vcpu, gpa, gpa, L2_NPT_R | L2_NPT_W)))
		return stage_fail(r, "npt_set(GPA 0x%lx, read/write): %s", gpa, why);
	if (npt_expect_npf(&vcpu, &x, gpa, what, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.rip != gpa)
		return stage_fail(r, "%s: L2's RIP 0x%lx, expected the page's first byte 0x%lx", what,
				  x.rip, gpa);
	if (!npt_bit(&x, what, "fetch (ID / bit 2)", x.npf.fetch, 1, r) ||
	    !npt_bit(&x, what, "write (RW / bit 1)", x.npf.write, 0, r) ||
	    !npt_bit(&x, what, "final translation (bit 32 / bits 7+8)", x.npfx.final, 1, r) ||
	    !npt_bit(&x, what, "guest page-table access (bit 33)", x.npfx.walk, 0, r))
		return NVM_FAIL;
	if (npt_is_svm()) {
		if (!npt_bit(&x, what, "P (bit 0: the page is present)", x.npf.present, 1, r) ||
		    !npt_bit(&x, what, "US (bit 2)", x.npfx.user, 1, r) ||
		    !npt_bit(&x, what, "RSVD (bit 3)", x.npfx.rsvd, 0, r))
			return NVM_FAIL;
	} else {
		if (!npt_bit(&x, what, "read (bit 0)", x.npfx.read, 0, r) ||
		    !npt_bit(&x, what, "entry rights (bits 5:3)", x.npfx.allowed, L2_NPT_R | L2_NPT_W, r) ||
		    !npt_bit(&x, what, "linear address valid (bit 7)", x.npfx.gla_valid, 1, r) ||
		    !npt_bit(&x, what, "GUEST_LINEAR_ADDRESS", x.npfx.gla, gpa, r))
			return NVM_FAIL;
	}
	if ((why = nested->npt_set(&vcpu, gpa, gpa, L2_NPT_R | L2_NPT_X)))
		return stage_fail(r, "npt_set(GPA 0x%lx, read/execute): %s", gpa, why);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "a fetch from non-executable GPA 0x%lx faulted as a fetch of a present page "
			  "(info 0x%lx); executable, the code ran", gpa, x.info1);
}
