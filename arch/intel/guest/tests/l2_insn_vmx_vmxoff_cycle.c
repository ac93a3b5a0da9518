// SPDX-License-Identifier: MIT
/*
 * l2.insn.vmx.vmxoff-cycle: leaving and re-entering VMX operation, and the
 * VMX instructions' failures in VMX root operation (SDM 24.7-24.8, 31.3
 * VMXON, VMXOFF, INVEPT, INVVPID; error numbers 31.4; RFLAGS 31.2).
 *
 *   MOV to CR4 clearing CR4.VMXE in VMX operation: #GP (24.8);
 *   VMXON in VMX root operation: VMfailInvalid with no current VMCS,
 *     VMfailValid(15) with one;
 *   INVEPT with type 0 and INVVPID with type 4 (neither defined): VMfailValid(28);
 *   L2 runs, exits (hypercall); L1 VMCLEARs its VMCS and executes VMXOFF:
 *     VMsucceed, CR4.VMXE still 1 (VMXOFF leaves it), VMPTRST now #UD;
 *     VMXON on the same region again: VMsucceed, no current VMCS (VMPTRST
 *     stores FFFFFFFF_FFFFFFFFH); VMPTRLD of the old VMCS; VMRESUME of it
 *     fails with error 5 (VMCLEAR made it clear); VMLAUNCH of it enters L2
 *     where it left off, and L2 runs to its end with its registers intact.
 */
#include "test.h"
#include "../vmx_check.h"

#define NO_VMCS (~0ull)

static void l2_code(u64 unused)
{
	(void)unused;
	l2_hypercall(L2_HC_PING, 1, 2, 3);
}

/* With no VMCS current, then with one (nested->vcpu_reset's). */
static void root_failures(struct vmx_steps *s, struct l2_vcpu *vcpu, struct stage_result *r)
{
	u64 vmxon = gpa_of(vmx_caps.vmxon_region);
	struct l2_cfg cfg = { .entry = l2_code };
	struct fault f = write_cr4_safe(read_cr4() & ~(u64)CR4_VMXE);

	vmx_step_check(s, f.faulted && f.vector == X86_VEC_GP,
		       "MOV to CR4 clearing VMXE in VMX operation: %s, expected #GP",
		       f.faulted ? exception_name(f.vector) : "no fault");
	vmx_step(s, "VMXON in VMX root operation, no current VMCS", vmx_check_vmxon(vmxon),
		 VMX_FAIL_INVALID, 0);
	if (nested->vcpu_reset(vcpu, &cfg, r) != NVM_PASS) {
		vmx_step_check(s, false, "vcpu_reset: %s", r->reason);
		return;
	}
	vmx_step(s, "VMXON in VMX root operation", vmx_check_vmxon(vmxon), VMX_FAIL_VALID,
		 VMXERR_VMXON_IN_VMX_ROOT);
	if (vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT)
		vmx_step(s, "INVEPT type 0", vmx_check_invept(0, vcpu->ncr3), VMX_FAIL_VALID,
			 VMXERR_INVALID_INVEPT_INVVPID);
	else
		stage_detail(r, "n/a: INVEPT type 0: IA32_VMX_EPT_VPID_CAP[20] = 0");
	if (vmx_caps.ept_vpid_cap & VMX_VPID_INVVPID)
		vmx_step(s, "INVVPID type 4", vmx_check_invvpid(4, 1), VMX_FAIL_VALID,
			 VMXERR_INVALID_INVEPT_INVVPID);
	else
		stage_detail(r, "n/a: INVVPID type 4: IA32_VMX_EPT_VPID_CAP[32] = 0");
}

/* L2 exits once, L1 leaves VMX operation and comes back, and L2 goes on (24.7, 31.3). */
static enum nvm_status cycle(struct vmx_steps *s, struct l2_vcpu *vcpu, struct stage_result *r)
{
	u64 vmxon = gpa_of(vmx_caps.vmxon_region), vmcs = 0, ptr = 0;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_exit x;
	struct vmx_insn o;

	if (nested->vcpu_reset(vcpu, &cfg, r) != NVM_PASS || nested_enter(vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_PING)
		return nested_unexpected(vcpu, &x, "the PING hypercall", r);
	nested->skip_insn(vcpu, &x);

	vmx_check_vmptrst(&vmcs);
	vmx_step(s, "VMCLEAR before VMXOFF", vmx_check_vmclear(vmcs), VMX_OK, 0);
	vmx_step(s, "VMXOFF", vmx_check_vmxoff(), VMX_OK, 0);
	vmx_step_check(s, read_cr4() & CR4_VMXE, "CR4.VMXE = 0 after VMXOFF (CR4=0x%lx): VMXOFF "
		       "must not change CR4", read_cr4());
	o = vmx_check_vmptrst(&ptr);
	vmx_step_check(s, o.result == VMX_FAULT && o.vector == X86_VEC_UD,
		       "VMPTRST outside VMX operation: %s, expected #UD",
		       o.result == VMX_FAULT ? exception_name(o.vector) : vmx_result_name(o.result));
	o = vmx_check_vmxon(vmxon);
	vmx_step(s, "VMXON after VMXOFF", o, VMX_OK, 0);
	if (o.result != VMX_OK)
		return stage_fail(r, "VMXON after VMXOFF: %s; L1 is outside VMX operation",
				  vmx_result_name(o.result));
	o = vmx_check_vmptrst(&ptr);
	vmx_step_check(s, o.result == VMX_OK && ptr == NO_VMCS, "VMPTRST right after VMXON: %s, "
		       "stored 0x%lx, expected FFFFFFFF_FFFFFFFFH", vmx_result_name(o.result), ptr);
	vmx_step(s, "VMPTRLD of the VMCLEARed VMCS", vmx_check_vmptrld(vmcs), VMX_OK, 0);
	vmx_step(s, "VMRESUME of the VMCLEARed VMCS", vmx_check_launch(vcpu, true), VMX_FAIL_VALID,
		 VMXERR_VMRESUME_NONLAUNCHED_VMCS);

	/* nested->enter launches an L2 with no entries yet: VMLAUNCH, as 31.3 wants after VMCLEAR. */
	vcpu->entries = 0;
	if (nested_run_to_done(vcpu, r) != NVM_PASS) {
		vmx_step_check(s, false, "L2 after VMXOFF/VMXON and VMLAUNCH: %s", r->reason);
		r->status = NVM_PASS;
	}
	return NVM_PASS;
}

NVM_TEST(L2_INSN_VMX_VMXOFF_CYCLE)
{
	struct vmx_steps s = { .r = r };
	struct l2_vcpu vcpu;

	root_failures(&s, &vcpu, r);
	if (cycle(&s, &vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	if (vmx_steps_end(&s) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "%u checks: VMXON in root fails (15 / VMfailInvalid), INVEPT/INVVPID "
			  "bad types fail (28); after VMCLEAR, VMXOFF, VMXON the VMCS launches again "
			  "and L2 finishes", s.n);
}
