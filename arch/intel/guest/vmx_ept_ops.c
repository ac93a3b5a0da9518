// SPDX-License-Identifier: MIT
/*
 * EPT with explicit rights for the l2.npt.* tests (SDM vol. 3C, 29.3 "The
 * extended page table mechanism"): npt_set and npt_ad of the nested API,
 * and the decoding of the EPT-violation qualification beyond R/W/X access
 * (28.2.1, table 28-7).
 *
 * Leaves (tables 29-4, 29-5, 29-6): bits 2:0 read/write/execute, 5:3 the
 * memory type (WB), bit 7 a 1 GiB (PDPTE) or 2 MiB (PDE) page, bit 8
 * accessed, bit 9 dirty (with EPTP bit 6, 29.3.5). Write without read, or
 * a reserved address bit, is an EPT misconfiguration (29.3.3.1). Tables
 * are reached from vcpu->ncr3, the EPTP (L1's GPA == pointer).
 */
#include "l2.h"
#include "vmx_guest.h"
#include "nestvmm/vmx.h"

#define EPT_A       (1ull << 8)
#define EPT_D       (1ull << 9)
#define EPT_1G_MASK 0x000fffffc0000000ull
#define EPT_2M_MASK 0x000fffffffe00000ull

static unsigned int ept_idx(u64 gpa, int level)
{
	return (unsigned int)(gpa >> (12 + 9 * (level - 1))) & 511;
}

/* The lowest reserved physical-address bit: MAXPHYADDR (CPUID 8000_0008h EAX[7:0]); 0 if none. */
static u64 ept_rsvd_bit(void)
{
	u32 c[4];

	cpuid(0x80000008, 0, c);
	return (c[0] & 0xff) < 52 ? 1ull << (c[0] & 0xff) : 0;
}

/* The next table below *e, made when missing; a large leaf there is split (2 MiB only). */
static u64 *ept_down(u64 *e, int level)
{
	if (!(*e & EPT_RWX)) {
		u64 *t = page_alloc(1);
		*e = gpa_of(t) | EPT_RWX;
	} else if (*e & EPT_LARGE_PAGE) {
		u64 *t = page_alloc(1);
		GUEST_ASSERT(level == 2, "EPT: splitting a 1 GiB page is not done here");
		vmx_ept_split(*e, t);
		*e = gpa_of(t) | EPT_RWX;
	}
	return (u64 *)(uintptr_t)(*e & EPT_ADDR_MASK);
}

/* 31.3 INVEPT of one type. */
static const char *ept_invept_type(u64 eptp, u64 type)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	u8 cf, zf;

	__asm__ volatile("invept %[d], %[t]\n\tsetc %[cf]\n\tsetz %[zf]"
			 : [cf] "=qm"(cf), [zf] "=qm"(zf)
			 : [d] "m"(desc), [t] "r"(type) : "cc", "memory");
	return cf ? "INVEPT: VMfailInvalid" : zf ? "INVEPT: VMfailValid" : NULL;
}

/* Single-context (all-context where that is all the CPU offers). */
static const char *ept_invept(u64 eptp)
{
	return ept_invept_type(eptp, vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT_SINGLE_CONTEXT ?
				     INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT);
}

/* 29.4.3.1: guest-physical mappings are tagged by the EPTP (EP4TA), not by VPID. */
const char *vmx_tlb_flush(struct l2_vcpu *vcpu, u32 how)
{
	if (how == L2_TLB_CONTEXT) {
		if (!(vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT_SINGLE_CONTEXT))
			return "IA32_VMX_EPT_VPID_CAP[25]=0: no single-context INVEPT";
		return ept_invept_type(vcpu->ncr3, INVEPT_SINGLE_CONTEXT);
	}
	if (how == L2_TLB_ALL) {
		if (!(vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT_ALL_CONTEXT))
			return "IA32_VMX_EPT_VPID_CAP[26]=0: no all-context INVEPT";
		return ept_invept_type(vcpu->ncr3, INVEPT_ALL_CONTEXT);
	}
	if (how == L2_TLB_NEW_TAG)
		return "not applicable: EPT mappings are tagged by the EPTP, a new VPID does not "
		       "drop them (SDM 29.4.1)";
	return "unknown flush kind";
}

const char *vmx_npt_set(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, u32 flags)
{
	u64 *pml4 = (u64 *)(uintptr_t)(vcpu->ncr3 & EPT_ADDR_MASK), *pdpt, *pd, *pt;
	u64 leaf = EPT_MEMTYPE_WB;

	GUEST_ASSERT(vcpu->ncr3, "npt_set(GPA 0x%lx) on an L2 without EPT", gpa);
	leaf |= (flags & L2_NPT_R ? EPT_READ : 0) | (flags & L2_NPT_W ? EPT_WRITE : 0) |
		(flags & L2_NPT_X ? EPT_EXEC : 0);
	if ((leaf & EPT_RWX) == EPT_EXEC && !(vmx_caps.ept_vpid_cap & VMX_EPT_EXECUTE_ONLY))
		return "IA32_VMX_EPT_VPID_CAP[0]=0: no execute-only EPT pages";
	if (!(leaf & EPT_RWX))
		leaf = 0;                         /* not present: the whole entry 0 */
	if (flags & L2_NPT_RSVD) {
		u64 bit = ept_rsvd_bit();
		if (!bit)
			return "MAXPHYADDR is 52: no reserved address bit to set";
		leaf |= bit;
	}
	pdpt = ept_down(&pml4[ept_idx(gpa, 4)], 4);
	if (flags & L2_NPT_1G) {
		if (!(vmx_caps.ept_vpid_cap & VMX_EPT_1GB_PAGE))
			return "IA32_VMX_EPT_VPID_CAP[17]=0: no 1 GiB EPT pages";
		pdpt[ept_idx(gpa, 3)] = (hpa & EPT_1G_MASK) | EPT_LARGE_PAGE | leaf;
	} else {
		pd = ept_down(&pdpt[ept_idx(gpa, 3)], 3);
		if (flags & L2_NPT_2M) {
			if (!(vmx_caps.ept_vpid_cap & VMX_EPT_2MB_PAGE))
				return "IA32_VMX_EPT_VPID_CAP[16]=0: no 2 MiB EPT pages";
			pd[ept_idx(gpa, 2)] = (hpa & EPT_2M_MASK) | EPT_LARGE_PAGE | leaf;
		} else {
			pt = ept_down(&pd[ept_idx(gpa, 2)], 2);
			pt[ept_idx(gpa, 1)] = (hpa & EPT_ADDR_MASK) | leaf;
		}
	}
	TRACE("EPT: GPA 0x%lx -> 0x%lx flags 0x%x", gpa, hpa, flags);
	/* 29.4.3: cached translations for this EPTP stay until INVEPT. */
	return flags & L2_NPT_NOFLUSH ? NULL : ept_invept(vcpu->ncr3);
}

/* The leaf entry that maps gpa, at whatever level; NULL if a level is not present. */
static u64 *ept_leaf(struct l2_vcpu *vcpu, u64 gpa)
{
	u64 *t = (u64 *)(uintptr_t)(vcpu->ncr3 & EPT_ADDR_MASK);

	for (int l = 4; l >= 1; l--) {
		u64 *e = &t[ept_idx(gpa, l)];
		if (!(*e & EPT_RWX))
			return NULL;
		if (l == 1 || (l <= 3 && (*e & EPT_LARGE_PAGE)))
			return e;
		t = (u64 *)(uintptr_t)(*e & EPT_ADDR_MASK);
	}
	return NULL;
}

u32 vmx_npt_ad(struct l2_vcpu *vcpu, u64 gpa, bool clear)
{
	u64 *e = ept_leaf(vcpu, gpa);
	u32 ad;

	if (!e)
		return 0;
	ad = (*e & EPT_A ? L2_NPT_ACCESSED : 0) | (*e & EPT_D ? L2_NPT_DIRTY : 0);
	if (clear) {
		*e &= ~(EPT_A | EPT_D);
		ept_invept(vcpu->ncr3);
	}
	return ad;
}

/* Table 28-7: bits 2:0 the access, 5:3 the entry's rights, 7 GLA valid, 8 final translation. */
void vmx_ept_exit_decode(struct l2_exit *x, u64 q, u64 gla)
{
	x->npfx.read = q & EPT_VIOLATION_READ;
	x->npfx.allowed = (u8)((q >> 3) & 7);
	x->npfx.gla_valid = q & EPT_VIOLATION_GLA_VALID;
	x->npfx.final = (q & EPT_VIOLATION_GLA_VALID) && (q & EPT_VIOLATION_GLA_TRANSLATED);
	x->npfx.walk = (q & EPT_VIOLATION_GLA_VALID) && !(q & EPT_VIOLATION_GLA_TRANSLATED);
	x->npfx.gla = x->npfx.gla_valid ? gla : 0;
}
