// SPDX-License-Identifier: MIT
/*
 * l2.insn.svm.hsave: the VM_HSAVE_PA MSR (C001_0117h, AMD APM vol. 2,
 * 15.30.4 "VM_HSAVE_PA MSR": the 4 KiB-aligned physical address of the
 * host save area VMRUN uses). KVM refuses a WRMSR of an address that is
 * not 4 KiB aligned or lies at or beyond MAXPHYADDR with #GP (svm.c,
 * svm_set_msr: page_address_valid) and keeps the old value; a valid new
 * page is taken and VMRUN/#VMEXIT work with it (L2 runs to DONE).
 * Afterwards L1's own host save area is set again.
 */
#include "test.h"
#include "../svm_check.h"

static void l2_code(u64 unused)
{
	(void)unused;
}

NVM_TEST(L2_INSN_SVM_HSAVE)
{
	u64 orig = rdmsr(MSR_VM_HSAVE_PA), fresh = gpa_of(page_alloc(1));
	u64 beyond = 1ull << svm_maxphyaddr();
	const struct { u64 val; const char *why; } bad[] = {
		{ fresh + 0x10, "not 4 KiB aligned" },
		{ fresh | 0x800, "bit 11 set" },
		{ beyond, "at MAXPHYADDR" },
		{ 1ull << 52, "bit 52 set" },
	};
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	enum nvm_status st;

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fault f = wrmsr_safe(MSR_VM_HSAVE_PA, bad[i].val);
		u64 now = rdmsr(MSR_VM_HSAVE_PA);

		if (!f.faulted || f.vector != X86_VEC_GP) {
			wrmsr(MSR_VM_HSAVE_PA, orig);
			return stage_fail(r, "WRMSR VM_HSAVE_PA=0x%lx (%s): %s%s, expected #GP (now reads 0x%lx)",
					  bad[i].val, bad[i].why, f.faulted ? "raised " : "accepted",
					  f.faulted ? exception_name(f.vector) : "", now);
		}
		if (now != orig)
			return stage_fail(r, "after the refused WRMSR VM_HSAVE_PA=0x%lx (%s) it reads 0x%lx, "
					  "expected the old 0x%lx", bad[i].val, bad[i].why, now, orig);
	}

	/* A valid new host save area: taken, and the world switch works with it. */
	wrmsr(MSR_VM_HSAVE_PA, fresh);
	if (rdmsr(MSR_VM_HSAVE_PA) != fresh) {
		u64 now = rdmsr(MSR_VM_HSAVE_PA);

		wrmsr(MSR_VM_HSAVE_PA, orig);
		return stage_fail(r, "VM_HSAVE_PA reads 0x%lx after WRMSR 0x%lx", now, fresh);
	}
	st = nested->vcpu_reset(&vcpu, &cfg, r);
	if (st == NVM_PASS)
		st = nested_run_to_done(&vcpu, r);
	wrmsr(MSR_VM_HSAVE_PA, orig);
	if (st != NVM_PASS)
		return stage_fail(r, "with VM_HSAVE_PA=0x%lx (a fresh page): %s", fresh, r->reason);
	return stage_pass(r, "WRMSR VM_HSAVE_PA unaligned, bit 11, at MAXPHYADDR (0x%lx), bit 52: #GP, "
			  "value kept; a new page is taken and L2 runs with it", beyond);
}
