// SPDX-License-Identifier: MIT
/*
 * Names for what a VMX failure reports in numbers: VMCS field encodings
 * (SDM appendix B), basic exit reasons (appendix C), VM-instruction errors
 * (31.4, table 31-1). Plain C for L1 and the host library alike.
 */
#include <stddef.h>

#include "nestvmm/vmx.h"

static const struct { uint32_t enc; const char *name; } vmcs_fields[] = {
#define VMCS_FIELD_ENTRY(n, e) { e, #n },
	VMCS_FIELDS(VMCS_FIELD_ENTRY)
#undef VMCS_FIELD_ENTRY
};
#define N_FIELDS (sizeof(vmcs_fields) / sizeof(vmcs_fields[0]))

unsigned int vmcs_field_count(void) { return N_FIELDS; }
uint32_t vmcs_field_at(unsigned int i) { return i < N_FIELDS ? vmcs_fields[i].enc : ~0u; }

const char *vmcs_field_name(uint32_t encoding)
{
	for (unsigned int i = 0; i < N_FIELDS; i++)
		if (vmcs_fields[i].enc == encoding)
			return vmcs_fields[i].name;
	return NULL;
}

/* Appendix C, table C-1 (KVM's short names; NULL: no exit has that number). */
static const char *const exit_reasons[EXIT_REASON_MAX + 1] = {
	[0] = "EXCEPTION_NMI",        [1] = "EXTERNAL_INTERRUPT",  [2] = "TRIPLE_FAULT",
	[3] = "INIT_SIGNAL",          [4] = "SIPI",                [5] = "IO_SMI",
	[6] = "OTHER_SMI",            [7] = "INTERRUPT_WINDOW",    [8] = "NMI_WINDOW",
	[9] = "TASK_SWITCH",          [10] = "CPUID",              [11] = "GETSEC",
	[12] = "HLT",                 [13] = "INVD",               [14] = "INVLPG",
	[15] = "RDPMC",               [16] = "RDTSC",              [17] = "RSM",
	[18] = "VMCALL",              [19] = "VMCLEAR",            [20] = "VMLAUNCH",
	[21] = "VMPTRLD",             [22] = "VMPTRST",            [23] = "VMREAD",
	[24] = "VMRESUME",            [25] = "VMWRITE",            [26] = "VMXOFF",
	[27] = "VMXON",               [28] = "CR_ACCESS",          [29] = "DR_ACCESS",
	[30] = "IO_INSTRUCTION",      [31] = "MSR_READ",           [32] = "MSR_WRITE",
	[33] = "INVALID_GUEST_STATE", [34] = "MSR_LOAD_FAIL",      [36] = "MWAIT",
	[37] = "MONITOR_TRAP_FLAG",   [39] = "MONITOR",            [40] = "PAUSE",
	[41] = "MCE_DURING_VMENTRY",  [43] = "TPR_BELOW_THRESHOLD", [44] = "APIC_ACCESS",
	[45] = "EOI_INDUCED",         [46] = "GDTR_IDTR",          [47] = "LDTR_TR",
	[48] = "EPT_VIOLATION",       [49] = "EPT_MISCONFIG",      [50] = "INVEPT",
	[51] = "RDTSCP",              [52] = "PREEMPTION_TIMER",   [53] = "INVVPID",
	[54] = "WBINVD",              [55] = "XSETBV",             [56] = "APIC_WRITE",
	[57] = "RDRAND",              [58] = "INVPCID",            [59] = "VMFUNC",
	[60] = "ENCLS",               [61] = "RDSEED",             [62] = "PML_FULL",
	[63] = "XSAVES",              [64] = "XRSTORS",            [65] = "PCONFIG",
	[66] = "SPP_EVENT",           [67] = "UMWAIT",             [68] = "TPAUSE",
	[69] = "LOADIWKEY",           [70] = "ENCLV",              [72] = "ENQCMD_PASID_FAIL",
	[73] = "ENQCMDS_PASID_FAIL",  [74] = "BUS_LOCK",           [75] = "NOTIFY",
	[76] = "SEAMCALL",            [77] = "TDCALL",
};

const char *vmx_exit_reason_name(uint32_t basic)
{
	return basic <= EXIT_REASON_MAX ? exit_reasons[basic] : NULL;
}

/* Table 31-1 "VM-instruction error numbers", the SDM's wording. */
static const char *const instruction_errors[VMXERR_MAX + 1] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(uint32_t err)
{
	return err <= VMXERR_MAX ? instruction_errors[err] : NULL;
}

/* Append s to buf (size bytes in all), keeping it NUL-terminated. */
static void append(char *buf, unsigned int size, unsigned int *len, const char *s)
{
	while (*s && *len + 1 < size)
		buf[(*len)++] = *s++;
	buf[*len] = '\0';
}

static void append_uint(char *buf, unsigned int size, unsigned int *len, uint32_t v)
{
	char digits[11];
	int n = 0;

	do
		digits[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 10);
	char out[12];
	int k = 0;
	while (n)
		out[k++] = digits[--n];
	out[k] = '\0';
	append(buf, size, len, out);
}

/*
 * 25.9.1 / 27.8: bit 31 set means the VM entry failed after it had begun
 * loading guest state; the basic reason then says why (33, 34 or 41).
 */
char *vmx_exit_reason_describe(uint32_t reason, char *buf, unsigned int size)
{
	uint32_t basic = VMX_EXIT_REASON_BASIC(reason);
	const char *name = vmx_exit_reason_name(basic);
	unsigned int len = 0;

	if (!size)
		return buf;
	buf[0] = '\0';
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
		append(buf, size, &len, "VM-entry failure: ");
		switch (basic) {
		case EXIT_REASON_INVALID_STATE:
			name = "invalid guest state";
			break;
		case EXIT_REASON_MSR_LOAD_FAIL:
			name = "MSR loading";
			break;
		case EXIT_REASON_MCE_DURING_VMENTRY:
			name = "machine-check event";
			break;
		}
	}
	append(buf, size, &len, name ? name : "unknown exit reason");
	append(buf, size, &len, " (");
	append_uint(buf, size, &len, basic);
	append(buf, size, &len, ")");
	return buf;
}
