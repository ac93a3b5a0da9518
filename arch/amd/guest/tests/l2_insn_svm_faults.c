// SPDX-License-Identifier: MIT
/*
 * l2.insn.svm.faults: the exceptions the SVM instructions themselves raise
 * in L1 (AMD APM vol. 3, VMRUN, VMLOAD, VMSAVE, STGI, CLGI, INVLPGA,
 * "Exceptions"; vol. 2, 15.4 "Enabling SVM"):
 *
 *  - with EFER.SVME=0 each of VMSAVE, VMLOAD, CLGI, STGI, INVLPGA and
 *    VMRUN raises #UD ("Secure Virtual Machine was not enabled
 *    (EFER.SVME=0)"); SVME and VM_HSAVE_PA are restored afterwards;
 *  - with SVME=1, VMRUN, VMLOAD and VMSAVE raise #GP(0) when rAX is not
 *    aligned on a 4 KiB boundary and when it lies at or above the
 *    physical-address width (CPUID 8000_0008h:EAX[7:0]).
 *
 * KVM deviates for CLGI and STGI when it gives L1 virtual GIF (CPUID
 * 8000_000Ah:EDX.VGIF[16], as under QEMU TCG): it stops intercepting them
 * (svm.c, init_vmcb) and the L0's CPU checks its own EFER, where KVM
 * always sets SVME (svm_set_efer), so they run without #UD. With VGIF
 * offered, those two rows are named in the details, not failed; without
 * it (an L0 started with -cpu max,-vgif) they must #UD.
 *
 * Every row is tried and every wrong one named. The operands are chosen so
 * that an L0 that wrongly executes an instruction does no harm: VMLOAD
 * reads a page VMSAVE filled with L1's own state, VMSAVE writes a scratch
 * page, and VMRUN names a VMCB whose L2 exits at once with VMMCALL.
 */
#include "test.h"
#include "../svm_check.h"

struct fault_row {
	enum svm_insn insn;
	u64 rax;
	u8 vector;
	const char *why;
};

static void l2_code(u64 unused)
{
	(void)unused;
}

/* NULL when the row held, else its description in buf. */
static const char *row_try(const struct fault_row *row, const struct vmcb *vmcb, char *buf,
			   size_t size)
{
	struct fault f = svm_insn_safe(row->insn, row->rax);

	if (f.faulted && f.vector == row->vector && (row->vector != X86_VEC_GP || !f.error_code))
		return NULL;
	if (f.faulted)
		snprintf(buf, size, "%s (RAX=0x%lx) %s: raised %s (error code 0x%x), expected %s",
			 svm_insn_name(row->insn), row->rax, row->why, exception_name(f.vector),
			 f.error_code, exception_name(row->vector));
	else
		snprintf(buf, size, "%s (RAX=0x%lx) %s: no exception%s, expected %s",
			 svm_insn_name(row->insn), row->rax, row->why,
			 row->insn == SVM_INSN_VMRUN && vmcb->control.exitcode == VMEXIT_VMMCALL ?
			 " (it ran L2)" : "", exception_name(row->vector));
	return buf;
}

NVM_TEST(L2_INSN_SVM_FAULTS)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	u8 *scratch = page_alloc(1);
	u64 efer = rdmsr(MSR_EFER), beyond = 1ull << svm_maxphyaddr(), vmcb_pa;
	u32 failed = 0, total = 0, deviations = 0;
	char first[L1_REASON_MAX] = "", buf[L1_REASON_MAX];
	struct fault f;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	/* A VMCB that enters and comes straight back, should VMRUN run by mistake. */
	((struct vmcb *)vcpu.vendor)->save.rip = gpa_of(svm_check_l2_vmmcall);
	vmcb_pa = gpa_of(vcpu.vendor);
	/* L1's own FS/GS/TR/LDTR/MSRs: what a wrongly executed VMLOAD would load. */
	f = svm_insn_safe(SVM_INSN_VMSAVE, gpa_of(scratch));
	if (f.faulted)
		return stage_fail(r, "VMSAVE (RAX=0x%lx, aligned, EFER.SVME=1) raised %s (error code 0x%x)",
				  gpa_of(scratch), exception_name(f.vector), f.error_code);

	const struct fault_row ud_rows[] = {
		{ SVM_INSN_VMSAVE, gpa_of(scratch), X86_VEC_UD, "with EFER.SVME=0" },
		{ SVM_INSN_VMLOAD, gpa_of(scratch), X86_VEC_UD, "with EFER.SVME=0" },
		{ SVM_INSN_CLGI, 0, X86_VEC_UD, "with EFER.SVME=0" },
		{ SVM_INSN_STGI, 0, X86_VEC_UD, "with EFER.SVME=0" },
		{ SVM_INSN_INVLPGA, gpa_of(scratch), X86_VEC_UD, "with EFER.SVME=0" },
		{ SVM_INSN_VMRUN, vmcb_pa, X86_VEC_UD, "with EFER.SVME=0" },
	};
	const struct fault_row gp_rows[] = {
		{ SVM_INSN_VMRUN, vmcb_pa + 0x10, X86_VEC_GP, "not 4 KiB aligned" },
		{ SVM_INSN_VMRUN, beyond, X86_VEC_GP, "at MAXPHYADDR" },
		{ SVM_INSN_VMLOAD, gpa_of(scratch) + 0x10, X86_VEC_GP, "not 4 KiB aligned" },
		{ SVM_INSN_VMLOAD, beyond, X86_VEC_GP, "at MAXPHYADDR" },
		{ SVM_INSN_VMSAVE, gpa_of(scratch) + 0x10, X86_VEC_GP, "not 4 KiB aligned" },
		{ SVM_INSN_VMSAVE, beyond, X86_VEC_GP, "at MAXPHYADDR" },
	};

	/* 15.4: SVM instructions need EFER.SVME=1. */
	wrmsr(MSR_EFER, efer & ~(u64)EFER_SVME);
	for (unsigned int i = 0; i < sizeof(ud_rows) / sizeof(ud_rows[0]); i++, total++) {
		const char *bad = row_try(&ud_rows[i], vcpu.vendor, buf, sizeof(buf));

		if (!bad)
			continue;
		if ((svm_caps.features & SVM_CPUID_EDX_VGIF) &&
		    (ud_rows[i].insn == SVM_INSN_CLGI || ud_rows[i].insn == SVM_INSN_STGI)) {
			stage_detail(r, "known KVM deviation with VGIF (not failed): %s", bad);
			deviations++;
			continue;
		}
		stage_detail(r, "%s", bad);
		if (!failed++)
			memcpy(first, bad, sizeof(first));
	}
	wrmsr(MSR_EFER, efer);
	wrmsr(MSR_VM_HSAVE_PA, gpa_of(svm_caps.hsave));
	if (!(rdmsr(MSR_EFER) & EFER_SVME))
		return stage_fail(r, "EFER.SVME reads 0 after L1 set it again");

	for (unsigned int i = 0; i < sizeof(gp_rows) / sizeof(gp_rows[0]); i++, total++) {
		const char *bad = row_try(&gp_rows[i], vcpu.vendor, buf, sizeof(buf));

		if (!bad)
			continue;
		stage_detail(r, "%s", bad);
		if (!failed++)
			memcpy(first, bad, sizeof(first));
	}
	/* A CLGI or a #VMEXIT that should not have happened left GIF clear. */
	svm_insn_safe(SVM_INSN_STGI, 0);
	if (failed)
		return stage_fail(r, "%u of %u rows: %s", failed, total, first);
	return stage_pass(r, "#UD for %u SVM instructions with EFER.SVME=0%s; #GP(0) for VMRUN/VMLOAD/"
			  "VMSAVE with rAX unaligned or at MAXPHYADDR (0x%lx)", 6 - deviations,
			  deviations ? " (CLGI/STGI ran: KVM's VGIF deviation, see details)" : "", beyond);
}
