// SPDX-License-Identifier: MIT
/*
 * l2.check.vmx.valid-unusual: settings SDM 27.2-27.3 allow although they
 * look wrong, which an over-strict VM-entry check refuses (one such check
 * in KVM stopped VMware Workstation from running as L1). Each row must
 * enter L2, which runs to its end, unless it says otherwise:
 *
 *   ES, DS and LDTR unusable (AR bit 16) with selector 0, junk base and
 *     limit, and every other AR bit 16:0 set: 27.3.1.2 checks the
 *     attributes of usable segments only;
 *   guest CR0.CD = 1 (NW = 0): IA32_VMX_CR0_FIXED1 allows it (27.3.1.1);
 *   "enable VPID" with VPID FFFFH: only 0 is refused (27.2.1.1);
 *   VM-entry interruption information with the valid bit clear and every
 *     other bit set: its checks apply to valid events only (27.2.1.3);
 *   VM-entry MSR-load, VM-exit MSR-store and MSR-load counts 0 with
 *     addresses neither aligned nor within the physical-address width:
 *     addresses are checked only for counts above 0 (27.2.1.2, 27.2.1.3);
 *   I/O and MSR bitmap addresses likewise, without "use I/O bitmaps" and
 *     "use MSR bitmaps" (27.2.1.1);
 *   CR3-target count equal to IA32_VMX_MISC[24:16], the largest allowed;
 *   activity state HLT (allowed when IA32_VMX_MISC[6] says so) with a #DB
 *     injected: one of the events 27.3.1.5 allows in HLT; L2's own #DB
 *     handler sees it once, then L2 runs to its end.
 *
 * Not here: HLT with no event, woken by the VMX-preemption timer at 0. KVM
 * emulates L2's HLT activity state as a halt of the vCPU, which with
 * nestvmm's userspace local APIC reaches the VMM as KVM_EXIT_HLT: the run
 * ends there ("L1 halted ... without reporting done", seen under Bochs).
 */
#include "test.h"
#include "../vmx_check.h"

#define JUNK_ADDR(w) ((1ull << (w)) | 0xff8)   /* beyond the width, 8-byte aligned only */

static void l2_code(u64 unused)
{
	(void)unused;
}

static const char *unusable_segments(struct l2_vcpu *v)
{
	static const u32 sel[] = { GUEST_ES_SELECTOR, GUEST_DS_SELECTOR, GUEST_LDTR_SELECTOR };

	(void)v;
	for (unsigned int i = 0; i < sizeof(sel) / sizeof(sel[0]); i++) {
		u32 idx = sel[i] - GUEST_ES_SELECTOR;
		vmx_check_write(sel[i], 0);
		vmx_check_write(GUEST_ES_BASE + idx, 0xdead0000ull);
		vmx_check_write(GUEST_ES_LIMIT + idx, 0x1234);
		vmx_check_write(GUEST_ES_AR_BYTES + idx, 0x1ffff);
	}
	return NULL;
}

static const char *cr0_cd(struct l2_vcpu *v)
{
	(void)v;
	if (!(vmx_caps.cr0_fixed1 & (1ull << 30)))
		return "IA32_VMX_CR0_FIXED1 fixes CR0.CD to 0";
	vmx_check_write(GUEST_CR0, (vmx_check_read(GUEST_CR0) | (1ull << 30)) & ~(1ull << 29));
	return NULL;
}

static const char *vpid_ffff(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC2], SECONDARY_EXEC_ENABLE_VPID) ||
	    !vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return "no \"enable VPID\"";
	vmx_check_write(VMCS_VIRTUAL_PROCESSOR_ID, 0xffff);
	vmx_check_write(CPU_BASED_VM_EXEC_CONTROL,
			vmx_check_read(CPU_BASED_VM_EXEC_CONTROL) | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
	vmx_check_write(SECONDARY_VM_EXEC_CONTROL,
			vmx_check_read(SECONDARY_VM_EXEC_CONTROL) | SECONDARY_EXEC_ENABLE_VPID);
	return NULL;
}

static const char *intr_info_not_valid(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(VM_ENTRY_INTR_INFO_FIELD, 0x7fffffff);
	vmx_check_write(VM_ENTRY_EXCEPTION_ERROR_CODE, 0xffffffff);
	vmx_check_write(VM_ENTRY_INSTRUCTION_LEN, 0xff);
	return NULL;
}

static const char *msr_lists_empty(struct l2_vcpu *v)
{
	u64 junk = JUNK_ADDR(vmx_check_maxphyaddr());

	(void)v;
	vmx_check_write(VM_ENTRY_MSR_LOAD_ADDR, junk);
	vmx_check_write(VM_EXIT_MSR_STORE_ADDR, junk);
	vmx_check_write(VM_EXIT_MSR_LOAD_ADDR, junk);
	return NULL;
}

static const char *bitmaps_unused(struct l2_vcpu *v)
{
	u64 junk = JUNK_ADDR(vmx_check_maxphyaddr());

	(void)v;
	vmx_check_write(IO_BITMAP_A, junk);
	vmx_check_write(IO_BITMAP_B, junk);
	vmx_check_write(MSR_BITMAP, junk);
	vmx_check_write(CPU_BASED_VM_EXEC_CONTROL, vmx_check_read(CPU_BASED_VM_EXEC_CONTROL) &
			~(u64)(CPU_BASED_USE_IO_BITMAPS | CPU_BASED_USE_MSR_BITMAPS));
	return NULL;
}

static const char *cr3_target_max(struct l2_vcpu *v)
{
	u32 n = (vmx_caps.misc >> 16) & 0x1ff;

	(void)v;
	if (!n)
		return "IA32_VMX_MISC[24:16] = 0: no CR3-target values";
	vmx_check_write(CR3_TARGET_COUNT, n);
	return NULL;
}

/*
 * 27.3.1.5: in activity state HLT the only events VM entry may inject are
 * external interrupts, NMIs and hardware exceptions 1 and 18; delivering
 * the injected event (27.6) leaves the processor active. L2's own #DB handler counts it,
 * and returns to l2_start, so that L2 then runs to its end.
 */
static volatile u32 hlt_db_seen;
static bool hlt_db_applied;

static void l2_db_handler(struct exc_frame *f)
{
	(void)f;
	hlt_db_seen++;
}

static const char *hlt_inject_db(struct l2_vcpu *v)
{
	(void)v;
	if (!(vmx_caps.misc & VMX_MISC_ACTIVITY_HLT))
		return "IA32_VMX_MISC[6] = 0: no HLT activity state";
	hlt_db_seen = 0;
	hlt_db_applied = true;
	l2_set_handler(1, l2_db_handler);
	vmx_check_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_HLT);
	vmx_check_write(VM_ENTRY_INTR_INFO_FIELD, vmx_entry_intr_info(1, INTR_TYPE_HARD_EXCEPTION, false));
	return NULL;
}

#define ROW(what, fn) { what, fn, EXPECT_DONE, 0, 0, false }

static const struct vmx_check_row rows[] = {
	ROW("ES, DS, LDTR unusable with junk attributes, base, limit (27.3.1.2)", unusable_segments),
	ROW("guest CR0.CD = 1 (27.3.1.1)", cr0_cd),
	ROW("\"enable VPID\" with VPID FFFFH (27.2.1.1)", vpid_ffff),
	ROW("VM-entry interruption information not valid, other bits all 1 (27.2.1.3)",
	    intr_info_not_valid),
	ROW("MSR-load/-store counts 0 with junk addresses (27.2.1.2-3)", msr_lists_empty),
	ROW("I/O and MSR bitmap junk addresses, bitmaps unused (27.2.1.1)", bitmaps_unused),
	ROW("CR3-target count = IA32_VMX_MISC[24:16] (27.2.1.1)", cr3_target_max),
	ROW("activity state HLT with an injected #DB (27.3.1.5)", hlt_inject_db),
};

NVM_TEST(L2_CHECK_VMX_VALID_UNUSUAL)
{
	enum nvm_status st;

	hlt_db_applied = false;
	st = vmx_check_rows(rows, sizeof(rows) / sizeof(rows[0]), l2_code, r);
	l2_set_handler(1, NULL);
	if (st != NVM_PASS)
		return r->status;
	if (hlt_db_applied && hlt_db_seen != 1)
		return stage_fail(r, "activity state HLT with an injected #DB: L2's #DB handler ran %u "
				  "times, expected once", hlt_db_seen);
	return stage_pass(r, "every unusual but valid setting entered L2");
}
