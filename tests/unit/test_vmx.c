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

#include "nestvmm/features.h"
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

/* The controls vmx_vmcs_image puts in the VMCS (vmx_l2_controls), against a captured CPU. */
static void derive_like_l1(const struct msr_fixture *f, bool ept, uint32_t out[VMX_CTL_COUNT])
{
	uint64_t caps[VMX_CTL_COUNT];
	enum vmx_ctl bad = VMX_CTL_COUNT;
	uint32_t refused = 0;

	for (int i = 0; i < VMX_CTL_COUNT; i++)
		caps[i] = cap(f, (enum vmx_ctl)i);
	cr_assert(vmx_l2_controls(caps, ept ? VMX_L2_WANT_EPT : 0, out, &bad, &refused),
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
	cr_assert(vmx_l2_controls(caps, 0, v, &bad, &refused), "no EPT wanted: fine");
	cr_assert_not(vmx_l2_controls(caps, VMX_L2_WANT_EPT, v, &bad, &refused));
	cr_assert_eq(bad, VMX_CTL_PROC2);
	cr_assert_eq(refused, SECONDARY_EXEC_ENABLE_EPT);
	/* a CPU whose exit controls cannot return to a 64-bit host */
	caps[VMX_CTL_EXIT] &= ~((uint64_t)VM_EXIT_HOST_ADDR_SPACE_SIZE << 32);
	cr_assert_not(vmx_l2_controls(caps, 0, v, &bad, &refused));
	cr_assert_eq(bad, VMX_CTL_EXIT);
	cr_assert_str_eq(vmx_ctl_bit_name(bad, 9), "host address-space size");
}

/* A reason that is there and mentions what: NULL must fail the test, not crash it. */
static bool names(const char *reason, const char *what)
{
	return reason && strstr(reason, what);
}

Test(vmx_fixture, no_ept_is_named)
{
	uint64_t proc = (uint64_t)CPU_BASED_ACTIVATE_SECONDARY_CONTROLS << 32;

	cr_assert(names(vmx_ept_unusable(0, 0, 0), "activate secondary controls"));
	cr_assert(names(vmx_ept_unusable(proc, 0, 0), "enable EPT"));
	cr_assert(names(vmx_ept_unusable(proc, 2ull << 32, 0), "4-level"));
	cr_assert(names(vmx_ept_unusable(proc, 2ull << 32, VMX_EPT_PAGE_WALK_4), "write-back"));
	/* A.10: bits 6, 14; INVEPT (20) with single- (25) or all-context (26) */
	cr_assert(names(vmx_ept_unusable(proc, 2ull << 32, (1ull << 6) | (1ull << 14)), "INVEPT"));
	cr_assert(names(vmx_ept_unusable(proc, 2ull << 32, (1ull << 6) | (1ull << 14) | (1ull << 20)),
			"INVEPT"));
	cr_assert_null(vmx_ept_unusable(proc, 2ull << 32, (1ull << 6) | (1ull << 14) | (1ull << 20) |
					(1ull << 26)));
	cr_assert_null(vmx_ept_unusable(proc, 2ull << 32, (1ull << 6) | (1ull << 14) | (1ull << 20) |
					(1ull << 25)));
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

/* --- the VMCS image (vmx_vmcs_image): numbers from SDM appendix B and chapter 25 --------- */

/* L1's GDT as guest/cpu.c builds it: null, 64-bit code, data, busy 64-bit TSS at 0x7ff0_1234_5000. */
static const uint64_t l1_gdt[5] = {
	0, 0x00af9b000000ffffull, 0x00cf93000000ffffull,
	0x00008b3450000067ull | (0x01ull << 56), 0x7ff0ull,
};
#define TSS_BASE 0x7ff001345000ull

static uint64_t fixture_caps[VMX_CTL_COUNT];

static void setup_like_l1(struct vmx_l2_setup *s, bool ept, bool io_passthrough)
{
	static struct msr_fixture f;

	fixture_load("bochs-skylake-x-kvm-6.12-nested.msr", &f);
	for (int i = 0; i < VMX_CTL_COUNT; i++)
		fixture_caps[i] = cap(&f, (enum vmx_ctl)i);
	memset(s, 0, sizeof(*s));
	s->cap = fixture_caps;
	s->cr0_fixed0 = f.val[6];
	s->cr0_fixed1 = f.val[7];
	s->cr4_fixed0 = f.val[8];
	s->cr4_fixed1 = f.val[9];
	s->nested_paging = ept;
	s->io_passthrough = io_passthrough;
	s->intercept_exceptions = 1u << 14;           /* #PF */
	s->eptp = 0x123401e;
	s->cr0 = 0x80000011;                          /* PG, ET, PE: NE (bit 5) missing */
	s->cr3 = 0x1000;
	s->cr4 = 0x2020;                              /* PAE, VMXE */
	s->efer = 0xd01;                              /* SCE, LME, LMA, NXE */
	s->fs_base = 0xf5000;
	s->gs_base = 0x65000;
	s->gdt = l1_gdt;
	s->gdtr_base = 0x204000;
	s->gdtr_limit = sizeof(l1_gdt) - 1;
	s->idtr_base = 0x205000;
	s->cs = 0x08;
	s->ds = 0x10;
	s->tr = 0x18;
	s->host_rip = 0x201234;
	s->rip = 0x202000;
	s->rsp = 0x3ffff8;
	s->rflags = 2;
	s->l2_idtr_base = 0x206000;
	s->l2_idtr_limit = 0x1ff;
}

static uint64_t field(const struct vmcs_image *img, uint32_t enc)
{
	uint64_t v = 0;

	cr_assert(vmcs_image_get(img, enc, &v), "field 0x%x missing from the image", enc);
	return v;
}

static void assert_absent(const struct vmcs_image *img, uint32_t enc)
{
	uint64_t v;

	cr_assert_not(vmcs_image_get(img, enc, &v), "field 0x%x should not be in the image", enc);
}

Test(vmcs_image, l1_state_and_l2_start)
{
	struct vmx_l2_setup s;
	static struct vmcs_image img;

	setup_like_l1(&s, false, false);
	cr_assert(vmx_vmcs_image(&s, &img));
	/* B.4.3 guest RIP/RSP/RFLAGS, B.3.3 / B.4.3 IDTR */
	cr_assert_eq(field(&img, 0x681e), 0x202000);
	cr_assert_eq(field(&img, 0x681c), 0x3ffff8);
	cr_assert_eq(field(&img, 0x6820), 2, "interrupts off, reserved bit 1 set");
	cr_assert_eq(field(&img, 0x6818), 0x206000, "L2's own IDT");
	cr_assert_eq(field(&img, 0x4812), 0x1ff);
	cr_assert_eq(field(&img, 0x6816), 0x204000, "L1's GDT");
	cr_assert_eq(field(&img, 0x6802), 0x1000, "L1's CR3");
	/* A.7: CR0.NE forced by IA32_VMX_CR0_FIXED0 */
	cr_assert_eq(field(&img, 0x6800), 0x80000031);
	cr_assert_eq(field(&img, 0x6804), 0x2020);
	/* 25.4.1 segments: CS 64-bit code (AR 0xa09b), SS data (0xc093), TR busy TSS (0x8b) */
	cr_assert_eq(field(&img, 0x0802), 0x08);
	cr_assert_eq(field(&img, 0x4816), 0xa09b);
	cr_assert_eq(field(&img, 0x0804), 0x10);
	cr_assert_eq(field(&img, 0x4818), 0xc093);
	cr_assert_eq(field(&img, 0x4804), 0xffffffff);
	cr_assert_eq(field(&img, 0x080e), 0x18);
	cr_assert_eq(field(&img, 0x4822), 0x8b);
	cr_assert_eq(field(&img, 0x6814), TSS_BASE, "TSS base from the 16-byte descriptor");
	cr_assert_eq(field(&img, 0x480e), 0x67);
	cr_assert_eq(field(&img, 0x4820), 1u << 16, "LDTR unusable");
	cr_assert_eq(field(&img, 0x680e), 0xf5000, "FS base: L1's (stack protector canary)");
	cr_assert_eq(field(&img, 0x6810), 0x65000);
	cr_assert_eq(field(&img, 0x2800), ~0ull, "no VMCS link");
	cr_assert_eq(field(&img, 0x4826), 0, "active");
	/* 25.5 host state: L1 */
	cr_assert_eq(field(&img, 0x6c16), 0x201234);
	cr_assert_eq(field(&img, 0x6c00), 0x80000011);
	cr_assert_eq(field(&img, 0x6c02), 0x1000);
	cr_assert_eq(field(&img, 0x6c04), 0x2020);
	cr_assert_eq(field(&img, 0x0c02), 0x08);
	cr_assert_eq(field(&img, 0x0c04), 0x10);
	cr_assert_eq(field(&img, 0x0c0c), 0x18);
	cr_assert_eq(field(&img, 0x6c0a), TSS_BASE);
	cr_assert_eq(field(&img, 0x6c0c), 0x204000);
	cr_assert_eq(field(&img, 0x6c0e), 0x205000, "L1's IDT for the host");
	cr_assert_eq(field(&img, 0x6c06), 0xf5000);
	/* the fixture offers "load IA32_EFER" on entry and exit (25.7.1 bit 21, 25.8.1 bit 15) */
	cr_assert_eq(field(&img, 0x2806), 0xd01);
	cr_assert_eq(field(&img, 0x2c02), 0xd01);
	assert_absent(&img, 0x6c14);   /* HOST_RSP: the world switch writes it */
}

Test(vmcs_image, controls_without_ept_exit_on_io_hlt_and_the_asked_exceptions)
{
	struct vmx_l2_setup s;
	static struct vmcs_image img;

	setup_like_l1(&s, false, false);
	cr_assert(vmx_vmcs_image(&s, &img));
	uint64_t proc = field(&img, 0x4002), pin = field(&img, 0x4000);
	cr_assert(proc & (1u << 7), "HLT exiting (25.6.2 bit 7): 0x%lx", proc);
	cr_assert(proc & (1u << 24), "unconditional I/O exiting (bit 24): 0x%lx", proc);
	cr_assert_eq(proc & (1u << 25), 0, "no I/O bitmaps");
	cr_assert_eq(proc & (1u << 31), 0, "no secondary controls without EPT");
	cr_assert_eq(proc & ((1u << 15) | (1u << 16)), 0, "TRUE_ controls free CR3 exiting");
	cr_assert_eq(pin & 0x9, 0x9, "external-interrupt and NMI exiting (25.6.1 bits 0, 3)");
	cr_assert(field(&img, 0x400c) & (1u << 9), "64-bit host");
	cr_assert(field(&img, 0x4012) & (1u << 9), "IA-32e mode guest");
	cr_assert_eq(field(&img, 0x4004), 1u << 14, "exception bitmap = the test's vectors");
	cr_assert_eq(field(&img, 0x6000), 0, "CR0 owned by L2");
	cr_assert_eq(field(&img, 0x4016), 0, "nothing injected");
	assert_absent(&img, 0x401e);
	assert_absent(&img, 0x201a);
}

Test(vmcs_image, ept_and_io_passthrough)
{
	struct vmx_l2_setup s;
	static struct vmcs_image img;

	setup_like_l1(&s, true, true);
	cr_assert(vmx_vmcs_image(&s, &img));
	uint64_t proc = field(&img, 0x4002);
	cr_assert(proc & (1u << 31), "activate secondary controls");
	cr_assert_eq(proc & ((1u << 24) | (1u << 25)), 0, "I/O passes through: 0x%lx", proc);
	cr_assert(field(&img, 0x401e) & (1u << 1), "enable EPT (25.6.2 table 25-7 bit 1)");
	cr_assert_eq(field(&img, 0x201a), 0x123401e);
}

/* Every field once, and each value fits the width its encoding gives (B.1-B.4). */
Test(vmcs_image, fields_once_and_values_fit_their_width)
{
	struct vmx_l2_setup s;
	static struct vmcs_image img;

	setup_like_l1(&s, true, false);
	cr_assert(vmx_vmcs_image(&s, &img));
	cr_assert_gt(img.n, 60);
	for (unsigned int i = 0; i < img.n; i++) {
		uint32_t e = img.f[i].field;
		uint64_t v = img.f[i].value;
		cr_assert_not_null(vmcs_field_name(e), "0x%x has no name", e);
		if (((e >> 13) & 3) == 0)
			cr_assert_leq(v, 0xffff, "16-bit field 0x%x = 0x%lx", e, v);
		if (((e >> 13) & 3) == 2)
			cr_assert_leq(v, 0xffffffffull, "32-bit field 0x%x = 0x%lx", e, v);
		for (unsigned int k = i + 1; k < img.n; k++)
			cr_assert_neq(e, img.f[k].field, "0x%x written twice", e);
	}
}

Test(vmcs_image, refused_control_is_reported_not_written)
{
	struct vmx_l2_setup s;
	static struct vmcs_image img;

	setup_like_l1(&s, true, false);
	fixture_caps[VMX_CTL_PROC2] &= ~(2ull << 32);   /* no "enable EPT" */
	cr_assert_not(vmx_vmcs_image(&s, &img));
	cr_assert_eq(img.bad, VMX_CTL_PROC2);
	cr_assert_eq(img.refused, 2);
	setup_like_l1(&s, false, false);
	fixture_caps[VMX_CTL_PROC] &= ~((1ull << 24) << 32);   /* no unconditional I/O exiting */
	cr_assert_not(vmx_vmcs_image(&s, &img));
	cr_assert_eq(img.bad, VMX_CTL_PROC);
	cr_assert_eq(img.refused, 1u << 24);
	s.io_passthrough = true;
	cr_assert(vmx_vmcs_image(&s, &img), "not needed when I/O passes through");
}

Test(vmcs_image, segments_from_the_gdt)
{
	uint64_t gdt[4] = { 0, 0x00af9b000000ffffull, 0x00cf92000000ffffull, 0x0040f3abcd001000ull };
	struct vmx_seg z = vmx_seg_from_gdt(gdt, sizeof(gdt) - 1, 0);
	cr_assert_eq(z.ar, 0x10000, "null selector: unusable");
	cr_assert_eq(vmx_seg_from_gdt(gdt, sizeof(gdt) - 1, 0x14).ar, 0x10000, "TI=1: unusable");
	cr_assert_eq(vmx_seg_from_gdt(gdt, 0x17, 0x18).ar, 0x10000, "beyond the GDT limit");
	struct vmx_seg d = vmx_seg_from_gdt(gdt, sizeof(gdt) - 1, 0x10);
	cr_assert_eq(d.ar, 0xc093, "data marked accessed as loading would: 0x%x", d.ar);
	cr_assert_eq(d.limit, 0xffffffff);
	struct vmx_seg u = vmx_seg_from_gdt(gdt, sizeof(gdt) - 1, 0x1b);
	cr_assert_eq(u.ar, 0x40f3, "DPL 3, D/B, byte granular: 0x%x", u.ar);
	cr_assert_eq(u.base, 0xabcd00);
	cr_assert_eq(u.limit, 0x1000);
}

/* --- EPT entries, exits, injection (SDM 29.3.2, 28.2, 25.8.3) ------------------------------ */

Test(vmx_ept, leaf_entries_and_eptp)
{
	/* table 29-6: R=1, W=2, X=4, memory type bits 5:3 (WB = 6) */
	cr_assert_eq(vmx_ept_pte(0x1234000, true, true), 0x1234037);
	cr_assert_eq(vmx_ept_pte(0x1234000, true, false), 0x1234035);
	cr_assert_eq(vmx_ept_pte(0x1234000, false, true), 0, "not present: bits 2:0 clear");
	cr_assert_eq(vmx_ept_pte(0x1234fff, true, true), 0x1234037, "4 KiB aligned");
	/* 25.6.11: WB (6) in bits 2:0, walk length - 1 = 3 in bits 5:3 */
	cr_assert_eq(vmx_eptp(0x5000), 0x501e);
}

Test(vmx_ept, split_keeps_permissions_and_type)
{
	uint64_t pt[512];

	vmx_ept_split(0x40200000ull | 0x80 | 0x37, pt);   /* 2 MiB leaf (bit 7), RWX, WB */
	cr_assert_eq(pt[0], 0x40200037);
	cr_assert_eq(pt[1], 0x40201037);
	cr_assert_eq(pt[511], 0x403ff037);
	vmx_ept_split(0x600000ull | 0x80 | 0x40 | 0x35, pt);   /* read/execute, ignore PAT */
	cr_assert_eq(pt[5], 0x605075, "0x%lx", pt[5]);
}

Test(vmx_ept, violation_qualification)
{
	/* table 28-7: bit 0 read, 1 write, 2 fetch, 3-5 readable/writable/executable */
	struct vmx_ept_access a = vmx_ept_violation_decode(0x182);
	cr_assert(!a.present && a.write && !a.fetch);
	a = vmx_ept_violation_decode(0x18a);
	cr_assert(a.present && a.write && !a.fetch, "readable: the page was mapped");
	a = vmx_ept_violation_decode(0x84);
	cr_assert(!a.present && !a.write && a.fetch);
	a = vmx_ept_violation_decode(0x1a2);
	cr_assert(a.present, "executable only");
}

Test(vmx_exit, entry_interruption_information)
{
	/* 25.8.3 table 25-17: vector 7:0, type 10:8, deliver error code 11, valid 31 */
	cr_assert_eq(vmx_entry_intr_info(14, INTR_TYPE_HARD_EXCEPTION, true), 0x80000b0e);
	cr_assert_eq(vmx_entry_intr_info(0x20, INTR_TYPE_EXT_INTR, false), 0x80000020);
	cr_assert_eq(vmx_entry_intr_info(2, INTR_TYPE_NMI, false), 0x80000202);
	cr_assert_eq(vmx_entry_intr_info(0x80, INTR_TYPE_SOFT_INTR, false), 0x80000480);
}

Test(vmx_exit, instruction_length_only_for_instruction_exits)
{
	cr_assert(vmx_exit_has_insn_len(18, 0), "VMCALL");
	cr_assert(vmx_exit_has_insn_len(10, 0), "CPUID");
	cr_assert(vmx_exit_has_insn_len(12, 0), "HLT");
	cr_assert(vmx_exit_has_insn_len(30, 0), "IN/OUT");
	cr_assert(vmx_exit_has_insn_len(31, 0), "RDMSR");
	cr_assert_not(vmx_exit_has_insn_len(48, 0), "EPT violation");
	cr_assert_not(vmx_exit_has_insn_len(2, 0), "triple fault");
	cr_assert_not(vmx_exit_has_insn_len(1, 0), "external interrupt");
	cr_assert_not(vmx_exit_has_insn_len(0, 0x80000b0e), "#PF: hardware exception");
	cr_assert(vmx_exit_has_insn_len(0, 0x80000603), "#BP from INT3: software exception");
	cr_assert_not(vmx_exit_has_insn_len(0x80000021u, 0), "failed entry");
}

Test(vmx_features, bochs_skylake_offers)
{
	struct msr_fixture f;
	uint64_t caps[VMX_CTL_COUNT];

	fixture_load("bochs-skylake-x-kvm-6.12-nested.msr", &f);
	for (int i = 0; i < VMX_CTL_COUNT; i++)
		caps[i] = cap(&f, (enum vmx_ctl)i);
	uint32_t got = vmx_features(caps, f.val[0xc]);
	/* EPT_VPID_CAP 0xf0106334041: 4-level, WB, INVEPT, A/D; PROCBASED_CTLS2 allows VPID (5),
	 * (0x02037bff: bits 0-9, 11-14, 16, 17, 25), so VPID (5), unrestricted (7), VMCS
	 * shadowing (14); pin-based allows 3, 5, 6; primary (0xf7f9fffe) lacks MTF (27) */
	uint32_t want = NVM_REQ(NESTED_PAGING) | NVM_REQ(VPID) | NVM_REQ(EPT_AD) |
			NVM_REQ(UNRESTRICTED) | NVM_REQ(PREEMPTION_TIMER) | NVM_REQ(VIRTUAL_NMI) |
			NVM_REQ(VMCS_SHADOWING);
	cr_assert_eq(got, want, "got 0x%x, want 0x%x", got, want);
	caps[VMX_CTL_PROC] &= ~((uint64_t)(1u << 31) << 32);   /* no secondary controls at all */
	got = vmx_features(caps, f.val[0xc]);
	cr_assert_eq(got & (NVM_REQ(NESTED_PAGING) | NVM_REQ(VPID) | NVM_REQ(UNRESTRICTED) |
			    NVM_REQ(EPT_AD)), 0, "0x%x", got);
	cr_assert(got & NVM_REQ(PREEMPTION_TIMER));
	caps[VMX_CTL_PIN] &= ~((uint64_t)(1u << 3) << 32);   /* virtual NMIs need NMI exiting */
	cr_assert_eq(vmx_features(caps, f.val[0xc]) & NVM_REQ(VIRTUAL_NMI), 0);
}
