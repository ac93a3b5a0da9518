// SPDX-License-Identifier: MIT
/*
 * l2.intercept.cr4: MOV to CR4 in L2 exits as each vendor defines.
 *
 * SVM (APM 15.8.1, VMEXIT_CR4_WRITE 14h): with the CR4 write intercept
 * every MOV to CR4 exits; L1 drops it, L2 finds CR4 unchanged.
 *
 * VMX (SDM 25.6.6, 26.1.3, exit reason 28): L1 owns CR4.PCE (mask), the
 * read shadow is L2's initial CR4. MOV to CR4 flipping PCE exits (type 0,
 * the GPR); flipping CR4.TSD, which L1 does not own, runs in L2 and shows.
 */
#include "test.h"

#define CR4_TSD (1ull << 2)
#define CR4_PCE (1ull << 8)

extern const char l2_cr4_wr[];

static inline u64 l2_read_cr4(void)
{
	u64 v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void __attribute__((noinline)) l2_code(u64 vmx)
{
	u64 c = l2_read_cr4(), v;

	__asm__ volatile(".global l2_cr4_wr\nl2_cr4_wr: mov %%rbx, %%cr4" :: "b"(c ^ CR4_PCE)
			 : "memory");
	v = l2_read_cr4();
	L2_ASSERT(v == c, "CR4 reads 0x%lx after the intercepted MOV to CR4, expected 0x%lx", v, c);
	if (!vmx)
		return;
	__asm__ volatile("mov %0, %%cr4" :: "r"(c ^ CR4_TSD) : "memory");
	v = l2_read_cr4();
	__asm__ volatile("mov %0, %%cr4" :: "r"(c) : "memory");
	L2_ASSERT(v == (c ^ CR4_TSD), "CR4 reads 0x%lx after L2 flipped TSD (not owned by L1), "
		  "expected 0x%lx", v, (u64)(c ^ CR4_TSD));
}

NVM_TEST(L2_INTERCEPT_CR4)
{
	bool vmx = nested->virt[0] == 'V';
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .arg = vmx, .intercepts = L2_ICPT_CR4_WRITE,
			      .cr4_mask = CR4_PCE };
	struct l2_exit x;
	u64 want = read_cr4() ^ CR4_PCE;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested_expect(&vcpu, &x, L2_EXIT_CR, l2_cr4_wr, "MOV to CR4", r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "MOV to CR4: exit 0x%lx info 0x%lx: CR%u %s type %u GPR %d, length %u",
		     x.raw, x.info1, x.cr.n, x.cr.write ? "write" : "read", x.cr.type, x.cr.gpr,
		     x.insn_len);
	if (x.cr.n != 4 || !x.cr.write)
		return stage_fail(r, "MOV to CR4: exit for CR%u %s, expected CR4 write", x.cr.n,
				  x.cr.write ? "write" : "read");
	if (x.cr.gpr >= 0 && x.cr.gpr != X86_RBX)
		return stage_fail(r, "MOV to CR4: GPR %d reported, expected %d (RBX)", x.cr.gpr, X86_RBX);
	if (vcpu.gpr[L2_RBX] != want)
		return stage_fail(r, "MOV to CR4: RBX at the exit is 0x%lx, expected 0x%lx",
				  vcpu.gpr[L2_RBX], want);
	if (x.insn_len != 3)
		return stage_fail(r, "MOV to CR4: instruction length %u, expected 3", x.insn_len);
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "MOV to CR4 changing %s exited with the register%s",
			  vmx ? "owned PCE" : "PCE", vmx ? "; TSD (not owned) ran in L2" : "");
}
