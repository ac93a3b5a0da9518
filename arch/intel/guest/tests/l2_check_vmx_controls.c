// SPDX-License-Identifier: MIT
/*
 * l2.check.vmx.controls: VMLAUNCH refuses VMX controls that break a rule of
 * SDM 27.2.1 ("Checks on VMX Controls") with VMfailValid and
 * VM-instruction error 7 ("VM entry with invalid control field(s)", table
 * 31-1), and L1 goes on after the VMLAUNCH with ZF set and CF, PF, AF, SF,
 * OF clear (31.2). One row per rule, each on a fresh VMCS that
 * nested->vcpu_reset built valid and the row changes in one place:
 *
 *   27.2.1.1  reserved bits of the pin-based, primary and secondary
 *             processor-based controls against the capability MSRs (a bit
 *             allowed-1 says must be 0, set; a bit allowed-0 says must be 1,
 *             clear); CR3-target count above IA32_VMX_MISC[24:16]; I/O
 *             bitmap address not 4-KiB aligned; MSR bitmap address beyond
 *             the physical-address width; "virtual NMIs" without "NMI
 *             exiting"; "NMI-window exiting" without "virtual NMIs";
 *             "unrestricted guest" without "enable EPT"; "enable VPID" with
 *             VPID 0; EPTP with memory type 1 and with a 2-level walk;
 *             "save VMX-preemption timer value" without the timer.
 *   27.2.1.2  reserved bits of the VM-exit controls.
 *   27.2.1.3  reserved bits of the VM-entry controls; VM-entry
 *             interruption information with the reserved type 1, an NMI
 *             with a vector other than 2, a #PF without "deliver error
 *             code"; a VM-entry MSR-load address not 16-byte aligned.
 *
 * A row whose control the L0 does not offer is listed as n/a in the details.
 */
#include "test.h"
#include "../vmx_check.h"

static void l2_code(u64 unused)
{
	(void)unused;
}

/* The current value of one control field, from the VMCS. */
static u32 ctl_now(enum vmx_ctl c)
{
	return (u32)vmx_check_read(vmx_ctl_field(c));
}

/* A control bit the capability MSR says must be 0 (allowed-1 clear), set. */
static const char *reserved_one(enum vmx_ctl c)
{
	u32 may_be_1 = (u32)(vmx_caps.ctl[c] >> 32);

	for (unsigned int bit = 0; bit < 32; bit++)
		if (!(may_be_1 & (1u << bit))) {
			vmx_check_write(vmx_ctl_field(c), ctl_now(c) | (1u << bit));
			return NULL;
		}
	return "every bit may be 1";
}

/* Secondary controls in use (activated in the primary ones), with bits added. */
static const char *proc2_set(u32 bits)
{
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return "no secondary controls";
	vmx_check_write(CPU_BASED_VM_EXEC_CONTROL,
			ctl_now(VMX_CTL_PROC) | CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
	vmx_check_write(SECONDARY_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PROC2) | bits);
	return NULL;
}

static const char *pin_reserved(struct l2_vcpu *v) { (void)v; return reserved_one(VMX_CTL_PIN); }
static const char *proc_reserved(struct l2_vcpu *v) { (void)v; return reserved_one(VMX_CTL_PROC); }
static const char *exit_reserved(struct l2_vcpu *v) { (void)v; return reserved_one(VMX_CTL_EXIT); }
static const char *entry_reserved(struct l2_vcpu *v) { (void)v; return reserved_one(VMX_CTL_ENTRY); }

static const char *proc2_reserved(struct l2_vcpu *v)
{
	u32 may_be_1 = (u32)(vmx_caps.ctl[VMX_CTL_PROC2] >> 32);

	(void)v;
	for (unsigned int bit = 0; bit < 32; bit++)
		if (!(may_be_1 & (1u << bit)))
			return proc2_set(1u << bit);
	return "every bit may be 1";
}

/* A default1 bit of the pin-based controls (allowed-0 set: must be 1), cleared. */
static const char *pin_must_be_1(struct l2_vcpu *v)
{
	u32 must_be_1 = (u32)vmx_caps.ctl[VMX_CTL_PIN];

	(void)v;
	if (!must_be_1)
		return "no pin-based control must be 1";
	vmx_check_write(PIN_BASED_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PIN) & ~(must_be_1 & -must_be_1));
	return NULL;
}

/* IA32_VMX_MISC[24:16]: how many CR3-target values the CPU supports. */
static const char *cr3_target_count(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(CR3_TARGET_COUNT, ((vmx_caps.misc >> 16) & 0x1ff) + 1);
	return NULL;
}

static const char *io_bitmap_unaligned(struct l2_vcpu *v)
{
	u8 *bitmaps = page_alloc(2);

	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_USE_IO_BITMAPS))
		return "no \"use I/O bitmaps\"";
	vmx_check_write(IO_BITMAP_A, gpa_of(bitmaps) + 0x800);
	vmx_check_write(IO_BITMAP_B, gpa_of(bitmaps) + 4096);
	vmx_check_write(CPU_BASED_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PROC) | CPU_BASED_USE_IO_BITMAPS);
	return NULL;
}

static const char *msr_bitmap_beyond_width(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_USE_MSR_BITMAPS))
		return "no \"use MSR bitmaps\"";
	vmx_check_write(MSR_BITMAP, 1ull << vmx_check_maxphyaddr());
	vmx_check_write(CPU_BASED_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PROC) | CPU_BASED_USE_MSR_BITMAPS);
	return NULL;
}

static const char *virtual_nmis_alone(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PIN], PIN_BASED_VIRTUAL_NMIS))
		return "no \"virtual NMIs\"";
	vmx_check_write(PIN_BASED_VM_EXEC_CONTROL,
			(ctl_now(VMX_CTL_PIN) | PIN_BASED_VIRTUAL_NMIS) & ~PIN_BASED_NMI_EXITING);
	return NULL;
}

static const char *nmi_window_alone(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_NMI_WINDOW_EXITING))
		return "no \"NMI-window exiting\"";
	vmx_check_write(PIN_BASED_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PIN) & ~PIN_BASED_VIRTUAL_NMIS);
	vmx_check_write(CPU_BASED_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PROC) | CPU_BASED_NMI_WINDOW_EXITING);
	return NULL;
}

static const char *unrestricted_without_ept(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC2], SECONDARY_EXEC_UNRESTRICTED_GUEST))
		return "no \"unrestricted guest\"";
	return proc2_set(SECONDARY_EXEC_UNRESTRICTED_GUEST);
}

static const char *vpid_zero(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC2], SECONDARY_EXEC_ENABLE_VPID))
		return "no \"enable VPID\"";
	vmx_check_write(VMCS_VIRTUAL_PROCESSOR_ID, 0);
	return proc2_set(SECONDARY_EXEC_ENABLE_VPID);
}

/* 27.2.1.1: EPTP bits 2:0 must be a memory type IA32_VMX_EPT_VPID_CAP allows: 1 never is. */
static const char *eptp_memtype(struct l2_vcpu *v)
{
	vmx_check_write(EPT_POINTER, (v->ncr3 & ~7ull) | 1);
	return NULL;
}

/* 27.2.1.1: EPTP bits 5:3 are the walk length - 1; a 2-level walk is never supported. */
static const char *eptp_walk(struct l2_vcpu *v)
{
	vmx_check_write(EPT_POINTER, (v->ncr3 & ~0x38ull) | (1ull << 3));
	return NULL;
}

static const char *save_timer_alone(struct l2_vcpu *v)
{
	(void)v;
	if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_EXIT], VM_EXIT_SAVE_VMX_PREEMPTION_TIMER))
		return "no \"save VMX-preemption timer value\"";
	vmx_check_write(PIN_BASED_VM_EXEC_CONTROL, ctl_now(VMX_CTL_PIN) & ~PIN_BASED_VMX_PREEMPTION_TIMER);
	vmx_check_write(VM_EXIT_CONTROLS, ctl_now(VMX_CTL_EXIT) | VM_EXIT_SAVE_VMX_PREEMPTION_TIMER);
	return NULL;
}

static const char *intr_type_reserved(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | (1u << 8) | 0x20);
	return NULL;
}

static const char *nmi_vector(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(VM_ENTRY_INTR_INFO_FIELD, vmx_entry_intr_info(3, INTR_TYPE_NMI, false));
	return NULL;
}

static const char *pf_without_error_code(struct l2_vcpu *v)
{
	(void)v;
	vmx_check_write(VM_ENTRY_INTR_INFO_FIELD,
			vmx_entry_intr_info(X86_VEC_PF, INTR_TYPE_HARD_EXCEPTION, false));
	return NULL;
}

static const char *msr_load_unaligned(struct l2_vcpu *v)
{
	u8 *list = page_alloc(1);

	(void)v;
	vmx_check_write(VM_ENTRY_MSR_LOAD_ADDR, gpa_of(list) + 8);
	vmx_check_write(VM_ENTRY_MSR_LOAD_COUNT, 1);
	return NULL;
}

#define ROW(what, fn) { what, fn, EXPECT_VMFAIL, VMXERR_ENTRY_INVALID_CONTROL, 0, false }
#define ROW_EPT(what, fn) { what, fn, EXPECT_VMFAIL, VMXERR_ENTRY_INVALID_CONTROL, 0, true }

static const struct vmx_check_row rows[] = {
	ROW("pin-based control the capability MSR reserves to 0, set (27.2.1.1)", pin_reserved),
	ROW("pin-based control the capability MSR fixes to 1, cleared (27.2.1.1)", pin_must_be_1),
	ROW("primary processor-based control reserved to 0, set (27.2.1.1)", proc_reserved),
	ROW("secondary processor-based control reserved to 0, set (27.2.1.1)", proc2_reserved),
	ROW("VM-exit control reserved to 0, set (27.2.1.2)", exit_reserved),
	ROW("VM-entry control reserved to 0, set (27.2.1.3)", entry_reserved),
	ROW("CR3-target count above IA32_VMX_MISC[24:16] (27.2.1.1)", cr3_target_count),
	ROW("I/O bitmap A not 4-KiB aligned (27.2.1.1)", io_bitmap_unaligned),
	ROW("MSR bitmap beyond the physical-address width (27.2.1.1)", msr_bitmap_beyond_width),
	ROW("\"virtual NMIs\" without \"NMI exiting\" (27.2.1.1)", virtual_nmis_alone),
	ROW("\"NMI-window exiting\" without \"virtual NMIs\" (27.2.1.1)", nmi_window_alone),
	ROW("\"unrestricted guest\" without \"enable EPT\" (27.2.1.1)", unrestricted_without_ept),
	ROW("\"enable VPID\" with VPID 0 (27.2.1.1)", vpid_zero),
	ROW_EPT("EPTP memory type 1 (27.2.1.1)", eptp_memtype),
	ROW_EPT("EPTP page-walk length 2 (27.2.1.1)", eptp_walk),
	ROW("\"save VMX-preemption timer value\" without the timer (27.2.1.1)", save_timer_alone),
	ROW("VM-entry interruption type 1, reserved (27.2.1.3)", intr_type_reserved),
	ROW("VM-entry NMI with vector 3 (27.2.1.3)", nmi_vector),
	ROW("VM-entry #PF without \"deliver error code\" (27.2.1.3)", pf_without_error_code),
	ROW("VM-entry MSR-load address not 16-byte aligned (27.2.1.3)", msr_load_unaligned),
};

NVM_TEST(L2_CHECK_VMX_CONTROLS)
{
	if (vmx_check_rows(rows, sizeof(rows) / sizeof(rows[0]), l2_code, r) != NVM_PASS)
		return r->status;
	return stage_pass(r, "every invalid control setting failed VMLAUNCH with VMfailValid(7), "
			  "ZF set, L1 going on after it");
}
