// SPDX-License-Identifier: MIT
/*
 * Nested paging with explicit rights for the l2.npt.* tests (AMD APM vol. 2,
 * 15.25 "Nested Paging"): npt_set and npt_ad of the nested API, and the
 * decoding of VMEXIT_NPF's EXITINFO1 beyond P/RW/ID (15.25.6).
 *
 * The nested tables are the long-mode format (15.25.5): P is "readable",
 * R/W, U (every nested access is a user access, so U=1 everywhere), NX
 * (bit 63, honoured when L1's EFER.NXE=1), PS in a PDPT (1 GiB) or PD
 * (2 MiB) entry, A (bit 5) and D (bit 6, leaves) set by the walk. Tables
 * are reached from vcpu->ncr3 (L1's GPA == pointer).
 */
#include "l2.h"
#include "nested.h"
#include "svm_guest.h"
#include "nestvmm/svm.h"

#define NPT_A       (1ull << 5)
#define NPT_D       (1ull << 6)
#define NPT_NX      (1ull << 63)
#define NPT_1G_MASK 0x000fffffc0000000ull
#define NPT_2M_MASK 0x000fffffffe00000ull

static u64 *npt_alloc(void *ctx, u64 *pa)
{
	void *p = page_alloc(1);

	(void)ctx;
	*pa = gpa_of(p);
	return p;
}

static u64 *npt_table(void *ctx, u64 pa)
{
	(void)ctx;
	return (u64 *)(uintptr_t)pa;
}

static const struct svm_npt_mem npt_mem = { npt_alloc, npt_table, NULL };

static unsigned int npt_idx(u64 gpa, int level)
{
	return (unsigned int)(gpa >> (12 + 9 * (level - 1))) & 511;
}

/* The lowest reserved physical-address bit: MAXPHYADDR (CPUID 8000_0008h EAX[7:0]); 0 if none. */
static u64 npt_rsvd_bit(void)
{
	u32 c[4];

	cpuid(0x80000008, 0, c);
	return (c[0] & 0xff) < 52 ? 1ull << (c[0] & 0xff) : 0;
}

/* The next table below entry *e, made when missing (rights: all; the leaf decides). */
static u64 *npt_down(u64 *e)
{
	if (!(*e & PTE_P)) {
		u64 pa;
		npt_alloc(NULL, &pa);
		*e = pa | SVM_NPT_RWX;
	}
	return (u64 *)(uintptr_t)(*e & SVM_NPT_ADDR_MASK);
}

/* 15.16: drop L2's cached translations on the next VMRUN. */
static void npt_flush(struct l2_vcpu *vcpu)
{
	struct vmcb *v = vcpu->vendor;

	v->control.tlb_control = svm_caps.features & SVM_CPUID_EDX_FLUSH_BY_ASID ?
				 SVM_TLB_CONTROL_FLUSH_ASID : SVM_TLB_CONTROL_FLUSH_ALL;
}

const char *svm_npt_set(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, u32 flags)
{
	u64 *pml4 = (u64 *)(uintptr_t)vcpu->ncr3, *pdpt, *pd, *e;
	u64 leaf = PTE_U;
	u32 c[4];

	GUEST_ASSERT(vcpu->ncr3, "npt_set(GPA 0x%lx) on an L2 without nested paging", gpa);
	if (flags & L2_NPT_R)
		leaf |= PTE_P;
	if (flags & L2_NPT_W)
		leaf |= PTE_W;
	if (!(flags & L2_NPT_X))
		leaf |= NPT_NX;
	if (flags & L2_NPT_RSVD) {
		u64 bit = npt_rsvd_bit();
		if (!bit)
			return "MAXPHYADDR is 52: no reserved address bit to set";
		leaf |= bit;
	}
	pdpt = npt_down(&pml4[npt_idx(gpa, 4)]);
	if (flags & L2_NPT_1G) {
		/* 15.25.5 with 1 GiB pages: CPUID 8000_0001h EDX[26] Page1GB. */
		cpuid(CPUID_LEAF_EXT_FEATURES, 0, c);
		if (!(c[3] & (1u << 26)))
			return "CPUID.80000001H:EDX.Page1GB[26]=0: no 1 GiB pages";
		pdpt[npt_idx(gpa, 3)] = (hpa & NPT_1G_MASK) | PTE_PS | leaf;
		if (!(flags & L2_NPT_NOFLUSH))
			npt_flush(vcpu);
		return NULL;
	}
	if ((pdpt[npt_idx(gpa, 3)] & (PTE_P | PTE_PS)) == (PTE_P | PTE_PS))
		return "npt_set below a 1 GiB leaf: not split by this code";
	pd = npt_down(&pdpt[npt_idx(gpa, 3)]);
	if (flags & L2_NPT_2M) {
		pd[npt_idx(gpa, 2)] = (hpa & NPT_2M_MASK) | PTE_PS | leaf;
		if (!(flags & L2_NPT_NOFLUSH))
			npt_flush(vcpu);
		return NULL;
	}
	/* svm_npt_map splits a 2 MiB page and makes the tables; the leaf is set here. */
	svm_npt_map(&npt_mem, vcpu->ncr3, gpa, hpa, true, true);
	e = &((u64 *)(uintptr_t)(pd[npt_idx(gpa, 2)] & SVM_NPT_ADDR_MASK))[npt_idx(gpa, 1)];
	*e = (hpa & SVM_NPT_ADDR_MASK) | leaf;
	/* svm_npt_map asked for a flush already: NOFLUSH takes that back. */
	if (flags & L2_NPT_NOFLUSH)
		((struct vmcb *)vcpu->vendor)->control.tlb_control = SVM_TLB_CONTROL_DO_NOTHING;
	else
		npt_flush(vcpu);
	TRACE("NPT: GPA 0x%lx -> 0x%lx entry 0x%lx (flags 0x%x)", gpa, hpa, *e, flags);
	return NULL;
}

/* The leaf entry that maps gpa, at whatever level; NULL if a level is not present. */
static u64 *npt_leaf(struct l2_vcpu *vcpu, u64 gpa)
{
	u64 *t = (u64 *)(uintptr_t)vcpu->ncr3;

	for (int l = 4; l >= 1; l--) {
		u64 *e = &t[npt_idx(gpa, l)];
		if (!(*e & PTE_P) || l == 1 || (l <= 3 && (*e & PTE_PS)))
			return *e & PTE_P ? e : NULL;
		t = (u64 *)(uintptr_t)(*e & SVM_NPT_ADDR_MASK);
	}
	return NULL;
}

u32 svm_npt_ad(struct l2_vcpu *vcpu, u64 gpa, bool clear)
{
	u64 *e = npt_leaf(vcpu, gpa);
	u32 ad;

	if (!e)
		return 0;
	ad = (*e & NPT_A ? L2_NPT_ACCESSED : 0) | (*e & NPT_D ? L2_NPT_DIRTY : 0);
	if (clear) {
		*e &= ~(NPT_A | NPT_D);
		npt_flush(vcpu);
	}
	return ad;
}

/*
 * 15.16 "TLB Control": TLB_CONTROL 3 flushes this guest's ASID (with
 * FlushByAsid), 1 every ASID; a new ASID makes the old entries unused
 * without any flush (15.16.1).
 */
const char *svm_tlb_flush(struct l2_vcpu *vcpu, u32 how)
{
	struct vmcb *v = vcpu->vendor;

	if (how == L2_TLB_CONTEXT) {
		npt_flush(vcpu);
	} else if (how == L2_TLB_ALL) {
		v->control.tlb_control = SVM_TLB_CONTROL_FLUSH_ALL;
	} else if (how == L2_TLB_NEW_TAG) {
		if (svm_caps.nasid < 3)
			return "CPUID.8000000AH:EBX: fewer than 3 ASIDs, no second one for L2";
		v->control.guest_asid = v->control.guest_asid + 1 < svm_caps.nasid ?
					v->control.guest_asid + 1 : 1;
		v->control.tlb_control = SVM_TLB_CONTROL_DO_NOTHING;
	} else {
		return "unknown flush kind";
	}
	TRACE("L1 flush kind %u: ASID %u TLB_CONTROL %u", how, v->control.guest_asid,
	      v->control.tlb_control);
	return NULL;
}

/* 15.25.6: EXITINFO1 is a #PF error code (P, RW, US, RSVD, ID) plus bits 32/33. */
void svm_npf_decode(struct l2_exit *x, u64 info1)
{
	x->npfx.user = info1 & SVM_NPF_US;
	x->npfx.rsvd = info1 & (1ull << 3);
	x->npfx.read = !(info1 & (SVM_NPF_RW | SVM_NPF_ID));
	x->npfx.final = info1 & SVM_NPF_GUEST_FINAL;
	x->npfx.walk = info1 & SVM_NPF_GUEST_TABLES;
}
