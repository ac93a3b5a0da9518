// SPDX-License-Identifier: MIT
/* Host steps: build the request, read the reply, check a migrate reply (guest/step.h). */
#include "step.h"

static union {
	struct nvm_msg m;
	u8 raw[NVM_MSG_HDR_SIZE + NVM_STEP_ACTION_MAX];
} stepbuf __attribute__((aligned(8)));

/* The test of the last request, and the last sequence number the VMM answered it with (L2 updates them too). */
static u32 host_step_test = ~0u, host_step_seq;
static u64 host_step_nonce;      /* of the request in stepbuf, as sent */

u32 host_step_prepare(u32 test, const char *action, u64 nonce)
{
	size_t n = strlen(action);

	/* The VMM counts each test's steps from 1. */
	if (test != host_step_test)
		host_step_test = test, host_step_seq = 0;
	if (n > NVM_STEP_ACTION_MAX)
		n = NVM_STEP_ACTION_MAX;
	stepbuf.m.magic = NVM_MSG_MAGIC;
	stepbuf.m.type = NVM_MSG_STEP;
	stepbuf.m.arg = test;
	stepbuf.m.reserved = 0;
	stepbuf.m.str_len[0] = (u16)n;
	stepbuf.m.str_len[1] = stepbuf.m.str_len[2] = 0;
	/* The reply fields start at zero: a VMM that does not answer leaves them so. */
	for (int i = 0; i < NVM_MSG_VALS; i++)
		stepbuf.m.val[i] = 0;
	stepbuf.m.val[NVM_STEP_NONCE] = host_step_nonce = nonce;
	memcpy(stepbuf.m.str, action, n);
	stepbuf.m.size = (u16)(NVM_MSG_HDR_SIZE + n);
	return (u32)gpa_of(&stepbuf);
}

void host_step_reply(struct host_step_reply *reply)
{
	const volatile struct nvm_msg *m = &stepbuf.m;

	for (int i = 0; i < NVM_MSG_VALS; i++)
		reply->val[i] = m->val[i];
	reply->expect_seq = host_step_seq + 1;
	reply->nonce = host_step_nonce;
	if (reply->val[NVM_STEP_SEQ])
		host_step_seq = (u32)reply->val[NVM_STEP_SEQ];
}

void host_step(u32 test, const char *action, u64 nonce, struct host_step_reply *reply)
{
	u32 gpa = host_step_prepare(test, action, nonce);

	__asm__ volatile("outl %0, %1" :: "a"(gpa), "Nd"((u16)NVM_PORT_MSG) : "memory");
	host_step_reply(reply);
}

/* The current-VMCS pointer (SDM 31.3 VMPTRST): the VMCS KVM names in vmcs12_pa. */
static u64 vmcs_current(void)
{
	u64 pa = ~0ull;

	__asm__ volatile("vmptrst %0" : "=m"(pa) :: "cc");
	return pa;
}

#define KVM_STATE_NESTED_GUEST_MODE 0x1     /* linux/kvm.h, KVM_GET_NESTED_STATE flags */
#define KVM_STATE_NESTED_GIF_SET    0x100
#define KVM_NESTED_HDR_SIZE         128     /* struct kvm_nested_state without its data */

enum nvm_status host_step_check_migrate(const struct host_step_reply *rep, bool in_l2,
					const struct l2_vcpu *vcpu, struct stage_result *r)
{
	const u64 *reply = rep->val;
	bool svm = !strcmp(nested->virt, "SVM");
	u64 flags = reply[NVM_STEP_FLAGS], pa, cr3 = read_cr3();

	if (reply[NVM_STEP_SEQ] != rep->expect_seq)
		return stage_fail(r, "host step answered with sequence number %lu, expected %u: %s",
				  reply[NVM_STEP_SEQ], rep->expect_seq, reply[NVM_STEP_SEQ] ?
				  "the VMM counted other steps" : "the VMM did not perform it");
	if (reply[NVM_STEP_NONCE] != rep->nonce)
		return stage_fail(r, "host step reply: nonce 0x%lx, expected 0x%lx as sent: the VMM "
				  "wrote outside the reply fields", reply[NVM_STEP_NONCE], rep->nonce);
	/*
	 * Exactly: GUEST_MODE while L2 ran, and on SVM GIF as the CPU has it:
	 * VMRUN sets it, #VMEXIT clears it and L1 runs with GIF=0 until its
	 * STGI at test_end (APM 15.17). No RUN_PENDING: L2 has run (in L2),
	 * or no VMRUN/VMRESUME is in flight (in L1).
	 */
	u64 want = (in_l2 ? KVM_STATE_NESTED_GUEST_MODE : 0) |
		   (svm && in_l2 ? KVM_STATE_NESTED_GIF_SET : 0);
	if (flags != want)
		return stage_fail(r, "KVM_GET_NESTED_STATE flags 0x%lx, expected 0x%lx (%s%s)", flags,
				  want, in_l2 ? "saved while L2 ran: GUEST_MODE" :
				  "saved in L1 between L2 entries: not GUEST_MODE",
				  !svm ? "" : in_l2 ? ", GIF_SET: VMRUN set GIF" :
				  ", no GIF_SET: #VMEXIT cleared GIF and L1 has not run STGI");
	if (in_l2 && reply[NVM_STEP_SIZE] < KVM_NESTED_HDR_SIZE + 4096)
		return stage_fail(r, "KVM_GET_NESTED_STATE size %lu in guest mode: expected the header "
				  "and a 4 KiB %s", reply[NVM_STEP_SIZE], svm ? "vmcb12" : "vmcs12");
	/* hdr.svm.vmcb_pa is set in guest mode only; hdr.vmx.vmcs12_pa whenever a VMCS is current. */
	pa = svm ? (in_l2 ? gpa_of(vcpu->vendor) : 0) : vmcs_current();
	if (reply[NVM_STEP_PA] != pa)
		return stage_fail(r, "KVM_GET_NESTED_STATE hdr.%s=0x%lx, expected 0x%lx (%s)",
				  svm ? "svm.vmcb_pa" : "vmx.vmcs12_pa", reply[NVM_STEP_PA], pa,
				  svm ? (in_l2 ? "the VMCB L1 ran" : "none outside guest mode") :
				  "the current VMCS, VMPTRST");
	if (!svm && (reply[NVM_STEP_VMXON_PA] == 0 || reply[NVM_STEP_VMXON_PA] == ~0ull))
		return stage_fail(r, "KVM_GET_NESTED_STATE hdr.vmx.vmxon_pa=0x%lx: L1 is in VMX "
				  "operation", reply[NVM_STEP_VMXON_PA]);
	/* The blob's data: SVM has it in guest mode only, VMX whenever a VMCS is current. */
	if ((in_l2 || !svm) && reply[NVM_STEP_L1_CR3] != cr3)
		return stage_fail(r, "nested-state blob: L1's CR3 (%s) is 0x%lx, expected 0x%lx",
				  svm ? "vmcb01 save area" : "vmcs12 HOST_CR3", reply[NVM_STEP_L1_CR3], cr3);
	if ((in_l2 || !svm) && vcpu->ncr3 &&
	    (reply[NVM_STEP_NCR3] & ~0xfffull) != (vcpu->ncr3 & ~0xfffull))
		return stage_fail(r, "nested-state blob: %s is 0x%lx, expected 0x%lx (what L1 wrote)",
				  svm ? "vmcb12 N_CR3" : "vmcs12 EPT_POINTER", reply[NVM_STEP_NCR3],
				  vcpu->ncr3);
	stage_detail(r, "save/restore %lu %s: nested state flags 0x%lx size %lu %s=0x%lx%s, blob "
		     "L1 CR3 0x%lx, %s 0x%lx", reply[NVM_STEP_SEQ], in_l2 ? "in L2" : "in L1", flags,
		     reply[NVM_STEP_SIZE], svm ? "vmcb_pa" : "vmcs12_pa", reply[NVM_STEP_PA],
		     svm ? "" : " (vmxon_pa set)", reply[NVM_STEP_L1_CR3],
		     svm ? "N_CR3" : "EPTP", reply[NVM_STEP_NCR3]);
	return NVM_PASS;
}
