// SPDX-License-Identifier: MIT
/*
 * VMX intercept helpers (arch/intel/common/vmx_intercept.c): the exit
 * qualifications of SDM tables 28-3 (CR access), 28-4 (MOV DR), 28-5 (I/O)
 * and the MSR and I/O bitmap layouts of 25.6.9 / 25.6.4.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "nestvmm/vmx_intercept.h"

Test(vmx_intercept, cr_qualification)
{
	/* mov %rbx,%cr0: CR 0, type 0, GPR 3. */
	struct vmx_cr_qual c = vmx_cr_qual_decode(0x300);
	cr_assert_eq(c.cr, 0);
	cr_assert_eq(c.type, VMX_CR_MOV_TO);
	cr_assert_eq(c.gpr, 3);
	/* mov %cr8,%rbx: CR 8, type 1. */
	c = vmx_cr_qual_decode(0x318);
	cr_assert_eq(c.cr, 8);
	cr_assert_eq(c.type, VMX_CR_MOV_FROM);
	/* lmsw %ax with 0x37: type 3, register operand, data in 31:16. */
	c = vmx_cr_qual_decode(0x00370030ull);
	cr_assert_eq(c.type, VMX_CR_LMSW);
	cr_assert_not(c.lmsw_memory);
	cr_assert_eq(c.lmsw_data, 0x37);
	cr_assert_eq(vmx_cr_qual_decode(0x20).type, VMX_CR_CLTS);
}

Test(vmx_intercept, dr_and_io_qualification)
{
	struct vmx_dr_qual d = vmx_dr_qual_decode(0x317);   /* mov %dr7,%rbx */
	cr_assert_eq(d.dr, 7);
	cr_assert(d.from);
	cr_assert_eq(d.gpr, 3);
	d = vmx_dr_qual_decode(0x200);                      /* mov %rdx,%dr0 */
	cr_assert_eq(d.dr, 0);
	cr_assert_not(d.from);
	cr_assert_eq(d.gpr, 2);

	struct vmx_io_qual io = vmx_io_qual_decode(0x05ec0009ull);   /* in (%dx),%ax */
	cr_assert_eq(io.port, 0x5ec);
	cr_assert_eq(io.size, 2);
	cr_assert(io.in);
	io = vmx_io_qual_decode(0x05ed0030ull);                      /* rep outsb */
	cr_assert_eq(io.size, 1);
	cr_assert(io.string && io.rep);
	cr_assert_not(io.in);
	cr_assert_eq(vmx_io_qual_decode(0x05ea0003ull).size, 4);
}

Test(vmx_intercept, msr_and_io_bitmaps)
{
	static uint8_t bm[4096], a[4096], b[4096];

	cr_assert(vmx_msr_bitmap_set(bm, 0x174, true, false));
	cr_assert_eq(bm[0x174 / 8], 1u << 4);                /* read low at 0 */
	cr_assert_eq(bm[2048 + 0x174 / 8], 0);
	cr_assert(vmx_msr_bitmap_set(bm, 0x175, false, true));
	cr_assert_eq(bm[2048 + 0x175 / 8], 1u << 5);         /* write low at 2048 */
	cr_assert(vmx_msr_bitmap_set(bm, 0xc0000102, true, true));
	cr_assert_eq(bm[1024 + 0x102 / 8], 1u << 2);         /* read high at 1024 */
	cr_assert_eq(bm[3072 + 0x102 / 8], 1u << 2);         /* write high at 3072 */
	cr_assert_not(vmx_msr_bitmap_set(bm, 0x2000, true, true));
	cr_assert_not(vmx_msr_bitmap_set(bm, 0xc0010000, true, true));

	vmx_io_bitmap_set(a, b, 0x5ed, true);
	cr_assert_eq(a[0xbd], 1u << 5);
	vmx_io_bitmap_set(a, b, 0x8001, true);
	cr_assert_eq(b[0], 1u << 1);
	vmx_io_bitmap_set(a, b, 0x5ed, false);
	cr_assert_eq(a[0xbd], 0);
}
