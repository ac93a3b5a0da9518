// SPDX-License-Identifier: MIT
/*
 * l2.insn.vmx.vmfail-codes: the VMX instructions fail as SDM 31.3 says,
 * with the VM-instruction error numbers of 31.4 (table 31-1), and leave
 * RFLAGS as 31.2 says (each runs with CF, PF, AF, ZF, SF, OF all set
 * beforehand: VMsucceed clears them all, VMfailInvalid leaves CF only,
 * VMfailValid ZF only).
 *
 *   no current VMCS (after VMCLEAR of the current one): VMPTRST stores
 *     FFFFFFFF_FFFFFFFFH; VMREAD, VMWRITE and VMCLEAR of the VMXON region
 *     VMfailInvalid (there is no VMCS to hold an error number);
 *   VMCLEAR of the VMXON pointer: error 3; of an address beyond the
 *     physical-address width and of one not 4-KiB aligned: error 2;
 *   VMPTRLD of the VMXON pointer: error 10; beyond the width: error 9; of
 *     a region whose revision identifier is not IA32_VMX_BASIC[30:0]:
 *     error 11; after each failure VMPTRST still names the current VMCS;
 *   VMREAD and VMWRITE of an unsupported field (GUEST_CR0 with the "high"
 *     access bit, valid only for 64-bit fields, B.1): error 12;
 *   VMWRITE of the read-only VM-exit reason: error 13, or VMsucceed when
 *     IA32_VMX_MISC[29] allows writing VM-exit information fields;
 *   VMLAUNCH of a launched VMCS (L2 ran on it): error 4 ("VMLAUNCH with
 *     non-clear VMCS"); VMRESUME of a clear one: error 5; VMRESUME with no
 *     current VMCS: VMfailInvalid.
 */
#include "test.h"
#include "../vmx_check.h"

#define VMX_MISC_VMWRITE_ALL (1ull << 29)
#define FIELD_UNSUPPORTED    (GUEST_CR0 | 1u)
#define NO_VMCS              (~0ull)

static void l2_code(u64 unused)
{
	(void)unused;
}

/* VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE on VMCS regions of this test's own. */
static void pointer_insns(struct vmx_steps *s)
{
	u8 *a = page_alloc(1), *b = page_alloc(1);
	u64 vmxon = gpa_of(vmx_caps.vmxon_region), beyond = 1ull << vmx_check_maxphyaddr();
	u64 v = 0, ptr = 0;
	struct vmx_insn o;

	*(u32 *)a = vmx_caps.revision;
	*(u32 *)b = (vmx_caps.revision + 1) & 0x7fffffffu;
	vmx_step(s, "VMPTRLD of a fresh region", vmx_check_vmptrld(gpa_of(a)), VMX_OK, 0);
	vmx_step(s, "VMCLEAR of the current VMCS", vmx_check_vmclear(gpa_of(a)), VMX_OK, 0);

	/* 31.3 VMCLEAR: clearing the current VMCS leaves none current. */
	o = vmx_check_vmptrst(&ptr);
	vmx_step(s, "VMPTRST with no current VMCS", o, VMX_OK, 0);
	vmx_step_check(s, ptr == NO_VMCS, "VMPTRST with no current VMCS stored 0x%lx, expected "
		       "FFFFFFFF_FFFFFFFFH", ptr);
	vmx_step(s, "VMREAD with no current VMCS", vmx_check_vmread(GUEST_RIP, &v), VMX_FAIL_INVALID, 0);
	vmx_step(s, "VMWRITE with no current VMCS", vmx_check_vmwrite(GUEST_RIP, 0), VMX_FAIL_INVALID, 0);
	vmx_step(s, "VMCLEAR of the VMXON pointer with no current VMCS", vmx_check_vmclear(vmxon),
		 VMX_FAIL_INVALID, 0);

	vmx_step(s, "VMPTRLD again", vmx_check_vmptrld(gpa_of(a)), VMX_OK, 0);
	vmx_step(s, "VMCLEAR of the VMXON pointer", vmx_check_vmclear(vmxon), VMX_FAIL_VALID,
		 VMXERR_VMCLEAR_VMXON_POINTER);
	vmx_step(s, "VMCLEAR beyond the physical-address width", vmx_check_vmclear(beyond),
		 VMX_FAIL_VALID, VMXERR_VMCLEAR_INVALID_ADDRESS);
	vmx_step(s, "VMCLEAR of an address not 4-KiB aligned", vmx_check_vmclear(gpa_of(b) + 0x800),
		 VMX_FAIL_VALID, VMXERR_VMCLEAR_INVALID_ADDRESS);
	vmx_step(s, "VMPTRLD of the VMXON pointer", vmx_check_vmptrld(vmxon), VMX_FAIL_VALID,
		 VMXERR_VMPTRLD_VMXON_POINTER);
	vmx_step(s, "VMPTRLD beyond the physical-address width", vmx_check_vmptrld(beyond),
		 VMX_FAIL_VALID, VMXERR_VMPTRLD_INVALID_ADDRESS);
	vmx_step(s, "VMPTRLD of a region with a wrong revision identifier", vmx_check_vmptrld(gpa_of(b)),
		 VMX_FAIL_VALID, VMXERR_VMPTRLD_INCORRECT_REVISION);
	o = vmx_check_vmptrst(&ptr);
	vmx_step(s, "VMPTRST after the failed VMPTRLDs", o, VMX_OK, 0);
	vmx_step_check(s, ptr == gpa_of(a), "after the failed VMPTRLDs VMPTRST stored 0x%lx, expected "
		       "the current VMCS 0x%lx", ptr, gpa_of(a));

	vmx_step(s, "VMREAD of an unsupported field (GUEST_CR0 high access)",
		 vmx_check_vmread(FIELD_UNSUPPORTED, &v), VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	vmx_step(s, "VMWRITE of an unsupported field (GUEST_CR0 high access)",
		 vmx_check_vmwrite(FIELD_UNSUPPORTED, 0), VMX_FAIL_VALID, VMXERR_UNSUPPORTED_VMCS_COMPONENT);
	if (vmx_caps.misc & VMX_MISC_VMWRITE_ALL)
		vmx_step(s, "VMWRITE of VM_EXIT_REASON with IA32_VMX_MISC[29] = 1",
			 vmx_check_vmwrite(VM_EXIT_REASON, 0), VMX_OK, 0);
	else
		vmx_step(s, "VMWRITE of the read-only VM_EXIT_REASON", vmx_check_vmwrite(VM_EXIT_REASON, 0),
			 VMX_FAIL_VALID, VMXERR_VMWRITE_READ_ONLY);
	vmx_step(s, "VMCLEAR of the test's VMCS", vmx_check_vmclear(gpa_of(a)), VMX_OK, 0);
}

/* VMLAUNCH/VMRESUME against the launch state (31.3): a VMCS nested->vcpu_reset set up. */
static enum nvm_status launch_states(struct vmx_steps *s, struct stage_result *r)
{
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_vcpu vcpu;
	u64 ptr = 0;

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS || nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	vmx_step(s, "VMLAUNCH of a launched VMCS", vmx_check_launch(&vcpu, false), VMX_FAIL_VALID,
		 VMXERR_VMLAUNCH_NONCLEAR_VMCS);

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	vmx_step(s, "VMRESUME of a clear VMCS", vmx_check_launch(&vcpu, true), VMX_FAIL_VALID,
		 VMXERR_VMRESUME_NONLAUNCHED_VMCS);

	vmx_check_vmptrst(&ptr);
	vmx_step(s, "VMCLEAR of the current VMCS", vmx_check_vmclear(ptr), VMX_OK, 0);
	vmx_step(s, "VMRESUME with no current VMCS", vmx_check_launch(&vcpu, true), VMX_FAIL_INVALID, 0);
	return NVM_PASS;
}

NVM_TEST(L2_INSN_VMX_VMFAIL_CODES)
{
	struct vmx_steps s = { .r = r };

	pointer_insns(&s);
	if (launch_states(&s, r) != NVM_PASS)
		return NVM_FAIL;
	if (vmx_steps_end(&s) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "%u checks: VMfail codes 2, 3, 4, 5, 9, 10, 11, 12, %s and VMfailInvalid "
			  "with the RFLAGS of SDM 31.2", s.n,
			  vmx_caps.misc & VMX_MISC_VMWRITE_ALL ? "VMWRITE of exit info allowed" : "13");
}
