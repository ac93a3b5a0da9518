// SPDX-License-Identifier: MIT
/*
 * VMX control values from capability MSRs (Intel SDM vol. 3C, appendix A.3-A.5
 * and 32.5.1 "Algorithms for determining VMX capabilities"). Plain C: built
 * into L1 and into the host library, so tests/unit/test_vmx.c can feed it MSR
 * values captured on real (and emulated) CPUs.
 */
#include <stddef.h>

#include "nestvmm/vmx.h"

static const struct {
	const char *name;
	uint32_t field;
	uint32_t msr, true_msr;   /* true_msr 0: there is none */
} ctl_info[VMX_CTL_COUNT] = {
	[VMX_CTL_PIN]   = { "pin-based", PIN_BASED_VM_EXEC_CONTROL,
			    MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PINBASED_CTLS },
	[VMX_CTL_PROC]  = { "primary processor-based", CPU_BASED_VM_EXEC_CONTROL,
			    MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS },
	[VMX_CTL_PROC2] = { "secondary processor-based", SECONDARY_VM_EXEC_CONTROL,
			    MSR_IA32_VMX_PROCBASED_CTLS2, 0 },
	[VMX_CTL_EXIT]  = { "VM-exit", VM_EXIT_CONTROLS,
			    MSR_IA32_VMX_EXIT_CTLS, MSR_IA32_VMX_TRUE_EXIT_CTLS },
	[VMX_CTL_ENTRY] = { "VM-entry", VM_ENTRY_CONTROLS,
			    MSR_IA32_VMX_ENTRY_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS },
};

uint32_t vmx_ctl_field(enum vmx_ctl ctl) { return ctl_info[ctl].field; }
const char *vmx_ctl_name(enum vmx_ctl ctl) { return ctl_info[ctl].name; }

/*
 * A.1: IA32_VMX_BASIC[55] = 1 means the TRUE_ MSRs exist and report which
 * "default1" bits may in fact be 0; software that knows them uses them.
 */
uint32_t vmx_ctl_cap_msr(enum vmx_ctl ctl, uint64_t vmx_basic)
{
	if ((vmx_basic & VMX_BASIC_TRUE_CTLS) && ctl_info[ctl].true_msr)
		return ctl_info[ctl].true_msr;
	return ctl_info[ctl].msr;
}

/*
 * A.3.1: bits 31:0 are the allowed-0 settings (a 1 there: the control must
 * be 1), bits 63:32 the allowed-1 settings (a 0 there: the control must be 0).
 */
bool vmx_ctl_derive(uint64_t cap, uint32_t required, uint32_t optional,
		    uint32_t *value, uint32_t *refused)
{
	uint32_t must_be_1 = (uint32_t)cap, may_be_1 = (uint32_t)(cap >> 32);

	*refused = required & ~may_be_1;
	*value = (must_be_1 | ((required | optional) & may_be_1)) & may_be_1;
	return *refused == 0;
}

/*
 * What nestvmm's L2 needs (25.6-25.8). Pin-based: external interrupts and
 * NMIs exit to L1 when the CPU allows it (L2 runs with interrupts off on
 * an IDT that knows only exceptions). Primary: HLT exits (L2 must not sit
 * halted), every IN/OUT exits unless the test passes port I/O through,
 * secondary controls only for EPT. Exit: 64-bit host, load IA32_EFER when
 * offered. Entry: IA-32e mode guest, load IA32_EFER when offered.
 */
static void l2_wants(enum vmx_ctl ctl, uint32_t wants, uint32_t *required, uint32_t *optional)
{
	bool ept = wants & VMX_L2_WANT_EPT;

	*required = *optional = 0;
	switch (ctl) {
	case VMX_CTL_PIN:
		*optional = PIN_BASED_EXT_INTR_EXITING | PIN_BASED_NMI_EXITING;
		break;
	case VMX_CTL_PROC:
		*required = CPU_BASED_HLT_EXITING |
			    (wants & VMX_L2_WANT_IO_EXITING ? CPU_BASED_UNCOND_IO_EXITING : 0) |
			    (ept ? CPU_BASED_ACTIVATE_SECONDARY_CONTROLS : 0);
		break;
	case VMX_CTL_PROC2:
		*required = ept ? SECONDARY_EXEC_ENABLE_EPT : 0;
		break;
	case VMX_CTL_EXIT:
		*required = VM_EXIT_HOST_ADDR_SPACE_SIZE;
		*optional = VM_EXIT_LOAD_IA32_EFER;
		break;
	case VMX_CTL_ENTRY:
		*required = VM_ENTRY_IA32E_MODE;
		*optional = VM_ENTRY_LOAD_IA32_EFER;
		break;
	default:
		break;
	}
}

bool vmx_l2_controls(const uint64_t cap[VMX_CTL_COUNT], uint32_t wants,
		     uint32_t value[VMX_CTL_COUNT], enum vmx_ctl *bad, uint32_t *refused)
{
	for (int i = 0; i < VMX_CTL_COUNT; i++) {
		uint32_t required, optional;

		value[i] = 0;
		/* The secondary controls exist only if the primary ones activate them. */
		if (i == VMX_CTL_PROC2 && !(value[VMX_CTL_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
			continue;
		l2_wants((enum vmx_ctl)i, wants, &required, &optional);
		if (!vmx_ctl_derive(cap[i], required, optional, &value[i], refused)) {
			*bad = (enum vmx_ctl)i;
			return false;
		}
	}
	*refused = 0;
	return true;
}

struct bit_name { uint8_t bit; const char *name; };

/* Names as in SDM tables 25-5 .. 25-7, 25-13, 25-15 (the bits nestvmm knows). */
static const struct bit_name pin_bits[] = {
	{ 0, "external-interrupt exiting" }, { 3, "NMI exiting" }, { 5, "virtual NMIs" },
	{ 6, "activate VMX-preemption timer" }, { 7, "process posted interrupts" }, { 0, NULL },
};
static const struct bit_name proc_bits[] = {
	{ 2, "interrupt-window exiting" }, { 3, "use TSC offsetting" }, { 7, "HLT exiting" },
	{ 9, "INVLPG exiting" }, { 10, "MWAIT exiting" }, { 11, "RDPMC exiting" },
	{ 12, "RDTSC exiting" }, { 15, "CR3-load exiting" }, { 16, "CR3-store exiting" },
	{ 19, "CR8-load exiting" }, { 20, "CR8-store exiting" }, { 21, "use TPR shadow" },
	{ 22, "NMI-window exiting" }, { 23, "MOV-DR exiting" },
	{ 24, "unconditional I/O exiting" }, { 25, "use I/O bitmaps" },
	{ 27, "monitor trap flag" }, { 28, "use MSR bitmaps" }, { 29, "MONITOR exiting" },
	{ 30, "PAUSE exiting" }, { 31, "activate secondary controls" }, { 0, NULL },
};
static const struct bit_name proc2_bits[] = {
	{ 0, "virtualize APIC accesses" }, { 1, "enable EPT" },
	{ 2, "descriptor-table exiting" }, { 3, "enable RDTSCP" },
	{ 4, "virtualize x2APIC mode" }, { 5, "enable VPID" }, { 6, "WBINVD exiting" },
	{ 7, "unrestricted guest" }, { 8, "APIC-register virtualization" },
	{ 9, "virtual-interrupt delivery" }, { 10, "PAUSE-loop exiting" },
	{ 11, "RDRAND exiting" }, { 12, "enable INVPCID" }, { 13, "enable VM functions" },
	{ 14, "VMCS shadowing" }, { 16, "RDSEED exiting" }, { 17, "enable PML" },
	{ 18, "EPT-violation #VE" }, { 20, "enable XSAVES/XRSTORS" },
	{ 25, "use TSC scaling" }, { 0, NULL },
};
static const struct bit_name exit_bits[] = {
	{ 2, "save debug controls" }, { 9, "host address-space size" },
	{ 12, "load IA32_PERF_GLOBAL_CTRL" }, { 15, "acknowledge interrupt on exit" },
	{ 18, "save IA32_PAT" }, { 19, "load IA32_PAT" }, { 20, "save IA32_EFER" },
	{ 21, "load IA32_EFER" }, { 22, "save VMX-preemption timer value" }, { 0, NULL },
};
static const struct bit_name entry_bits[] = {
	{ 2, "load debug controls" }, { 9, "IA-32e mode guest" }, { 10, "entry to SMM" },
	{ 11, "deactivate dual-monitor treatment" }, { 13, "load IA32_PERF_GLOBAL_CTRL" },
	{ 14, "load IA32_PAT" }, { 15, "load IA32_EFER" }, { 0, NULL },
};
static const struct bit_name *const ctl_bits[VMX_CTL_COUNT] = {
	pin_bits, proc_bits, proc2_bits, exit_bits, entry_bits,
};

const char *vmx_ctl_bit_name(enum vmx_ctl ctl, unsigned int bit)
{
	if ((unsigned int)ctl >= VMX_CTL_COUNT)
		return NULL;
	for (const struct bit_name *b = ctl_bits[ctl]; b->name; b++)
		if (b->bit == bit)
			return b->name;
	return NULL;
}

/*
 * What l2.nested-paging needs (A.3.3, A.10): the secondary controls, their
 * "enable EPT" bit, EPT paging structures L1 can build (4-level walks in
 * write-back memory) and INVEPT to flush what it changes.
 */
const char *vmx_ept_unusable(uint64_t proc_cap, uint64_t proc2_cap, uint64_t ept_vpid_cap)
{
	if (!vmx_ctl_allows(proc_cap, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
		return "primary processor-based controls do not allow \"activate secondary controls\" (bit 31)";
	if (!vmx_ctl_allows(proc2_cap, SECONDARY_EXEC_ENABLE_EPT))
		return "IA32_VMX_PROCBASED_CTLS2 does not allow \"enable EPT\" (bit 1)";
	if (!(ept_vpid_cap & VMX_EPT_PAGE_WALK_4))
		return "IA32_VMX_EPT_VPID_CAP lacks the 4-level page walk (bit 6)";
	if (!(ept_vpid_cap & VMX_EPT_MEMTYPE_WB))
		return "IA32_VMX_EPT_VPID_CAP lacks write-back EPT paging structures (bit 14)";
	/* 29.4.3.1: L1 changes EPT entries under a running L2 and must invalidate them. */
	if (!(ept_vpid_cap & VMX_EPT_INVEPT) ||
	    !(ept_vpid_cap & (VMX_EPT_INVEPT_SINGLE_CONTEXT | VMX_EPT_INVEPT_ALL_CONTEXT)))
		return "IA32_VMX_EPT_VPID_CAP lacks INVEPT with a single- or all-context type "
		       "(bits 20, 25, 26)";
	return NULL;
}
