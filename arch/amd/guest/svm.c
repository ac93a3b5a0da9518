// SPDX-License-Identifier: MIT
/*
 * AMD SVM, L1 side: turn SVM on (AMD APM vol. 2, 15.4 "Enabling SVM").
 * The nested API for tests (VMRUN, #VMEXIT, nested paging) is in svm_nested.c.
 */
#include "vendor.h"
#include "svm_guest.h"
#include "nested.h"
#include "nestvmm/svm.h"

#define VM_CR_SVMDIS (1u << 4)

struct svm_caps svm_caps;

/* The host save area outlives every test: not from the per-test arena,
 * which is zeroed and handed out again after l1.enable. */
static u8 svm_hsave_page[4096] __attribute__((aligned(4096)));

/* l1.enable: CPUID says SVM, firmware has not disabled it, EFER.SVME sticks. */
static enum nvm_status svm_enable(struct stage_result *r)
{
	u32 c[4];
	u64 vm_cr = 0, efer = rdmsr(MSR_EFER);
	struct fault f;

	cpuid(CPUID_LEAF_EXT_FEATURES, 0, c);
	if (!(c[2] & CPUID_80000001_ECX_SVM))
		return stage_skip(r, "CPUID.80000001H:ECX.SVM[2]=0 in L1: SVM not exposed by the VMM");

	/* 15.4: revision, ASID count and optional features are in leaf 8000000Ah. */
	cpuid(CPUID_LEAF_SVM, 0, c);
	svm_caps.revision = c[0] & 0xff;
	svm_caps.nasid = c[1];
	svm_caps.features = c[3];
	stage_detail(r, "CPUID.8000000AH: revision=%u ASIDs=%u EDX=0x%x (NP=%u NRIPS=%u "
		     "FlushByAsid=%u DecodeAssists=%u VGIF=%u)",
		     svm_caps.revision, svm_caps.nasid, svm_caps.features,
		     !!(svm_caps.features & CPUID_8000000A_EDX_NP),
		     !!(svm_caps.features & CPUID_8000000A_EDX_NRIPS),
		     !!(svm_caps.features & SVM_CPUID_EDX_FLUSH_BY_ASID),
		     !!(svm_caps.features & SVM_CPUID_EDX_DECODE_ASSISTS),
		     !!(svm_caps.features & SVM_CPUID_EDX_VGIF));
	TRACE("L1 read CPUID.8000000AH: SVM revision %u, %u ASIDs, EDX=0x%x",
	      svm_caps.revision, svm_caps.nasid, svm_caps.features);

	/* 15.30.1: VM_CR.SVMDIS set means firmware turned SVM off. */
	f = rdmsr_safe(MSR_VM_CR, &vm_cr);
	if (f.faulted)
		stage_detail(r, "RDMSR VM_CR (C001_0114h) raised %s: assuming SVMDIS=0",
			     exception_name(f.vector));
	else
		stage_detail(r, "VM_CR=0x%lx", vm_cr);
	if (!f.faulted && (vm_cr & VM_CR_SVMDIS))
		return stage_fail(r, "VM_CR.SVMDIS=1: SVM is disabled by firmware (BIOS \"SVM Mode\")");

	f = wrmsr_safe(MSR_EFER, efer | EFER_SVME);
	TRACE("L1 wrote EFER=0x%lx (SVME, bit 12): %s", efer | EFER_SVME,
	      f.faulted ? exception_name(f.vector) : "accepted");
	if (f.faulted)
		return stage_fail(r, "%s (error code 0x%x) on WRMSR EFER.SVME=1: L0 refuses SVM to L1 "
				  "(no nested SVM in the host KVM)", exception_name(f.vector), f.error_code);
	if (!(rdmsr(MSR_EFER) & EFER_SVME))
		return stage_fail(r, "EFER.SVME reads back 0 after WRMSR set it");

	/* 15.30.4: VMRUN saves host state to the page VM_HSAVE_PA names. */
	svm_caps.hsave = svm_hsave_page;
	wrmsr(MSR_VM_HSAVE_PA, gpa_of(svm_caps.hsave));
	TRACE("L1 set VM_HSAVE_PA=0x%lx (host save area for VMRUN)", gpa_of(svm_caps.hsave));
	stage_detail(r, "EFER=0x%lx VM_HSAVE_PA=0x%lx", rdmsr(MSR_EFER), gpa_of(svm_caps.hsave));
	nested = &nested_ops_svm;
	nested_features = svm_nested_features(svm_caps.features);
	return stage_pass(r, "EFER.SVME=1 (SVM revision %u, %u ASIDs, NPT %s, NRIPS %s)",
			  svm_caps.revision, svm_caps.nasid,
			  svm_caps.features & CPUID_8000000A_EDX_NP ? "yes" : "no",
			  svm_caps.features & CPUID_8000000A_EDX_NRIPS ? "yes" : "no");
}

static void svm_disable(void)
{
	wrmsr(MSR_VM_HSAVE_PA, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(u64)EFER_SVME);
}

const struct vendor_guest vendor_guest_amd = {
	.arch = "amd",
	.virt = "SVM",
	.id = NVM_AMD,
	.enable = svm_enable,
	.disable = svm_disable,
};
