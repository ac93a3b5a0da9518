// SPDX-License-Identifier: MIT
/*
 * l2.intercept.msr-bitmap: RDMSR/WRMSR of L2 exit to L1 exactly as L1's MSR
 * bitmap says, per MSR and per direction (APM 15.11 "MSR Intercepts": the
 * MSRPM, two bits per MSR, EXITINFO1 0 = RDMSR / 1 = WRMSR; SDM 25.6.9
 * "MSR-Bitmap Address", 26.1.3, exit reasons 31/32).
 *
 * L1 starts from an empty bitmap and marks:
 *   IA32_SYSENTER_CS (174h)  read exits, write passes
 *   IA32_SYSENTER_ESP (175h) write exits, read passes
 *   IA32_KERNEL_GS_BASE (C0000102h) both pass
 * and 2000h, which neither vendor's bitmap covers: its RDMSR and WRMSR
 * exit whatever the bitmap holds (both manuals).
 *
 * L2 checks: an intercepted RDMSR returns the value L1 emulates; a
 * passed-through WRMSR/RDMSR pair works on L2's own MSR without an exit;
 * an intercepted WRMSR reaches L1 with ECX and EDX:EAX and does not change
 * the MSR (L2 reads the old value back through the passed-through read).
 */
#include "test.h"

#define MSR_SYSENTER_CS     0x174u
#define MSR_SYSENTER_ESP    0x175u
#define MSR_KERNEL_GS_BASE  0xc0000102u
#define MSR_UNCOVERED       0x2000u

#define EMU_SYSENTER_CS     0x4e560174ull              /* what L1 answers for RDMSR 174h */
#define NEW_SYSENTER_ESP    0xffff80004e560175ull      /* canonical: WRMSR would not #GP */
#define L2_GS_BASE          0xffff80004e56c102ull
#define EMU_UNCOVERED       0x123456789abcdef0ull
#define NEW_UNCOVERED       0x0fedcba987654321ull

extern const char l2_rd_cs[], l2_wr_esp[], l2_rd_unc[], l2_wr_unc[];

static inline u64 l2_rdmsr(u32 msr)
{
	u32 lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr) : "memory");
	return ((u64)hi << 32) | lo;
}

static inline void l2_wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

static void __attribute__((noinline)) l2_code(u64 unused)
{
	u32 lo, hi;
	u64 esp0, v;

	(void)unused;
	/* Intercepted read: the value is L1's. */
	__asm__ volatile(".global l2_rd_cs\nl2_rd_cs: rdmsr" : "=a"(lo), "=d"(hi)
			 : "c"(MSR_SYSENTER_CS) : "memory");
	v = ((u64)hi << 32) | lo;
	L2_ASSERT(v == EMU_SYSENTER_CS, "RDMSR 174h (intercepted) returned 0x%lx, expected L1's 0x%llx",
		  v, EMU_SYSENTER_CS);
	/* Its write passes: no exit (L1 fails on any). */
	l2_wrmsr(MSR_SYSENTER_CS, 0x10);

	/* Intercepted write, passed-through read: the write must not land. */
	esp0 = l2_rdmsr(MSR_SYSENTER_ESP);
	__asm__ volatile(".global l2_wr_esp\nl2_wr_esp: wrmsr" :: "c"(MSR_SYSENTER_ESP),
			 "a"((u32)NEW_SYSENTER_ESP), "d"((u32)(NEW_SYSENTER_ESP >> 32)) : "memory");
	v = l2_rdmsr(MSR_SYSENTER_ESP);
	L2_ASSERT(v == esp0, "IA32_SYSENTER_ESP is 0x%lx after the intercepted WRMSR of 0x%llx, "
		  "expected the old 0x%lx: the write reached the MSR as well as L1", v,
		  NEW_SYSENTER_ESP, esp0);

	/* Both directions passed through: L2's own value, no exit. */
	l2_wrmsr(MSR_KERNEL_GS_BASE, L2_GS_BASE);
	v = l2_rdmsr(MSR_KERNEL_GS_BASE);
	L2_ASSERT(v == L2_GS_BASE, "IA32_KERNEL_GS_BASE (passed through) reads 0x%lx after L2 wrote "
		  "0x%llx", v, L2_GS_BASE);

	/* Not covered by the bitmap: both exit although no bit is set. */
	__asm__ volatile(".global l2_rd_unc\nl2_rd_unc: rdmsr" : "=a"(lo), "=d"(hi)
			 : "c"(MSR_UNCOVERED) : "memory");
	v = ((u64)hi << 32) | lo;
	L2_ASSERT(v == EMU_UNCOVERED, "RDMSR 2000h (outside the bitmap) returned 0x%lx, expected "
		  "L1's 0x%llx", v, EMU_UNCOVERED);
	__asm__ volatile(".global l2_wr_unc\nl2_wr_unc: wrmsr" :: "c"(MSR_UNCOVERED),
			 "a"((u32)NEW_UNCOVERED), "d"((u32)(NEW_UNCOVERED >> 32)) : "memory");
}

/* One intercepted RDMSR/WRMSR: index, direction, value; emulate the read, skip. */
static enum nvm_status expect_msr(struct l2_vcpu *vcpu, const char *at, u32 msr, bool write,
				  u64 value, const char *what, struct stage_result *r)
{
	struct l2_exit x;

	if (nested_expect(vcpu, &x, L2_EXIT_MSR, at, what, r) != NVM_PASS)
		return NVM_FAIL;
	stage_detail(r, "%s: exit 0x%lx, ECX=0x%x %s value 0x%lx, length %u", what, x.raw,
		     x.msr.index, x.msr.write ? "WRMSR" : "RDMSR", x.msr.value, x.insn_len);
	if (x.msr.index != msr || x.msr.write != write)
		return stage_fail(r, "%s: exit for %s of MSR 0x%x, expected %s of 0x%x", what,
				  x.msr.write ? "WRMSR" : "RDMSR", x.msr.index,
				  write ? "WRMSR" : "RDMSR", msr);
	if (write && x.msr.value != value)
		return stage_fail(r, "%s: L2's EDX:EAX at the exit is 0x%lx, expected 0x%lx", what,
				  x.msr.value, value);
	if (x.insn_len != 2)
		return stage_fail(r, "%s: instruction length %u, expected 2 (0F 30 / 0F 32)", what,
				  x.insn_len);
	if (!write) {
		vcpu->gpr[L2_RAX] = (u32)value;
		vcpu->gpr[L2_RDX] = value >> 32;
	}
	nested->skip_insn(vcpu, &x);
	return NVM_PASS;
}

NVM_TEST(L2_INTERCEPT_MSR_BITMAP)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_MSR_BITMAP };

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	if (!nested->msr_intercept(&vcpu, MSR_SYSENTER_CS, true, false) ||
	    !nested->msr_intercept(&vcpu, MSR_SYSENTER_ESP, false, true) ||
	    !nested->msr_intercept(&vcpu, MSR_KERNEL_GS_BASE, false, false))
		return stage_fail(r, "the MSR bitmap does not cover 174h, 175h or C0000102h");
	if (nested->msr_intercept(&vcpu, MSR_UNCOVERED, false, false))
		return stage_fail(r, "the MSR bitmap claims to cover MSR 2000h");
	if (expect_msr(&vcpu, l2_rd_cs, MSR_SYSENTER_CS, false, EMU_SYSENTER_CS,
		       "RDMSR 174h (read intercepted)", r) != NVM_PASS ||
	    expect_msr(&vcpu, l2_wr_esp, MSR_SYSENTER_ESP, true, NEW_SYSENTER_ESP,
		       "WRMSR 175h (write intercepted)", r) != NVM_PASS ||
	    expect_msr(&vcpu, l2_rd_unc, MSR_UNCOVERED, false, EMU_UNCOVERED,
		       "RDMSR 2000h (outside the bitmap)", r) != NVM_PASS ||
	    expect_msr(&vcpu, l2_wr_unc, MSR_UNCOVERED, true, NEW_UNCOVERED,
		       "WRMSR 2000h (outside the bitmap)", r) != NVM_PASS ||
	    nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "4 intercepted RDMSR/WRMSR exited with index and value; the passed-through "
			  "ones ran in L2 on its own MSRs");
}
