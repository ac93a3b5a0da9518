// SPDX-License-Identifier: MIT
/*
 * AMD SVM plain-C parts (arch/amd/common): VMCB offsets against the APM's
 * appendix B, the VMCB builder, the VMRUN consistency checks, the #VMEXIT
 * code names of appendix C, instruction lengths from an exit, EVENTINJ,
 * the features of CPUID 8000000Ah and the nested page tables. Expected
 * values are the APM's numbers, not the header's symbols.
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <string.h>

#include "nestvmm/features.h"
#include "nestvmm/svm.h"
#include "nestvmm/x86.h"

/* L1's GDT (guest/cpu.c): null, 64-bit code, data, 16-byte TSS at 0x20e180. */
#define TSS_BASE 0xffff80000020e180ull
static const uint64_t gdt[5] = {
	0,
	0x00af9b000000ffffull,
	0x00cf93000000ffffull,
	(104 - 1) | ((TSS_BASE & 0xffffff) << 16) | (0x8bull << 40) | (((TSS_BASE >> 24) & 0xff) << 56),
	TSS_BASE >> 32,
};

static struct vmcb vmcb;
static struct svm_l2_setup s;

/* What L1 reads on a typical run (values from the QEMU TCG L0). */
static void setup_l1_state(void)
{
	memset(&vmcb, 0xa5, sizeof(vmcb));   /* the builder must clear it all */
	s = (struct svm_l2_setup){
		.cr0 = 0x80010033, .cr3 = 0x2000, .cr4 = 0x20,
		.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME,
		.gdtr_base = 0x20e140, .gdtr_limit = sizeof(gdt) - 1,
		.idtr_base = 0x213290, .idtr_limit = 0x1ff, .gdt = gdt,
		.cs = 0x08, .ss = 0x10, .ds = 0x10, .es = 0x10, .fs = 0x10, .gs = 0x10, .tr = 0x18,
		.rip = 0x2003d4, .rsp = 0x221000, .asid = 1,
		.iopm_pa = 0x21a000, .msrpm_pa = 0x21d000,
	};
}

TestSuite(svm, .init = setup_l1_state);

Test(svm, vmcb_offsets_follow_apm_appendix_b)
{
	cr_assert_eq(sizeof(struct vmcb), 4096);
	cr_assert_eq(offsetof(struct vmcb, control.intercept_cr), 0x000);
	cr_assert_eq(offsetof(struct vmcb, control.intercept_exceptions), 0x008);
	cr_assert_eq(offsetof(struct vmcb, control.intercept_misc1), 0x00c);
	cr_assert_eq(offsetof(struct vmcb, control.intercept_misc2), 0x010);
	cr_assert_eq(offsetof(struct vmcb, control.pause_filter_count), 0x03e);
	cr_assert_eq(offsetof(struct vmcb, control.iopm_base_pa), 0x040);
	cr_assert_eq(offsetof(struct vmcb, control.guest_asid), 0x058);
	cr_assert_eq(offsetof(struct vmcb, control.tlb_control), 0x05c);
	cr_assert_eq(offsetof(struct vmcb, control.exitcode), 0x070);
	cr_assert_eq(offsetof(struct vmcb, control.exitinfo2), 0x080);
	cr_assert_eq(offsetof(struct vmcb, control.np_enable), 0x090);
	cr_assert_eq(offsetof(struct vmcb, control.n_cr3), 0x0b0);
	cr_assert_eq(offsetof(struct vmcb, control.nrip), 0x0c8);
	cr_assert_eq(offsetof(struct vmcb, control.guest_insn_bytes), 0x0d1);
	cr_assert_eq(offsetof(struct vmcb, save.es), 0x400);
	cr_assert_eq(offsetof(struct vmcb, save.ds), 0x430);
	cr_assert_eq(offsetof(struct vmcb, save.gdtr), 0x460);
	cr_assert_eq(offsetof(struct vmcb, save.tr), 0x490);
	cr_assert_eq(offsetof(struct vmcb, save.cpl), 0x4cb);
	cr_assert_eq(offsetof(struct vmcb, save.efer), 0x4d0);
	cr_assert_eq(offsetof(struct vmcb, save.cr4), 0x548);
	cr_assert_eq(offsetof(struct vmcb, save.dr7), 0x560);
	cr_assert_eq(offsetof(struct vmcb, save.rip), 0x578);
	cr_assert_eq(offsetof(struct vmcb, save.rsp), 0x5d8);
	cr_assert_eq(offsetof(struct vmcb, save.rax), 0x5f8);
	cr_assert_eq(offsetof(struct vmcb, save.kernel_gs_base), 0x620);
	cr_assert_eq(offsetof(struct vmcb, save.cr2), 0x640);
	cr_assert_eq(offsetof(struct vmcb, save.g_pat), 0x668);
	cr_assert_eq(offsetof(struct vmcb, save.lastexcpto), 0x690);
}

/*
 * The header's numbers against the APM (vol. 2, appendix B table B-1 for the
 * intercept vectors and control fields, appendix C table C-1 for the exit
 * codes, 15.25.6 for EXITINFO1 of a nested page fault), written out as
 * numbers: assertions that compare with the header's own symbols cannot
 * catch a wrong symbol.
 */
Test(svm, header_constants_are_the_apm_numbers)
{
	/* VMCB 00Ch: bit 0 INTR, 1 NMI, 18 CPUID, 24 HLT, 27 IOIO_PROT, 28 MSR_PROT, 31 shutdown */
	cr_assert_eq(SVM_INTERCEPT_INTR, 0x00000001u);
	cr_assert_eq(SVM_INTERCEPT_NMI, 0x00000002u);
	cr_assert_eq(SVM_INTERCEPT_CPUID, 0x00040000u);
	cr_assert_eq(SVM_INTERCEPT_HLT, 0x01000000u);
	cr_assert_eq(SVM_INTERCEPT_IOIO_PROT, 0x08000000u);
	cr_assert_eq(SVM_INTERCEPT_MSR_PROT, 0x10000000u);
	cr_assert_eq(SVM_INTERCEPT_SHUTDOWN, 0x80000000u);
	/* VMCB 010h: bit 0 VMRUN, 1 VMMCALL, 2 VMLOAD, 3 VMSAVE */
	cr_assert_eq(SVM_INTERCEPT_VMRUN, 0x1u);
	cr_assert_eq(SVM_INTERCEPT_VMMCALL, 0x2u);
	cr_assert_eq(SVM_INTERCEPT_VMLOAD, 0x4u);
	cr_assert_eq(SVM_INTERCEPT_VMSAVE, 0x8u);
	/* VMCB 05Ch TLB_CONTROL: 00h do nothing, 01h flush the entire TLB */
	cr_assert_eq(SVM_TLB_CONTROL_DO_NOTHING, 0);
	cr_assert_eq(SVM_TLB_CONTROL_FLUSH_ALL, 1);
	/* VMCB 090h bit 0: NP_ENABLE */
	cr_assert_eq(SVM_NP_ENABLE, 1);
	/* EXITINFO1 of #VMEXIT(NPF): P, R/W, U/S, I/D; bit 32 final GPA, bit 33 guest tables */
	cr_assert_eq(SVM_NPF_P, 0x1);
	cr_assert_eq(SVM_NPF_RW, 0x2);
	cr_assert_eq(SVM_NPF_US, 0x4);
	cr_assert_eq(SVM_NPF_ID, 0x10);
	cr_assert_eq(SVM_NPF_GUEST_FINAL, 0x100000000ull);
	cr_assert_eq(SVM_NPF_GUEST_TABLES, 0x200000000ull);
	/* IOPM 12 KiB, MSRPM 8 KiB; PAT MSR 277h and its power-on value */
	cr_assert_eq(SVM_IOPM_SIZE, 12288);
	cr_assert_eq(SVM_MSRPM_SIZE, 8192);
	cr_assert_eq(SVM_MSR_IA32_PAT, 0x277);
	cr_assert_eq(SVM_PAT_DEFAULT, 0x0007040600070406ull);
	/* VMCB segment attributes: type 3:0, S 4, DPL 6:5, P 7, L 9, D/B 10, G 11 */
	cr_assert_eq(SVM_SEG_TYPE_MASK, 0xf);
	cr_assert_eq(SVM_SEG_S, 0x10);
	cr_assert_eq(SVM_SEG_DPL_SHIFT, 5);
	cr_assert_eq(SVM_SEG_P, 0x80);
	cr_assert_eq(SVM_SEG_L, 0x200);
	cr_assert_eq(SVM_SEG_DB, 0x400);
	cr_assert_eq(SVM_SEG_G, 0x800);
	/* #VMEXIT codes */
	cr_assert_eq(VMEXIT_CR0_READ, 0x000);
	cr_assert_eq(VMEXIT_CR0_WRITE, 0x010);
	cr_assert_eq(VMEXIT_DR0_READ, 0x020);
	cr_assert_eq(VMEXIT_DR0_WRITE, 0x030);
	cr_assert_eq(VMEXIT_EXCP0, 0x040);
	cr_assert_eq(VMEXIT_INTR, 0x060);
	cr_assert_eq(VMEXIT_NMI, 0x061);
	cr_assert_eq(VMEXIT_CPUID, 0x072);
	cr_assert_eq(VMEXIT_HLT, 0x078);
	cr_assert_eq(VMEXIT_IOIO, 0x07b);
	cr_assert_eq(VMEXIT_MSR, 0x07c);
	cr_assert_eq(VMEXIT_SHUTDOWN, 0x07f);
	cr_assert_eq(VMEXIT_VMRUN, 0x080);
	cr_assert_eq(VMEXIT_VMMCALL, 0x081);
	cr_assert_eq(VMEXIT_VMLOAD, 0x082);
	cr_assert_eq(VMEXIT_VMSAVE, 0x083);
	cr_assert_eq(VMEXIT_NPF, 0x400);
	cr_assert_eq(VMEXIT_INVALID, 0xffffffffffffffffull);   /* -1 */
	cr_assert_eq(VMEXIT_BUSY, 0xfffffffffffffffeull);      /* -2 */
	cr_assert_eq(VMEXIT_IDLE_REQUIRED, 0xfffffffffffffffdull);   /* -3 */
	cr_assert_eq(VMEXIT_INVALID_PMC, 0xfffffffffffffffcull);     /* -4 */
	/* EFER.SVME is bit 12, CR4.PAE bit 5 */
	cr_assert_eq(EFER_SVME, 0x1000);
	cr_assert_eq(CR4_PAE, 0x20);
}

Test(svm, builder_sets_mandatory_intercepts_and_asid)
{
	svm_vmcb_build(&vmcb, &s);
	cr_assert(vmcb.control.intercept_misc2 & 0x1, "VMRUN intercept (010h bit 0) is mandatory");
	cr_assert(vmcb.control.intercept_misc2 & 0x2, "VMMCALL intercept (010h bit 1)");
	cr_assert(vmcb.control.intercept_misc1 & (1u << 24), "HLT intercept (00Ch bit 24)");
	cr_assert(vmcb.control.intercept_misc1 & (1u << 31), "shutdown intercept (00Ch bit 31)");
	cr_assert_eq(vmcb.control.intercept_exceptions, 0, "no exception exits unless asked");
	cr_assert_eq(vmcb.control.intercept_cr, 0);
	cr_assert_eq(vmcb.control.guest_asid, 1);
	cr_assert_eq(vmcb.control.tlb_control, 1, "TLB_CONTROL 01h: flush the entire TLB");
	cr_assert_eq(vmcb.control.iopm_base_pa, 0x21a000);
	cr_assert_eq(vmcb.control.msrpm_base_pa, 0x21d000);
	cr_assert_eq(vmcb.control.exitcode, 0, "builder zeroes the VMCB");
	cr_assert_eq(vmcb.control.vmcb_clean, 0, "nothing cached: every field is (re)loaded");
}

/* The VMCB as bytes: the APM gives offsets, not C fields. */
static uint32_t vmcb_u32(size_t off)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)&vmcb + off, sizeof(v));
	return v;
}

static uint64_t vmcb_u64(size_t off)
{
	uint64_t v;

	memcpy(&v, (const uint8_t *)&vmcb + off, sizeof(v));
	return v;
}

Test(svm, builder_intercepts_by_apm_bit_numbers)
{
	/* Vector 3 (00Ch): HLT bit 24, SHUTDOWN bit 31; vector 4 (010h): VMRUN bit 0, VMMCALL bit 1. */
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb_u32(0x00c), (1u << 24) | (1u << 31), "0x%x", vmcb_u32(0x00c));
	cr_assert_eq(vmcb_u32(0x010), 0x3, "0x%x", vmcb_u32(0x010));
	/* IOIO_PROT is bit 27 of vector 3. */
	s.intercept_io = true;
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb_u32(0x00c), (1u << 24) | (1u << 27) | (1u << 31), "0x%x", vmcb_u32(0x00c));
	cr_assert_eq(vmcb_u64(0x040), 0x21a000, "IOPM_BASE_PA");
}

Test(svm, builder_intercepts_exactly_the_exceptions_asked)
{
	/* Offset 008h, bit n = vector n: #UD (6) and #PF (14) only. */
	s.intercept_exceptions = (1u << 6) | (1u << 14);
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb_u32(0x008), 0x4040, "0x%x", vmcb_u32(0x008));
	s.intercept_exceptions = 0xffffffff;
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb_u32(0x008), 0xffffffff);
}

Test(svm, builder_puts_l2_idt_and_entry_in_the_save_area)
{
	/* L2's own IDT, not L1's; RIP 578h, RSP 5D8h, RAX 5F8h, IDTR base 488h, limit 484h. */
	s.idtr_base = 0x215660;
	s.idtr_limit = 0x1ff;
	s.rip = 0x202940;
	s.rsp = 0x21eff8;
	s.rax = 0x4e0;
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb_u64(0x488), 0x215660);
	cr_assert_eq(vmcb_u32(0x484), 0x1ff);
	cr_assert_eq(vmcb_u64(0x578), 0x202940);
	cr_assert_eq(vmcb_u64(0x5d8), 0x21eff8);
	cr_assert_eq(vmcb_u64(0x5f8), 0x4e0);
	cr_assert_eq(vmcb_u64(0x570), 0x2, "RFLAGS: IF=0, only the fixed bit 1");
}

Test(svm, iopm_all_ones_or_none)
{
	static uint8_t iopm[12288 + 16];

	memset(iopm, 0x5a, sizeof(iopm));
	svm_iopm_init(iopm, true);
	for (size_t i = 0; i < 12288; i++)
		cr_assert_eq(iopm[i], 0xff, "IOPM byte %zu", i);
	cr_assert_eq(iopm[12288], 0x5a, "12 KiB exactly");
	svm_iopm_init(iopm, false);
	for (size_t i = 0; i < 12288; i++)
		cr_assert_eq(iopm[i], 0, "IOPM byte %zu", i);
}

Test(svm, eventinj_encoding_follows_apm_15_20)
{
	/* #GP (13), type 3 exception, EV (bit 11), V (bit 31), error code in 63:32. */
	cr_assert_eq(svm_eventinj(13, 3, true, 0x10), 0x0000001080000b0dull);
	/* NMI: vector 2, type 2, no error code. */
	cr_assert_eq(svm_eventinj(2, 2, false, 0x1234), 0x80000202ull, "error code only when valid");
	/* External interrupt 0x20, type 0; INT 0x80, type 4. */
	cr_assert_eq(svm_eventinj(0x20, 0, false, 0), 0x80000020ull);
	cr_assert_eq(svm_eventinj(0x80, 4, false, 0), 0x80000480ull);
}

Test(svm, features_from_cpuid_8000000a_edx)
{
	/* NP bit 0, NRIPS bit 3, DecodeAssists bit 7, VGIF bit 16; FlushByAsid (6) is no test feature. */
	cr_assert_eq(svm_nested_features(0), 0);
	cr_assert_eq(svm_nested_features(1u << 0), NVM_REQ(NESTED_PAGING));
	cr_assert_eq(svm_nested_features(1u << 3), NVM_REQ(NRIPS));
	cr_assert_eq(svm_nested_features(1u << 7), NVM_REQ(DECODE_ASSISTS));
	cr_assert_eq(svm_nested_features(1u << 16), NVM_REQ(VGIF));
	cr_assert_eq(svm_nested_features(1u << 6), 0);
	/* What the QEMU TCG L0 (Debian 6.1/6.12) offers L1: NP, VmcbClean, FlushByAsid, VGIF, bit 28. */
	cr_assert_eq(svm_nested_features(0x10010061), NVM_REQ(NESTED_PAGING) | NVM_REQ(VGIF));
}

Test(svm, instruction_length_from_the_exit)
{
	/* VMMCALL (81h) is 0F 01 D9: 3 bytes without NRIPS, nRIP - RIP with it. */
	cr_assert_eq(svm_exit_insn_len(0x81, 0x1000, 0, 0, false), 3);
	cr_assert_eq(svm_exit_insn_len(0x81, 0x1000, 0x1003, 0, true), 3);
	cr_assert_eq(svm_exit_insn_len(0x81, 0x1000, 0, 0, true), 3, "NRIPS offered but nRIP not written");
	/* IOIO (7Bh): EXITINFO2 is the next RIP, with or without NRIPS. */
	cr_assert_eq(svm_exit_insn_len(0x7b, 0x1000, 0, 0x1002, false), 2);
	cr_assert_eq(svm_exit_insn_len(0x7b, 0x1000, 0, 0x1001, true), 1);
	/* HLT (78h), CPUID (72h): only nRIP tells. */
	cr_assert_eq(svm_exit_insn_len(0x78, 0x1000, 0x1001, 0, true), 1);
	cr_assert_eq(svm_exit_insn_len(0x72, 0x1000, 0x1002, 0, false), 0, "nRIP unused without NRIPS");
	/* Exceptions (40h-5Fh), NPF (400h), INTR (60h), shutdown (7Fh), -1: nothing to skip. */
	cr_assert_eq(svm_exit_insn_len(0x46, 0x1000, 0x1002, 0x1002, true), 0);
	cr_assert_eq(svm_exit_insn_len(0x400, 0x1000, 0x1003, 0x218000, true), 0);
	cr_assert_eq(svm_exit_insn_len(0x60, 0x1000, 0x1003, 0, true), 0);
	cr_assert_eq(svm_exit_insn_len(0x7f, 0x1000, 0x1003, 0, true), 0);
	cr_assert_eq(svm_exit_insn_len((uint64_t)-1, 0x1000, 0x1003, 0, true), 0);
	/* An nRIP that is no instruction away (> 15 bytes or backwards) is not trusted. */
	cr_assert_eq(svm_exit_insn_len(0x78, 0x1000, 0x1010, 0, true), 0);
	cr_assert_eq(svm_exit_insn_len(0x81, 0x1000, 0x0ffd, 0, true), 3);
}

Test(svm, builder_copies_l1_state)
{
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb.save.cr0, s.cr0);
	cr_assert_eq(vmcb.save.cr3, s.cr3);
	cr_assert_eq(vmcb.save.cr4, s.cr4);
	cr_assert_eq(vmcb.save.efer, s.efer);
	cr_assert_eq(vmcb.save.rip, 0x2003d4);
	cr_assert_eq(vmcb.save.rsp, 0x221000);
	cr_assert_eq(vmcb.save.rflags, RFLAGS_RESERVED_1);
	cr_assert_eq(vmcb.save.dr7, 0x400);
	cr_assert_eq(vmcb.save.cpl, 0);
	cr_assert_eq(vmcb.save.gdtr.base, 0x20e140);
	cr_assert_eq(vmcb.save.gdtr.limit, sizeof(gdt) - 1);
	cr_assert_eq(vmcb.save.idtr.base, 0x213290);
	cr_assert_eq(vmcb.save.idtr.limit, 0x1ff);
	/* 64-bit code: P, DPL0, S, type 0xb (accessed); L=1, G=1. */
	cr_assert_eq(vmcb.save.cs.selector, 0x08);
	cr_assert_eq(vmcb.save.cs.attrib, 0xa9b);
	cr_assert_eq(vmcb.save.cs.limit, 0xffffffff);
	cr_assert_eq(vmcb.save.ss.attrib, 0xc93);
	cr_assert_eq(vmcb.save.ds.attrib, 0xc93);
	cr_assert_eq(vmcb.save.es.selector, 0x10);
	/* Busy 64-bit TSS, base from both halves of the 16-byte descriptor. */
	cr_assert_eq(vmcb.save.tr.attrib, 0x08b);
	cr_assert_eq(vmcb.save.tr.limit, 103);
	cr_assert_eq(vmcb.save.tr.base, TSS_BASE);
}

Test(svm, builder_forces_guest_efer_svme)
{
	s.efer &= ~(uint64_t)EFER_SVME;
	svm_vmcb_build(&vmcb, &s);
	cr_assert(vmcb.save.efer & (1u << 12), "VMRUN fails with guest EFER.SVME (bit 12)=0");
}

Test(svm, builder_without_nested_paging)
{
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb.control.np_enable, 0);
	cr_assert_eq(vmcb.control.n_cr3, 0);
	cr_assert_eq(vmcb.save.g_pat, 0);
}

Test(svm, builder_with_nested_paging)
{
	s.nested_paging = true;
	s.n_cr3 = 0x224000;
	s.g_pat = 0x0007040600070406ull;
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(vmcb.control.np_enable, 1, "NP_ENABLE: bit 0 of VMCB 090h");
	cr_assert_eq(vmcb.control.n_cr3, 0x224000);
	cr_assert_eq(vmcb.save.g_pat, 0x0007040600070406ull);
	cr_assert_eq(vmcb.save.cr3, 0x2000, "L2's CR3 stays L1's (a GPA now)");
}

Test(svm, segment_decode_edge_cases)
{
	struct vmcb_seg z;

	z = svm_seg_from_gdt(gdt, sizeof(gdt) - 1, 0);
	cr_assert_eq(z.attrib, 0, "null selector is unusable");
	z = svm_seg_from_gdt(gdt, 0x17, 0x18);
	cr_assert_eq(z.attrib, 0, "beyond the GDT limit is unusable");
	cr_assert_eq(z.selector, 0x18);
	z = svm_seg_from_gdt(gdt, sizeof(gdt) - 1, 0x0c);
	cr_assert_eq(z.attrib, 0, "LDT selector (TI=1) is not decoded from the GDT");
	z = svm_seg_from_gdt(gdt, sizeof(gdt) - 1, 0x13);
	cr_assert_eq(z.attrib, 0xc93, "RPL bits do not change the index");
}

static unsigned int check(const char **why)
{
	return svm_vmcb_check(&vmcb, why, 4);
}

Test(svm, built_vmcb_passes_vmrun_checks)
{
	const char *why[4];

	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(check(why), 0, "first: %s", why[0]);
	s.nested_paging = true;
	s.n_cr3 = 0x224000;
	svm_vmcb_build(&vmcb, &s);
	cr_assert_eq(check(why), 0, "first: %s", why[0]);
}

Test(svm, vmrun_checks_name_what_fails)
{
	const char *why[4];

	svm_vmcb_build(&vmcb, &s);
	vmcb.control.intercept_misc2 &= ~1u;   /* VMRUN intercept */
	cr_assert_eq(check(why), 1);
	cr_assert(strstr(why[0], "VMRUN intercept"), "%s", why[0]);

	svm_vmcb_build(&vmcb, &s);
	vmcb.control.guest_asid = 0;
	cr_assert_eq(check(why), 1);
	cr_assert(strstr(why[0], "ASID"), "%s", why[0]);

	svm_vmcb_build(&vmcb, &s);
	vmcb.save.efer &= ~(1ull << 12);   /* SVME */
	cr_assert_eq(check(why), 1);
	cr_assert(strstr(why[0], "SVME"), "%s", why[0]);

	svm_vmcb_build(&vmcb, &s);
	vmcb.save.cs.attrib |= 1u << 10;   /* D/B */
	cr_assert_eq(check(why), 1);
	cr_assert(strstr(why[0], "CS.L and CS.D"), "%s", why[0]);

	svm_vmcb_build(&vmcb, &s);
	vmcb.save.cr4 &= ~(1ull << 5);   /* PAE */
	cr_assert_eq(check(why), 1);
	cr_assert(strstr(why[0], "CR4.PAE=0"), "%s", why[0]);

	svm_vmcb_build(&vmcb, &s);
	vmcb.save.cr0 |= 1u << 29;   /* NW without CD */
	vmcb.control.tlb_control = 2;
	cr_assert_eq(check(why), 2);
	cr_assert(strstr(why[0], "CR0.NW"), "%s", why[0]);
	cr_assert(strstr(why[1], "TLB_CONTROL"), "%s", why[1]);
}

Test(svm, vmrun_checks_count_beyond_max)
{
	const char *why[1];

	svm_vmcb_build(&vmcb, &s);
	vmcb.control.guest_asid = 0;
	vmcb.control.intercept_misc2 = 0;
	vmcb.save.efer = 0;
	cr_assert_eq(svm_vmcb_check(&vmcb, why, 1), 3, "all failures are counted");
	cr_assert(strstr(why[0], "SVME"));
}

Test(svm, exit_names_known_codes)
{
	cr_assert_str_eq(svm_exit_name(0x081), "VMEXIT_VMMCALL");
	cr_assert_str_eq(svm_exit_name(0x080), "VMEXIT_VMRUN");
	cr_assert_str_eq(svm_exit_name(0x078), "VMEXIT_HLT");
	cr_assert_str_eq(svm_exit_name(0x07f), "VMEXIT_SHUTDOWN");
	cr_assert_str_eq(svm_exit_name(0x400), "VMEXIT_NPF");
	cr_assert_str_eq(svm_exit_name(0x000), "VMEXIT_CR0_READ");
	cr_assert_str_eq(svm_exit_name(0x013), "VMEXIT_CR3_WRITE");
	cr_assert_str_eq(svm_exit_name(0x01f), "VMEXIT_CR15_WRITE");
	cr_assert_str_eq(svm_exit_name(0x027), "VMEXIT_DR7_READ");
	cr_assert_str_eq(svm_exit_name(0x040), "VMEXIT_EXCP0");
	cr_assert_str_eq(svm_exit_name(0x04e), "VMEXIT_EXCP14");
	cr_assert_str_eq(svm_exit_name(0x053), "VMEXIT_EXCP19");
	cr_assert_str_eq(svm_exit_name(0x054), "VMEXIT_EXCP20");
	cr_assert_str_eq(svm_exit_name(0x05f), "VMEXIT_EXCP31");
	cr_assert_str_eq(svm_exit_name(0x072), "VMEXIT_CPUID");
	cr_assert_str_eq(svm_exit_name(0x07b), "VMEXIT_IOIO");
	cr_assert_str_eq(svm_exit_name(0x09f), "VMEXIT_CR15_WRITE_TRAP");
	cr_assert_str_eq(svm_exit_name(0x403), "VMEXIT_VMGEXIT");
}

Test(svm, exit_names_negative_codes)
{
	cr_assert_str_eq(svm_exit_name((uint64_t)-1), "VMEXIT_INVALID");
	cr_assert_str_eq(svm_exit_name((uint64_t)-2), "VMEXIT_BUSY");
	cr_assert_str_eq(svm_exit_name((uint64_t)-3), "VMEXIT_IDLE_REQUIRED");
	cr_assert_str_eq(svm_exit_name((uint64_t)-4), "VMEXIT_INVALID_PMC");
}

Test(svm, exit_names_unknown_codes)
{
	cr_assert_null(svm_exit_name(0x0a7));
	cr_assert_null(svm_exit_name(0x0ff));
	cr_assert_null(svm_exit_name(0x3ff));
	cr_assert_null(svm_exit_name(0x404));
	cr_assert_null(svm_exit_name((uint64_t)-5));
	cr_assert_null(svm_exit_name(0xffffffffull), "-1 only as a 64-bit code");
	cr_assert_null(svm_exit_name(1ull << 32));
}

Test(svm, exit_names_table_has_no_gaps)
{
	for (uint64_t c = 0; c <= 0xa6; c++)
		cr_assert_not_null(svm_exit_name(c), "code 0x%lx", (unsigned long)c);
}

/* --- nested page tables ------------------------------------------------------ *
 * A pool of pages at fake addresses 0x100000 + 4096 * i, so a table's
 * address and its host pointer differ as they may in L1.
 */
#define POOL_PAGES 64
#define POOL_BASE 0x100000ull
static uint64_t pool[POOL_PAGES][512] __attribute__((aligned(4096)));
static unsigned int pool_used;

static uint64_t *pool_alloc(void *ctx, uint64_t *pa)
{
	(void)ctx;
	cr_assert_lt(pool_used, POOL_PAGES, "NPT pool exhausted");
	memset(pool[pool_used], 0, 4096);
	*pa = POOL_BASE + 4096ull * pool_used;
	return pool[pool_used++];
}

static uint64_t *pool_table(void *ctx, uint64_t pa)
{
	(void)ctx;
	cr_assert(pa >= POOL_BASE && pa < POOL_BASE + 4096ull * pool_used && !(pa & 0xfff),
		  "table address 0x%lx is no pool page", (unsigned long)pa);
	return pool[(pa - POOL_BASE) / 4096];
}

static const struct svm_npt_mem mem = { pool_alloc, pool_table, NULL };

/* The leaf for gpa by a walk written here: 4 levels, PS at the PD. */
static uint64_t leaf(uint64_t root, uint64_t gpa, int *level)
{
	uint64_t *t = pool_table(NULL, root), e = 0;

	for (int l = 4; l >= 1; l--) {
		e = t[(gpa >> (12 + 9 * (l - 1))) & 511];
		*level = l;
		if (l == 1 || (l == 2 && (e & 0x80)) || !(e & 1))
			return e;
		cr_assert_eq(e & 0x7, 0x7, "level %d entry 0x%lx: P, W and U (nested walks are user)",
			     l, (unsigned long)e);
		t = pool_table(NULL, e & 0x000ffffffffff000ull);
	}
	return e;
}

Test(svm, npt_identity_map_in_2m_pages)
{
	int level;

	pool_used = 0;
	uint64_t root = svm_npt_identity(&mem, 16ull << 20);
	cr_assert_eq(root, POOL_BASE);
	cr_assert_eq(pool_used, 3, "PML4, PDPT, one PD for 16 MiB");
	for (uint64_t gpa = 0; gpa < (16ull << 20); gpa += 0x1000 * 97) {
		uint64_t e = leaf(root, gpa, &level);
		cr_assert_eq(level, 2);
		/* 2 MiB page: address 51:21, PS (bit 7), U, W, P. */
		cr_assert_eq(e, (gpa & ~0x1fffffull) | 0x87, "GPA 0x%lx: 0x%lx", (unsigned long)gpa,
			     (unsigned long)e);
	}
	cr_assert_eq(leaf(root, 16ull << 20, &level), 0, "nothing beyond RAM");
	/* 4 GiB: four PDs under one PDPT. */
	pool_used = 0;
	root = svm_npt_identity(&mem, 4ull << 30);
	cr_assert_eq(pool_used, 6);
	cr_assert_eq(leaf(root, (4ull << 30) - 1, &level), ((4ull << 30) - (2ull << 20)) | 0x87);
}

Test(svm, npt_map_splits_a_2m_page_keeping_the_rest)
{
	int level;

	pool_used = 0;
	uint64_t root = svm_npt_identity(&mem, 16ull << 20);
	unsigned int ch = svm_npt_map(&mem, root, 0x218000, 0x218000, false, false);

	cr_assert_eq(ch, SVM_NPT_SPLIT);
	cr_assert_eq(pool_used, 4, "one page table for the split");
	/* Not present: P=0 (the walk must fault), address kept, U set. */
	cr_assert_eq(leaf(root, 0x218000, &level), 0x218004);
	cr_assert_eq(level, 1);
	for (uint64_t gpa = 0x200000; gpa < 0x400000; gpa += 0x1000) {
		if (gpa == 0x218000)
			continue;
		cr_assert_eq(leaf(root, gpa, &level), gpa | 0x7, "GPA 0x%lx after the split",
			     (unsigned long)gpa);
		cr_assert_eq(level, 1);
	}
	cr_assert_eq(leaf(root, 0x400000, &level), 0x400087, "the next 2 MiB page is untouched");

	/* Read-only, then writable: no second split. */
	cr_assert_eq(svm_npt_map(&mem, root, 0x218000, 0x218000, true, false), 0);
	cr_assert_eq(leaf(root, 0x218000, &level), 0x218005);
	cr_assert_eq(svm_npt_map(&mem, root, 0x218abc, 0x218000, true, true), 0, "any address in the page");
	cr_assert_eq(leaf(root, 0x218000, &level), 0x218007);
	/* Another host page for the same GPA. */
	svm_npt_map(&mem, root, 0x218000, 0x7654000, true, true);
	cr_assert_eq(leaf(root, 0x218000, &level), 0x7654007);
	cr_assert_eq(pool_used, 4);
}

Test(svm, npt_map_adds_missing_tables)
{
	int level;

	pool_used = 0;
	uint64_t root = svm_npt_identity(&mem, 4ull << 20);
	/* 512 GiB + 4 KiB: a new PDPT, PD and PT under PML4 entry 1. */
	cr_assert_eq(svm_npt_map(&mem, root, (512ull << 30) + 0x1000, 0x5000, true, true),
		     SVM_NPT_NEW_TABLE);
	cr_assert_eq(pool_used, 6);
	cr_assert_eq(leaf(root, (512ull << 30) + 0x1000, &level), 0x5007);
	cr_assert_eq(leaf(root, (512ull << 30), &level), 0, "its neighbours stay unmapped");
	cr_assert_eq(leaf(root, 0x1000, &level), 0x87, "RAM still mapped");
}
