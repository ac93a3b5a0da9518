// SPDX-License-Identifier: MIT
/*
 * The VMCS for one L2 as a pure (field, value) image, and the small
 * encodings around it: EPT entries, the EPT-violation qualification, the
 * VM-entry interruption information, which exits report an instruction
 * length, and what the capability MSRs offer (Intel SDM vol. 3C, 25
 * "Virtual machine control structures", 28 "VM exits", 29.3 "EPT").
 * Plain C: L1 VMWRITEs the image, tests/unit/test_vmx.c checks it.
 */
#include <stddef.h>
#include <string.h>

#include "nestvmm/features.h"
#include "nestvmm/vmx.h"

#define DESC_S          (1ull << 44)    /* code/data (1) or system (0) descriptor */
#define DESC_G          (1ull << 55)    /* 4 KiB limit granularity */
#define DR7_INIT        0x400ull        /* DR7 after reset */

struct vmx_seg vmx_seg_from_gdt(const uint64_t *gdt, uint16_t gdt_limit, uint16_t sel)
{
	struct vmx_seg s = { .selector = sel, .ar = VMX_AR_UNUSABLE };
	unsigned int idx = sel >> 3;
	uint64_t d;

	/* 25.4.1: a null selector or one L2 cannot load is an unusable segment. */
	if (!idx || (sel & 4) || idx * 8 + 7 > gdt_limit)
		return s;
	d = gdt[idx];
	/* Access byte (descriptor 47:40) in AR 7:0, AVL/L/DB/G (55:52) in AR 15:12. */
	s.ar = (uint32_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
	s.limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000));
	if (d & DESC_G)
		s.limit = (s.limit << 12) | 0xfff;
	s.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
	if (d & DESC_S)
		s.ar |= 1;   /* accessed: loading the segment would set it (26.3.1.2 wants it) */
	else if (idx * 8 + 15 <= gdt_limit)
		s.base |= (gdt[idx + 1] & 0xffffffffull) << 32;   /* 16-byte system descriptor */
	return s;
}

static void put(struct vmcs_image *img, uint32_t field, uint64_t value)
{
	if (img->n < VMCS_IMAGE_MAX) {
		img->f[img->n].field = field;
		img->f[img->n].value = value;
	}
	img->n++;   /* beyond VMCS_IMAGE_MAX: vmx_vmcs_image reports the overflow */
}

/* One guest segment: the ES..TR groups share one layout (B.1-B.4), index by selector field. */
static void put_guest_seg(struct vmcs_image *img, uint32_t sel_field, struct vmx_seg s)
{
	uint32_t idx = sel_field - GUEST_ES_SELECTOR;

	put(img, sel_field, s.selector);
	put(img, GUEST_ES_BASE + idx, s.base);
	put(img, GUEST_ES_LIMIT + idx, s.limit);
	put(img, GUEST_ES_AR_BYTES + idx, s.ar);
}

bool vmx_vmcs_image(const struct vmx_l2_setup *s, struct vmcs_image *img)
{
	uint32_t wants = (s->nested_paging ? VMX_L2_WANT_EPT : 0) |
			 (s->io_passthrough ? 0 : VMX_L2_WANT_IO_EXITING);
	const uint32_t *ctl = img->ctl;
	struct vmx_seg seg;

	memset(img, 0, sizeof(*img));
	img->bad = VMX_CTL_COUNT;

	/* 25.6-25.8: the controls, from the capability MSRs. */
	if (!vmx_l2_controls(s->cap, wants, img->ctl, &img->bad, &img->refused))
		return false;
	for (int i = 0; i < VMX_CTL_COUNT; i++)
		if (i != VMX_CTL_PROC2 || (ctl[VMX_CTL_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
			put(img, vmx_ctl_field((enum vmx_ctl)i), ctl[i]);

	/* 25.6.3: the test's exceptions exit, the others go to L2's IDT (#PF: every error code). */
	put(img, EXCEPTION_BITMAP, s->intercept_exceptions);
	put(img, PAGE_FAULT_ERROR_CODE_MASK, 0);
	put(img, PAGE_FAULT_ERROR_CODE_MATCH, 0);
	/* 25.6.6-25.6.7: L2 owns CR0/CR4 (no mask bits) and CR3 (no targets, no exiting). */
	put(img, CR3_TARGET_COUNT, 0);
	put(img, CR0_GUEST_HOST_MASK, 0);
	put(img, CR4_GUEST_HOST_MASK, 0);
	put(img, CR0_READ_SHADOW, 0);
	put(img, CR4_READ_SHADOW, 0);
	put(img, TSC_OFFSET, 0);
	/* 25.7.2, 25.8.2: no MSR lists; 25.8.3: no event to inject yet. */
	put(img, VM_EXIT_MSR_STORE_COUNT, 0);
	put(img, VM_EXIT_MSR_LOAD_COUNT, 0);
	put(img, VM_ENTRY_MSR_LOAD_COUNT, 0);
	put(img, VM_ENTRY_INTR_INFO_FIELD, 0);
	/* 25.6.11: the EPTP exists only with "enable EPT". */
	if (s->nested_paging)
		put(img, EPT_POINTER, s->eptp);

	/* 25.5 / 27.5: host state is L1 as it runs now, so that L1 continues after an exit. */
	put(img, HOST_CR0, s->cr0);
	put(img, HOST_CR3, s->cr3);
	put(img, HOST_CR4, s->cr4);
	put(img, HOST_CS_SELECTOR, s->cs);
	put(img, HOST_SS_SELECTOR, s->ds);
	put(img, HOST_DS_SELECTOR, s->ds);
	put(img, HOST_ES_SELECTOR, s->ds);
	put(img, HOST_FS_SELECTOR, s->ds);
	put(img, HOST_GS_SELECTOR, s->ds);
	put(img, HOST_TR_SELECTOR, s->tr);
	put(img, HOST_FS_BASE, s->fs_base);
	put(img, HOST_GS_BASE, s->gs_base);
	put(img, HOST_TR_BASE, vmx_seg_from_gdt(s->gdt, s->gdtr_limit, s->tr).base);
	put(img, HOST_GDTR_BASE, s->gdtr_base);
	put(img, HOST_IDTR_BASE, s->idtr_base);
	put(img, HOST_IA32_SYSENTER_CS, 0);
	put(img, HOST_IA32_SYSENTER_ESP, 0);
	put(img, HOST_IA32_SYSENTER_EIP, 0);
	if (ctl[VMX_CTL_EXIT] & VM_EXIT_LOAD_IA32_EFER)
		put(img, HOST_IA32_EFER, s->efer);
	put(img, HOST_RIP, s->host_rip);

	/*
	 * 25.4 / 26.3.1: L2 in 64-bit mode on L1's GDT (its descriptors, as
	 * loading the selectors would give them) and page tables, CR0/CR4 with
	 * the bits VMX operation fixes, its own IDT and stack, interrupts off.
	 */
	put(img, GUEST_CR0, vmx_cr_fixed(s->cr0, s->cr0_fixed0, s->cr0_fixed1));
	put(img, GUEST_CR3, s->cr3);
	put(img, GUEST_CR4, vmx_cr_fixed(s->cr4, s->cr4_fixed0, s->cr4_fixed1));
	put(img, GUEST_DR7, DR7_INIT);
	put(img, GUEST_IA32_DEBUGCTL, 0);
	if (ctl[VMX_CTL_ENTRY] & VM_ENTRY_LOAD_IA32_EFER)
		put(img, GUEST_IA32_EFER, s->efer);
	put_guest_seg(img, GUEST_CS_SELECTOR, vmx_seg_from_gdt(s->gdt, s->gdtr_limit, s->cs));
	seg = vmx_seg_from_gdt(s->gdt, s->gdtr_limit, s->ds);
	put_guest_seg(img, GUEST_SS_SELECTOR, seg);
	put_guest_seg(img, GUEST_DS_SELECTOR, seg);
	put_guest_seg(img, GUEST_ES_SELECTOR, seg);
	/* FS/GS: L1's bases (the stack protector reads FS:0x28 in L2 as in L1). */
	seg.base = s->fs_base;
	put_guest_seg(img, GUEST_FS_SELECTOR, seg);
	seg.base = s->gs_base;
	put_guest_seg(img, GUEST_GS_SELECTOR, seg);
	put_guest_seg(img, GUEST_LDTR_SELECTOR, vmx_seg_from_gdt(s->gdt, s->gdtr_limit, 0));
	put_guest_seg(img, GUEST_TR_SELECTOR, vmx_seg_from_gdt(s->gdt, s->gdtr_limit, s->tr));
	put(img, GUEST_GDTR_BASE, s->gdtr_base);
	put(img, GUEST_GDTR_LIMIT, s->gdtr_limit);
	put(img, GUEST_IDTR_BASE, s->l2_idtr_base);
	put(img, GUEST_IDTR_LIMIT, s->l2_idtr_limit);
	put(img, GUEST_SYSENTER_CS, 0);
	put(img, GUEST_SYSENTER_ESP, 0);
	put(img, GUEST_SYSENTER_EIP, 0);
	put(img, GUEST_RSP, s->rsp);
	put(img, GUEST_RIP, s->rip);
	put(img, GUEST_RFLAGS, s->rflags);
	put(img, GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	put(img, GUEST_INTERRUPTIBILITY_INFO, 0);
	put(img, GUEST_PENDING_DBG_EXCEPTIONS, 0);
	/* 25.4.2: no shadow VMCS behind this one. */
	put(img, VMCS_LINK_POINTER, VMCS_LINK_POINTER_NONE);
	return img->n <= VMCS_IMAGE_MAX;
}

bool vmcs_image_get(const struct vmcs_image *img, uint32_t field, uint64_t *value)
{
	for (unsigned int i = 0; i < img->n && i < VMCS_IMAGE_MAX; i++)
		if (img->f[i].field == field) {
			*value = img->f[i].value;
			return true;
		}
	return false;
}

/* 29.3.2, table 29-6: bits 2:0 permissions (0 = not present), 5:3 memory type. */
uint64_t vmx_ept_pte(uint64_t hpa, bool present, bool writable)
{
	if (!present)
		return 0;
	return (hpa & EPT_ADDR_MASK) | EPT_READ | EPT_EXEC | (writable ? EPT_WRITE : 0) |
	       EPT_MEMTYPE_WB;
}

/* Table 29-4 -> 29-6: a 2 MiB leaf's permissions, type, ignore-PAT and suppress-#VE per 4 KiB. */
void vmx_ept_split(uint64_t pde, uint64_t pt[512])
{
	uint64_t base = pde & EPT_ADDR_MASK & ~0x1fffffull;
	uint64_t attrs = pde & (EPT_RWX | (7ull << 3) | EPT_IGNORE_PAT | EPT_SUPPRESS_VE);

	for (unsigned int i = 0; i < 512; i++)
		pt[i] = (base + ((uint64_t)i << 12)) | attrs;
}

uint64_t vmx_eptp(uint64_t pml4_pa)
{
	return (pml4_pa & EPT_ADDR_MASK) | EPTP_MEMTYPE_WB | EPTP_PAGE_WALK_4;
}

/* Table 28-7: bits 5:3 are the permissions the walk found; all clear = not present. */
struct vmx_ept_access vmx_ept_violation_decode(uint64_t q)
{
	struct vmx_ept_access a = {
		.present = (q & (EPT_VIOLATION_READABLE | EPT_VIOLATION_WRITABLE |
				 EPT_VIOLATION_EXECUTABLE)) != 0,
		.write = (q & EPT_VIOLATION_WRITE) != 0,
		.fetch = (q & EPT_VIOLATION_FETCH) != 0,
	};
	return a;
}

uint32_t vmx_entry_intr_info(uint8_t vector, unsigned int type, bool deliver_error_code)
{
	return vector | ((type & 7u) << 8) | (deliver_error_code ? INTR_INFO_DELIVER_CODE : 0) |
	       INTR_INFO_VALID;
}

/*
 * 28.2.4: the field is valid for exits caused by executing an instruction
 * (and by software exceptions/interrupts); after hardware exceptions,
 * interrupts, triple faults, EPT violations and failed entries it is not.
 */
bool vmx_exit_has_insn_len(uint32_t reason, uint32_t exit_intr_info)
{
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE)
		return false;
	switch (VMX_EXIT_REASON_BASIC(reason)) {
	case EXIT_REASON_EXCEPTION_NMI: {
		unsigned int type = INTR_INFO_TYPE(exit_intr_info);
		return type == INTR_TYPE_SOFT_EXCEPTION || type == INTR_TYPE_PRIV_SOFT_EXCEPTION;
	}
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_TRIPLE_FAULT:
	case 3: case 4: case 5: case 6:                 /* INIT, SIPI, SMIs */
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
	case EXIT_REASON_INVALID_STATE:
	case EXIT_REASON_MSR_LOAD_FAIL:
	case 37:                                        /* monitor trap flag */
	case EXIT_REASON_MCE_DURING_VMENTRY:
	case 43:                                        /* TPR below threshold */
	case 44: case 45:                               /* APIC access, EOI induced */
	case EXIT_REASON_EPT_VIOLATION:
	case EXIT_REASON_EPT_MISCONFIG:
	case EXIT_REASON_PREEMPTION_TIMER:
	case 56:                                        /* APIC write */
	case 62:                                        /* page-modification log full */
		return false;
	default:
		return true;
	}
}

/* Features the L0 offers, as the capability MSRs say (A.3-A.6, A.10). */
uint32_t vmx_features(const uint64_t cap[VMX_CTL_COUNT], uint64_t ept_vpid_cap)
{
	bool secondary = vmx_ctl_allows(cap[VMX_CTL_PROC], CPU_BASED_ACTIVATE_SECONDARY_CONTROLS);
	uint64_t proc2 = secondary ? cap[VMX_CTL_PROC2] : 0;
	bool ept = !vmx_ept_unusable(cap[VMX_CTL_PROC], proc2, ept_vpid_cap);
	uint32_t f = 0;

	if (ept)
		f |= NVM_REQ(NESTED_PAGING);
	if (vmx_ctl_allows(proc2, SECONDARY_EXEC_ENABLE_VPID))
		f |= NVM_REQ(VPID);
	if (ept && (ept_vpid_cap & VMX_EPT_AD))
		f |= NVM_REQ(EPT_AD);
	/* 25.6.2: "unrestricted guest" requires "enable EPT". */
	if (ept && vmx_ctl_allows(proc2, SECONDARY_EXEC_UNRESTRICTED_GUEST))
		f |= NVM_REQ(UNRESTRICTED);
	if (vmx_ctl_allows(cap[VMX_CTL_PIN], PIN_BASED_VMX_PREEMPTION_TIMER))
		f |= NVM_REQ(PREEMPTION_TIMER);
	if (vmx_ctl_allows(proc2, SECONDARY_EXEC_SHADOW_VMCS))
		f |= NVM_REQ(VMCS_SHADOWING);
	/* 26.2.1.1: "virtual NMIs" requires "NMI exiting". */
	if (vmx_ctl_allows(cap[VMX_CTL_PIN], PIN_BASED_VIRTUAL_NMIS | PIN_BASED_NMI_EXITING))
		f |= NVM_REQ(VIRTUAL_NMI);
	if (vmx_ctl_allows(cap[VMX_CTL_PROC], CPU_BASED_MONITOR_TRAP_FLAG))
		f |= NVM_REQ(MTF);
	return f;
}
