// SPDX-License-Identifier: MIT
/*
 * arch/intel/common: VMX control derivation from capability MSRs, the VMCS
 * field table, and the names of exit reasons and VM-instruction errors.
 * The capability values come from tests/fixtures/intel/*.msr, captured by
 * L1 (l1.enable details) on real or emulated CPUs.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "nestvmm/vmx.h"

/* --- fixtures ---------------------------------------------------------------- */

struct msr_fixture { uint64_t val[0x491 - 0x480]; bool have[0x491 - 0x480]; };

/* "IA32_VMX_BASIC (480h)=0x..." lines, as l1.enable reports them; '#' starts a comment. */
static void fixture_load(const char *name, struct msr_fixture *f)
{
	char path[512], line[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/intel/%s", FIXTURES_DIR, name);
	fp = fopen(path, "r");
	cr_assert_not_null(fp, "cannot open %s", path);
	memset(f, 0, sizeof(*f));
	while (fgets(line, sizeof(line), fp)) {
		unsigned int msr;
		unsigned long long v;
		const char *p = strchr(line, '(');
		if (line[0] == '#' || !p || sscanf(p, "(%xh)=0x%llx", &msr, &v) != 2)
			continue;
		cr_assert(msr >= 0x480 && msr <= 0x490, "MSR %x out of range in %s", msr, path);
		f->val[msr - 0x480] = v;
		f->have[msr - 0x480] = true;
	}
	fclose(fp);
	cr_assert(f->have[0], "%s lacks IA32_VMX_BASIC", path);
}

static uint64_t cap(const struct msr_fixture *f, enum vmx_ctl ctl)
{
	uint32_t msr = vmx_ctl_cap_msr(ctl, f->val[0]);
	cr_assert(f->have[msr - 0x480], "fixture lacks MSR %x", msr);
	return f->val[msr - 0x480];
}

/* --- control derivation -------------------------------------------------------- */

Test(vmx_ctl, allowed0_forced_and_allowed1_respected)
{
	/* must be 1: bits 1,2,4; may be 1: bits 0-7 */
	uint64_t msr = (0xffull << 32) | 0x16;
	uint32_t v, refused;

	cr_assert(vmx_ctl_derive(msr, 0, 0, &v, &refused));
	cr_assert_eq(v, 0x16);
	cr_assert(vmx_ctl_derive(msr, 0x1, 0x100, &v, &refused));
	cr_assert_eq(v, 0x17, "optional bit 8 is not allowed and must be dropped: 0x%x", v);
	cr_assert_eq(refused, 0);
	cr_assert_not(vmx_ctl_derive(msr, 0x300, 0, &v, &refused));
	cr_assert_eq(refused, 0x300);
}

Test(vmx_ctl, true_msrs_only_when_basic_bit55)
{
	cr_assert_eq(vmx_ctl_cap_msr(VMX_CTL_PIN, 0), MSR_IA32_VMX_PINBASED_CTLS);
	cr_assert_eq(vmx_ctl_cap_msr(VMX_CTL_PIN, VMX_BASIC_TRUE_CTLS), MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	cr_assert_eq(vmx_ctl_cap_msr(VMX_CTL_PROC, VMX_BASIC_TRUE_CTLS), MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	cr_assert_eq(vmx_ctl_cap_msr(VMX_CTL_EXIT, VMX_BASIC_TRUE_CTLS), MSR_IA32_VMX_TRUE_EXIT_CTLS);
	cr_assert_eq(vmx_ctl_cap_msr(VMX_CTL_ENTRY, VMX_BASIC_TRUE_CTLS), MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	/* no TRUE_ MSR for the secondary controls */
	cr_assert_eq(vmx_ctl_cap_msr(VMX_CTL_PROC2, VMX_BASIC_TRUE_CTLS), MSR_IA32_VMX_PROCBASED_CTLS2);
	cr_assert_eq(vmx_ctl_field(VMX_CTL_PROC2), SECONDARY_VM_EXEC_CONTROL);
	cr_assert_eq(vmx_ctl_field(VMX_CTL_ENTRY), VM_ENTRY_CONTROLS);
}

Test(vmx_ctl, bit_names)
{
	cr_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_PROC2, 1), "enable EPT");
	cr_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_ENTRY, 9), "IA-32e mode guest");
	cr_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_EXIT, 9), "host address-space size");
	cr_assert_str_eq(vmx_ctl_bit_name(VMX_CTL_PROC, 31), "activate secondary controls");
	cr_assert_null(vmx_ctl_bit_name(VMX_CTL_PIN, 1));
}

Test(vmx_ctl, cr_fixed_bits)
{
	/* typical: CR0 must have PE, NE, PG; CR4 must have VMXE */
	cr_assert_eq(vmx_cr_fixed(0x80000011, 0x80000021, 0xffffffff), 0x80000031);
	cr_assert_eq(vmx_cr_fixed(0x20, 0x2000, 0x3727ff), 0x2020);
	cr_assert_eq(vmx_cr_fixed(0x400000 | 0x20, 0x2000, 0x3727ff), 0x2020, "bit 22 not allowed");
}

/* What vmx_l2.c writes (vmx_l2_controls), against the MSRs of a captured CPU. */
static void derive_like_l1(const struct msr_fixture *f, bool ept, uint32_t out[VMX_CTL_COUNT])
{
	uint64_t caps[VMX_CTL_COUNT];
	enum vmx_ctl bad = VMX_CTL_COUNT;
	uint32_t refused = 0;

	for (int i = 0; i < VMX_CTL_COUNT; i++)
		caps[i] = cap(f, (enum vmx_ctl)i);
	cr_assert(vmx_l2_controls(caps, ept, out, &bad, &refused),
		  "%s controls: refused 0x%x", bad < VMX_CTL_COUNT ? vmx_ctl_name(bad) : "?", refused);
}

/* Each derived value must hold the allowed-0 bits and nothing outside allowed-1. */
static void assert_within_caps(const struct msr_fixture *f, const uint32_t v[VMX_CTL_COUNT], bool ept)
{
	for (int i = 0; i < VMX_CTL_COUNT; i++) {
		if (i == VMX_CTL_PROC2 && !ept)
			continue;
		uint64_t c = cap(f, i);
		cr_assert_eq(v[i] & (uint32_t)c, (uint32_t)c, "%s: allowed-0 bits missing", vmx_ctl_name(i));
		cr_assert_eq(v[i] & ~(uint32_t)(c >> 32), 0, "%s: bits outside allowed-1", vmx_ctl_name(i));
	}
}

Test(vmx_fixture, bochs_skylake_kvm_nested)
{
	struct msr_fixture f;
	uint32_t v[VMX_CTL_COUNT];

	fixture_load("bochs-skylake-x-kvm-6.12-nested.msr", &f);
	cr_assert(f.val[0] & VMX_BASIC_TRUE_CTLS, "KVM reports TRUE_ controls");
	cr_assert_eq(VMX_BASIC_MEM_TYPE(f.val[0]), VMX_MEMTYPE_WB);
	derive_like_l1(&f, false, v);
	assert_within_caps(&f, v, false);
	cr_assert(v[VMX_CTL_EXIT] & VM_EXIT_HOST_ADDR_SPACE_SIZE);
	cr_assert(v[VMX_CTL_ENTRY] & VM_ENTRY_IA32E_MODE);
	cr_assert_eq(v[VMX_CTL_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, 0);

	cr_assert_null(vmx_ept_unusable(cap(&f, VMX_CTL_PROC), cap(&f, VMX_CTL_PROC2),
					f.val[MSR_IA32_VMX_EPT_VPID_CAP - 0x480]));
	derive_like_l1(&f, true, v);
	assert_within_caps(&f, v, true);
	cr_assert(v[VMX_CTL_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
	cr_assert(v[VMX_CTL_PROC2] & SECONDARY_EXEC_ENABLE_EPT);
}

Test(vmx_fixture, default1_msrs_without_true_ctls)
{
	struct msr_fixture f;
	uint32_t v[VMX_CTL_COUNT];

	/* Same CPU, seen by software that ignores BASIC[55]: the default1 bits stay forced. */
	fixture_load("bochs-skylake-x-kvm-6.12-nested.msr", &f);
	f.val[0] &= ~VMX_BASIC_TRUE_CTLS;
	derive_like_l1(&f, false, v);
	assert_within_caps(&f, v, false);
	cr_assert_eq(v[VMX_CTL_PIN] & 0x16, 0x16, "pin-based default1 bits 1, 2, 4");
	/* the default1 view forces CR3-load/store exiting, which TRUE_PROCBASED_CTLS lets go */
	cr_assert(v[VMX_CTL_PROC] & CPU_BASED_CR3_LOAD_EXITING);
	cr_assert(v[VMX_CTL_PROC] & CPU_BASED_CR3_STORE_EXITING);
	f.val[0] |= VMX_BASIC_TRUE_CTLS;
	derive_like_l1(&f, false, v);
	cr_assert_eq(v[VMX_CTL_PROC] & (CPU_BASED_CR3_LOAD_EXITING | CPU_BASED_CR3_STORE_EXITING), 0);
}

/* A CPU without EPT (the captured one, EPT masked out): the secondary controls refuse it. */
Test(vmx_fixture, l2_controls_name_the_refused_bit)
{
	struct msr_fixture f;
	uint64_t caps[VMX_CTL_COUNT];
	uint32_t v[VMX_CTL_COUNT], refused;
	enum vmx_ctl bad;

	fixture_load("bochs-skylake-x-kvm-6.12-nested.msr", &f);
	for (int i = 0; i < VMX_CTL_COUNT; i++)
		caps[i] = cap(&f, (enum vmx_ctl)i);
	caps[VMX_CTL_PROC2] &= ~((uint64_t)SECONDARY_EXEC_ENABLE_EPT << 32);
	cr_assert(vmx_l2_controls(caps, false, v, &bad, &refused), "no EPT wanted: fine");
	cr_assert_not(vmx_l2_controls(caps, true, v, &bad, &refused));
	cr_assert_eq(bad, VMX_CTL_PROC2);
	cr_assert_eq(refused, SECONDARY_EXEC_ENABLE_EPT);
	/* a CPU whose exit controls cannot return to a 64-bit host */
	caps[VMX_CTL_EXIT] &= ~((uint64_t)VM_EXIT_HOST_ADDR_SPACE_SIZE << 32);
	cr_assert_not(vmx_l2_controls(caps, false, v, &bad, &refused));
	cr_assert_eq(bad, VMX_CTL_EXIT);
	cr_assert_str_eq(vmx_ctl_bit_name(bad, 9), "host address-space size");
}

Test(vmx_fixture, no_ept_is_named)
{
	uint64_t proc = (uint64_t)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32;

	cr_assert_not_null(strstr(vmx_ept_unusable(0, 0, 0), "activate secondary controls"));
	cr_assert_not_null(strstr(vmx_ept_unusable(proc, 0, 0), "enable EPT"));
	cr_assert_not_null(strstr(vmx_ept_unusable(proc, 2ull << 32, 0), "4-level"));
	cr_assert_not_null(strstr(vmx_ept_unusable(proc, 2ull << 32, VMX_EPT_PAGE_WALK_4), "write-back"));
	cr_assert_null(vmx_ept_unusable(proc, 2ull << 32, VMX_EPT_PAGE_WALK_4 | VMX_EPT_MEMTYPE_WB));
}

/* --- VMCS field table ------------------------------------------------------------ */

Test(vmcs_fields, encodings_match_sdm_appendix_b)
{
	cr_assert_eq(GUEST_ES_SELECTOR, 0x0800);
	cr_assert_eq(HOST_TR_SELECTOR, 0x0c0c);
	cr_assert_eq(EPT_POINTER, 0x201a);
	cr_assert_eq(VMCS_LINK_POINTER, 0x2800);
	cr_assert_eq(PIN_BASED_VM_EXEC_CONTROL, 0x4000);
	cr_assert_eq(SECONDARY_VM_EXEC_CONTROL, 0x401e);
	cr_assert_eq(VM_INSTRUCTION_ERROR, 0x4400);
	cr_assert_eq(VM_EXIT_REASON, 0x4402);
	cr_assert_eq(VM_EXIT_INSTRUCTION_LEN, 0x440c);
	cr_assert_eq(GUEST_TR_AR_BYTES, 0x4822);
	cr_assert_eq(EXIT_QUALIFICATION, 0x6400);
	cr_assert_eq(GUEST_RIP, 0x681e);
	cr_assert_eq(HOST_RSP, 0x6c14);
	cr_assert_eq(HOST_RIP, 0x6c16);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

/* The encoding itself says width and type (B.1-B.4): the table must agree with the names. */
Test(vmcs_fields, width_and_type_agree_with_names)
{
	unsigned int n = vmcs_field_count();

	cr_assert_gt(n, 100);
	for (unsigned int i = 0; i < n; i++) {
		uint32_t e = vmcs_field_at(i);
		const char *name = vmcs_field_name(e);

		cr_assert_not_null(name);
		cr_assert_eq(VMCS_ENC_HIGH(e), 0, "%s: full encodings only", name);
		cr_assert_eq(e & 0xffff9000u, 0, "%s: reserved encoding bits set", name);
		if (!strncmp(name, "GUEST_", 6) && strcmp(name, "GUEST_PHYSICAL_ADDRESS") &&
		    strcmp(name, "GUEST_LINEAR_ADDRESS"))
			cr_assert_eq(VMCS_ENC_TYPE(e), VMCS_TYPE_GUEST, "%s: 0x%x", name, e);
		if (!strncmp(name, "HOST_", 5))
			cr_assert_eq(VMCS_ENC_TYPE(e), VMCS_TYPE_HOST, "%s: 0x%x", name, e);
		if (ends_with(name, "_SELECTOR"))
			cr_assert_eq(VMCS_ENC_WIDTH(e), VMCS_WIDTH_16, "%s", name);
		if (ends_with(name, "_AR_BYTES") || ends_with(name, "_LIMIT") ||
		    ends_with(name, "_CONTROL") || ends_with(name, "_CONTROLS"))
			cr_assert_eq(VMCS_ENC_WIDTH(e), VMCS_WIDTH_32, "%s", name);
		if (ends_with(name, "_BASE") || !strncmp(name, "GUEST_CR", 8) || !strncmp(name, "HOST_CR", 7))
			cr_assert_eq(VMCS_ENC_WIDTH(e), VMCS_WIDTH_NATURAL, "%s", name);
		if (!strcmp(name, "VM_INSTRUCTION_ERROR") || !strcmp(name, "VM_EXIT_REASON") ||
		    !strcmp(name, "EXIT_QUALIFICATION") || !strcmp(name, "GUEST_PHYSICAL_ADDRESS"))
			cr_assert_eq(VMCS_ENC_TYPE(e), VMCS_TYPE_EXIT_INFO, "%s", name);
		for (unsigned int k = i + 1; k < n; k++)
			cr_assert_neq(e, vmcs_field_at(k), "%s listed twice", name);
	}
	cr_assert_null(vmcs_field_name(0x7fff));
	cr_assert_str_eq(vmcs_field_name(0x6c16), "HOST_RIP");
}

/* --- names -------------------------------------------------------------------------- */

Test(vmx_names, exit_reasons_appendix_c)
{
	cr_assert_str_eq(vmx_exit_reason_name(0), "EXCEPTION_NMI");
	cr_assert_str_eq(vmx_exit_reason_name(2), "TRIPLE_FAULT");
	cr_assert_str_eq(vmx_exit_reason_name(10), "CPUID");
	cr_assert_str_eq(vmx_exit_reason_name(12), "HLT");
	cr_assert_str_eq(vmx_exit_reason_name(18), "VMCALL");
	cr_assert_str_eq(vmx_exit_reason_name(30), "IO_INSTRUCTION");
	cr_assert_str_eq(vmx_exit_reason_name(33), "INVALID_GUEST_STATE");
	cr_assert_str_eq(vmx_exit_reason_name(48), "EPT_VIOLATION");
	cr_assert_str_eq(vmx_exit_reason_name(49), "EPT_MISCONFIG");
	cr_assert_str_eq(vmx_exit_reason_name(52), "PREEMPTION_TIMER");
	cr_assert_null(vmx_exit_reason_name(35));
	cr_assert_null(vmx_exit_reason_name(38));
	cr_assert_null(vmx_exit_reason_name(1000));
}

Test(vmx_names, instruction_errors_table_31_1)
{
	cr_assert_str_eq(vmx_instruction_error_name(1), "VMCALL executed in VMX root operation");
	cr_assert_str_eq(vmx_instruction_error_name(2), "VMCLEAR with invalid physical address");
	cr_assert_str_eq(vmx_instruction_error_name(7), "VM entry with invalid control field(s)");
	cr_assert_str_eq(vmx_instruction_error_name(8), "VM entry with invalid host-state field(s)");
	cr_assert_str_eq(vmx_instruction_error_name(11), "VMPTRLD with incorrect VMCS revision identifier");
	cr_assert_str_eq(vmx_instruction_error_name(28), "invalid operand to INVEPT/INVVPID");
	cr_assert_null(vmx_instruction_error_name(0));
	cr_assert_null(vmx_instruction_error_name(14));
	cr_assert_null(vmx_instruction_error_name(29));
}

Test(vmx_names, describe_exit_and_entry_failure)
{
	char buf[80];

	cr_assert_str_eq(vmx_exit_reason_describe(18, buf, sizeof(buf)), "VMCALL (18)");
	cr_assert_str_eq(vmx_exit_reason_describe(48, buf, sizeof(buf)), "EPT_VIOLATION (48)");
	cr_assert_str_eq(vmx_exit_reason_describe(0x80000021u, buf, sizeof(buf)),
			 "VM-entry failure: invalid guest state (33)");
	cr_assert_str_eq(vmx_exit_reason_describe(0x80000022u, buf, sizeof(buf)),
			 "VM-entry failure: MSR loading (34)");
	cr_assert_str_eq(vmx_exit_reason_describe(0x80000029u, buf, sizeof(buf)),
			 "VM-entry failure: machine-check event (41)");
	cr_assert_str_eq(vmx_exit_reason_describe(999, buf, sizeof(buf)), "unknown exit reason (999)");
	/* truncation keeps the NUL */
	vmx_exit_reason_describe(0x80000021u, buf, 8);
	cr_assert_eq(strlen(buf), 7);
}
