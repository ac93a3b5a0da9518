// SPDX-License-Identifier: MIT
/*
 * The nested API (guest/nested.h) for Intel VMX (SDM vol. 3C, 25 "Virtual
 * machine control structures", 26 "VM entries", 28 "VM exits", 29.3 "EPT",
 * 31 "VMX instruction reference").
 *
 * vcpu_reset: a fresh VMCS from the arena, VMCLEAR + VMPTRLD, the image
 * arch/intel/common builds (vmx_vmcs_image) VMWRITTEN field by field, and
 * with nested paging an identity EPT of all RAM. enter: VMLAUNCH, then
 * VMRESUME, every exit read back into struct l2_exit. test_end: VMCLEAR.
 */
#include "l2.h"
#include "vmx_guest.h"
#include "vmx_intercept.h"
#include "vmx_event.h"
#include "nestvmm/vmx.h"

/* What the VMX side keeps per L2 (vcpu->vendor). */
struct vmx_vcpu {
	void *vmcs;
	u64 *ept_pml4, eptp;              /* 0 without nested paging */
	u64 rip, rsp, rflags;             /* as last written to / read from the VMCS */
	u32 ctl[VMX_CTL_COUNT];
	u32 last_insn_len;                /* of the last exit, for software-event injection */
	const char *flush_error;          /* an INVEPT after npt_map failed: enter reports it */
};

/*
 * The VMCS VMPTRLD made current, until test_end or the next reset VMCLEARs
 * it: its owner, and its address kept here, outside the arena, because a
 * test may release the arena (and zero struct vmx_vcpu) before test_end.
 */
static struct vmx_vcpu *vmx_current;
static void *vmx_current_vmcs;

#define TRACE_DEBUG(...) do { if (l1_cfg.trace >= NVM_TRACE_DEBUG) chan_log(NVM_TRACE_DEBUG, __VA_ARGS__); } while (0)
/* Narrate the first entries of an L2 at --trace; the rest (benchmarks) only at debug level (not a CLI option). */
#define NARRATED_ENTRIES 24

u32 vmx_nested_features(const struct vmx_caps *c)
{
	return vmx_features(c->ctl, c->ept_vpid_cap);
}

/* --- VMX instructions (31.2: CF = VMfailInvalid, ZF = VMfailValid) --------------- */

static inline enum vmx_result vmx_flags(u8 cf, u8 zf)
{
	return cf ? VMX_FAIL_INVALID : zf ? VMX_FAIL_VALID : VMX_OK;
}

static enum vmx_result vmread_raw(u32 field, u64 *val)
{
	u8 cf, zf;
	u64 v = 0;

	__asm__ volatile("vmread %[f], %[v]\n\tsetc %[cf]\n\tsetz %[zf]"
			 : [v] "+r"(v), [cf] "=qm"(cf), [zf] "=qm"(zf)
			 : [f] "r"((u64)field) : "cc");
	*val = v;
	return vmx_flags(cf, zf);
}

static u64 vmread(u32 field)
{
	u64 v;

	return vmread_raw(field, &v) == VMX_OK ? v : 0;
}

static enum vmx_result vmwrite_raw(u32 field, u64 val)
{
	u8 cf, zf;

	__asm__ volatile("vmwrite %[v], %[f]\n\tsetc %[cf]\n\tsetz %[zf]"
			 : [cf] "=qm"(cf), [zf] "=qm"(zf)
			 : [v] "r"(val), [f] "r"((u64)field) : "cc", "memory");
	return vmx_flags(cf, zf);
}

static struct vmx_outcome vmx_pointer_insn_safe(bool clear, u64 pa)
{
	u8 cf, zf;
	FAULT_REGS;

	if (clear)
		__asm__ volatile(ASM_SAFE("vmclear %[pa]") "setc %[cf]\n\tsetz %[zf]"
				 : FAULT_OUTPUTS, [cf] "=qm"(cf), [zf] "=qm"(zf)
				 : [pa] "m"(pa) : "cc", "memory");
	else
		__asm__ volatile(ASM_SAFE("vmptrld %[pa]") "setc %[cf]\n\tsetz %[zf]"
				 : FAULT_OUTPUTS, [cf] "=qm"(cf), [zf] "=qm"(zf)
				 : [pa] "m"(pa) : "cc", "memory");
	struct vmx_outcome o = { vmx_flags(cf, zf), FAULT_RESULT };
	if (o.fault.faulted)
		o.result = VMX_FAULT;
	return o;
}

/* 31.3 INVEPT: descriptor = EPTP, reserved quadword. */
static enum vmx_result invept(u64 type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	u8 cf, zf;

	__asm__ volatile("invept %[d], %[t]\n\tsetc %[cf]\n\tsetz %[zf]"
			 : [cf] "=qm"(cf), [zf] "=qm"(zf)
			 : [d] "m"(desc), [t] "r"(type) : "cc", "memory");
	return vmx_flags(cf, zf);
}

/* --- names for reports ------------------------------------------------------------- */

static const char *field_name(u32 f)
{
	const char *n = vmcs_field_name(f);
	return n ? n : "?";
}

static const char *insn_error_name(u64 err)
{
	const char *n = vmx_instruction_error_name((u32)err);
	return n ? n : "unknown VM-instruction error";
}

/* The VMCS fields that explain a failure, into the details. */
static void vmcs_dump(struct stage_result *r)
{
	static const u32 dump[] = {
		VM_INSTRUCTION_ERROR, VM_EXIT_REASON, EXIT_QUALIFICATION,
		VM_EXIT_INTR_INFO, VM_EXIT_INTR_ERROR_CODE, IDT_VECTORING_INFO_FIELD,
		VM_EXIT_INSTRUCTION_LEN, GUEST_PHYSICAL_ADDRESS, GUEST_LINEAR_ADDRESS,
		PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL,
		VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS, EXCEPTION_BITMAP, EPT_POINTER,
		VM_ENTRY_INTR_INFO_FIELD, GUEST_RIP, GUEST_RSP, GUEST_RFLAGS, GUEST_CR0,
		GUEST_CR3, GUEST_CR4, GUEST_IA32_EFER, GUEST_CS_SELECTOR, GUEST_CS_AR_BYTES,
		GUEST_SS_AR_BYTES, GUEST_TR_AR_BYTES, GUEST_IDTR_BASE, GUEST_ACTIVITY_STATE,
		GUEST_INTERRUPTIBILITY_INFO, HOST_RIP, HOST_RSP, HOST_CR0, HOST_CR3, HOST_CR4,
		HOST_TR_BASE,
	};
	char line[160];
	size_t len = 0;

	for (unsigned int i = 0; i < sizeof(dump) / sizeof(dump[0]); i++) {
		u64 v;
		if (vmread_raw(dump[i], &v) != VMX_OK)
			continue;
		int n = snprintf(line + len, sizeof(line) - len, "%s%s=0x%lx",
				 len ? " " : "", field_name(dump[i]), v);
		if (n < 0 || len + (size_t)n >= 120) {
			line[len] = '\0';
			stage_detail(r, "%s", line);
			len = 0;
			n = snprintf(line, sizeof(line), "%s=0x%lx", field_name(dump[i]), v);
		}
		len += (size_t)n;
	}
	if (len)
		stage_detail(r, "%s", line);
}

static void vmx_describe(struct l2_vcpu *vcpu, struct stage_result *r)
{
	struct vmx_vcpu *v = vcpu->vendor;

	if (!v || v != vmx_current) {
		stage_detail(r, "VMCS: none current (L2 not set up)");
		return;
	}
	stage_detail(r, "VMCS 0x%lx, %u entries; controls pin=0x%x proc=0x%x proc2=0x%x exit=0x%x "
		     "entry=0x%x", gpa_of(v->vmcs), vcpu->entries, v->ctl[VMX_CTL_PIN],
		     v->ctl[VMX_CTL_PROC], v->ctl[VMX_CTL_PROC2], v->ctl[VMX_CTL_EXIT],
		     v->ctl[VMX_CTL_ENTRY]);
	vmcs_dump(r);
}

/* --- the VMCS ------------------------------------------------------------------------- */

/* A VMCLEAR/VMPTRLD outcome as a stage failure, or NVM_PASS. */
static enum nvm_status pointer_insn_check(struct stage_result *r, const char *insn, u64 pa,
					  struct vmx_outcome o)
{
	TRACE("%s 0x%lx: %s", insn, pa, vmx_result_name(o.result));
	if (o.result == VMX_FAULT)
		return stage_fail(r, "%s on %s 0x%lx", exception_name(o.fault.vector), insn, pa);
	if (o.result != VMX_OK)
		return stage_fail(r, "%s 0x%lx failed (%s%s%s)", insn, pa, vmx_result_name(o.result),
				  o.result == VMX_FAIL_VALID ? ": " : "",
				  o.result == VMX_FAIL_VALID ?
				  insn_error_name(vmread(VM_INSTRUCTION_ERROR)) : "");
	return NVM_PASS;
}

/*
 * 25.11.3: VMCLEAR writes the current VMCS back to its memory and makes it
 * inactive, before that memory is reused (next reset, the runner's arena
 * release). The page is zeroed again afterwards: the write-back may come
 * after an arena release, and page_alloc promises zeroed pages.
 */
static enum nvm_status vmcs_retire(struct stage_result *r)
{
	void *vmcs = vmx_current_vmcs;
	struct vmx_outcome o;

	if (!vmcs)
		return NVM_PASS;
	vmx_current = NULL;
	vmx_current_vmcs = NULL;
	o = vmx_pointer_insn_safe(true, gpa_of(vmcs));
	memset(vmcs, 0, 4096);
	if (r)
		return pointer_insn_check(r, "VMCLEAR", gpa_of(vmcs), o);
	TRACE("VMCLEAR 0x%lx: %s", gpa_of(vmcs), vmx_result_name(o.result));
	return NVM_PASS;
}

/* 25.11.3: a fresh VMCS region holds the revision id; VMCLEAR, then VMPTRLD makes it current. */
static enum nvm_status vmcs_load(struct vmx_vcpu *v, struct stage_result *r)
{
	u64 pa;

	if (vmcs_retire(r) != NVM_PASS)
		return NVM_FAIL;
	v->vmcs = page_alloc(1);
	pa = gpa_of(v->vmcs);
	*(u32 *)v->vmcs = vmx_caps.revision;
	TRACE("VMCS at 0x%lx with revision 0x%x", pa, vmx_caps.revision);
	if (pointer_insn_check(r, "VMCLEAR", pa, vmx_pointer_insn_safe(true, pa)) != NVM_PASS ||
	    pointer_insn_check(r, "VMPTRLD", pa, vmx_pointer_insn_safe(false, pa)) != NVM_PASS)
		return NVM_FAIL;
	vmx_current = v;
	vmx_current_vmcs = v->vmcs;
	vmx_host_rsp = 0;   /* a new VMCS: vmx_enter must write HOST_RSP */
	return NVM_PASS;
}

/* "the CPU does not allow the secondary processor-based control(s) "enable EPT" (bit 1)". */
static enum nvm_status controls_refused(const struct vmcs_image *img, struct stage_result *r)
{
	char names[120];
	size_t len = 0;

	names[0] = '\0';
	for (unsigned int bit = 0; bit < 32; bit++) {
		if (!(img->refused & (1u << bit)))
			continue;
		const char *n = vmx_ctl_bit_name(img->bad, bit);
		int k = snprintf(names + len, sizeof(names) - len, "%s\"%s\" (bit %u)",
				 len ? ", " : "", n ? n : "?", bit);
		if (k > 0 && len + (size_t)k < sizeof(names))
			len += (size_t)k;
	}
	stage_detail(r, "capability MSR %xh=0x%lx", vmx_ctl_cap_msr(img->bad, vmx_caps.basic),
		     vmx_caps.ctl[img->bad]);
	return stage_fail(r, "the CPU does not allow the %s control(s) %s", vmx_ctl_name(img->bad),
			  names);
}

/* VMWRITE the image; the first failing field is named with its VM-instruction error. */
static enum nvm_status vmcs_write_image(const struct vmcs_image *img, struct stage_result *r)
{
	unsigned int bad = 0;
	u32 first = 0;
	u64 first_err = 0;
	enum vmx_result first_res = VMX_OK;

	for (unsigned int i = 0; i < img->n; i++) {
		enum vmx_result res = vmwrite_raw(img->f[i].field, img->f[i].value);
		TRACE("VMWRITE %s=0x%lx%s", field_name(img->f[i].field), img->f[i].value,
		      res == VMX_OK ? "" : " FAILED");
		if (res != VMX_OK && !bad++) {
			first = img->f[i].field;
			first_res = res;
			first_err = res == VMX_FAIL_VALID ? vmread(VM_INSTRUCTION_ERROR) : 0;
		}
	}
	if (bad)
		return stage_fail(r, "%u of %u VMWRITEs failed, first %s (0x%x): %s%s%s", bad, img->n,
				  field_name(first), first, vmx_result_name(first_res),
				  first_err ? ", " : "", first_err ? insn_error_name(first_err) : "");
	return NVM_PASS;
}

/* --- EPT (29.3) ---------------------------------------------------------------------- */

/* 31.3: flush what the CPU may cache for this EPTP; single-context where offered. */
static const char *ept_flush(u64 eptp)
{
	u64 type = vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT_SINGLE_CONTEXT ?
		   INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT;
	enum vmx_result res = invept(type, eptp);

	TRACE("INVEPT type %lu (%s-context), EPTP 0x%lx: %s", type,
	      type == INVEPT_SINGLE_CONTEXT ? "single" : "all", eptp, vmx_result_name(res));
	if (res == VMX_OK)
		return NULL;
	return res == VMX_FAIL_VALID ? insn_error_name(vmread(VM_INSTRUCTION_ERROR)) :
	       "INVEPT: VMfailInvalid";
}

/* The next-level table an EPT entry points to, made on demand (all of RAM's may be absent). */
static u64 *ept_table(u64 *entry)
{
	if (!(*entry & EPT_RWX)) {
		u64 *t = page_alloc(1);
		*entry = gpa_of(t) | EPT_RWX;
	}
	return (u64 *)(uintptr_t)(*entry & EPT_ADDR_MASK);
}

/* The page directory entry (2 MiB) for gpa, with the tables above it. */
static u64 *ept_pde(struct vmx_vcpu *v, u64 gpa)
{
	u64 *pdpt = ept_table(&v->ept_pml4[(gpa >> 39) & 511]);
	u64 *pd = ept_table(&pdpt[(gpa >> 30) & 511]);

	return &pd[(gpa >> 21) & 511];
}

/* An identity map of all RAM: 2 MiB leaves where the CPU offers them, else 4 KiB. */
static void ept_identity_map(struct vmx_vcpu *v)
{
	u64 mem = l1_mem_size();
	bool big = vmx_caps.ept_vpid_cap & VMX_EPT_2MB_PAGE;

	v->ept_pml4 = page_alloc(1);
	for (u64 pa = 0; pa < mem; pa += 2ull << 20) {
		u64 *pde = ept_pde(v, pa);
		if (big && pa + (2ull << 20) <= mem) {
			*pde = vmx_ept_pte(pa, true, true) | EPT_LARGE_PAGE;
			continue;
		}
		u64 *pt = ept_table(pde);
		for (u64 p = pa; p < mem && p < pa + (2ull << 20); p += 4096)
			pt[(p >> 12) & 511] = vmx_ept_pte(p, true, true);
	}
	v->eptp = vmx_eptp(gpa_of(v->ept_pml4));
	TRACE("EPT: identity map of 0x%lx bytes in %s pages, EPTP 0x%lx", mem,
	      big ? "2 MiB" : "4 KiB", v->eptp);
}

/* One 4 KiB GPA: split the 2 MiB leaf holding it if needed, set the entry, INVEPT. */
static void vmx_npt_map(struct l2_vcpu *vcpu, u64 gpa, u64 hpa, bool present, bool writable)
{
	struct vmx_vcpu *v = vcpu->vendor;
	u64 *pde, *pt;

	GUEST_ASSERT(v && v->ept_pml4, "npt_map(0x%lx) on an L2 without nested paging", gpa);
	pde = ept_pde(v, gpa);
	if (*pde & EPT_LARGE_PAGE) {
		pt = page_alloc(1);
		vmx_ept_split(*pde, pt);
		*pde = gpa_of(pt) | EPT_RWX;
		TRACE("EPT: split the 2 MiB page at GPA 0x%lx into 4 KiB pages", gpa & ~(u64)0x1fffff);
	}
	pt = ept_table(pde);
	pt[(gpa >> 12) & 511] = vmx_ept_pte(hpa, present, writable);
	TRACE("EPT: GPA 0x%lx -> %s", gpa & ~(u64)0xfff,
	      present ? (writable ? "read/write/execute" : "read/execute (no write)") : "not present");
	TRACE_DEBUG("EPT: entry 0x%lx, for HPA 0x%lx", pt[(gpa >> 12) & 511], hpa);
	/* 29.4.3: the CPU may cache the old entry for this EPTP until INVEPT. */
	const char *err = ept_flush(v->eptp);
	if (err && !v->flush_error)
		v->flush_error = err;   /* the first failure stays until enter reports it */
}

/* --- reset, enter, exits ---------------------------------------------------------------- */

static enum nvm_status vmx_vcpu_reset(struct l2_vcpu *vcpu, const struct l2_cfg *cfg,
				      struct stage_result *r)
{
	static struct vmcs_image img;   /* large; L1's stack stays small */
	struct vmx_l2_setup s = { 0 };
	struct vmx_vcpu *v;
	struct dtr gdt, idt, l2_idt;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->cfg = *cfg;
	if (cfg->nested_paging && !(nested_features & NVM_REQ(NESTED_PAGING)))
		return stage_fail(r, "nested paging asked for, but the L0 offers no usable EPT: %s",
				  vmx_ept_unusable(vmx_caps.ctl[VMX_CTL_PROC], vmx_caps.ctl[VMX_CTL_PROC2],
						   vmx_caps.ept_vpid_cap));
	v = page_alloc(1);
	vcpu->vendor = v;
	vcpu->stack = page_alloc(1);
	if (vmcs_load(v, r) != NVM_PASS)
		return NVM_FAIL;
	if (cfg->nested_paging) {
		ept_identity_map(v);
		/* 25.6.11: EPTP bit 6 turns on EPT accessed/dirty flags (l2.npt.ad-bits). */
		if (cfg->npt_ad && !(vmx_caps.ept_vpid_cap & VMX_EPT_AD))
			return stage_fail(r, "EPT A/D asked for, IA32_VMX_EPT_VPID_CAP[21]=0");
		if (cfg->npt_ad)
			v->eptp |= VMX_EPTP_AD_ENABLE;
		vcpu->ncr3 = v->eptp;
	}

	/* L1 as it runs now, and where L2 starts (guest/l2.h: l2_start(arg, entry)). */
	read_gdtr(&gdt);
	read_idtr(&idt);
	l2_idt_get(&l2_idt);
	s.cap = vmx_caps.ctl;
	s.cr0_fixed0 = vmx_caps.cr0_fixed0;
	s.cr0_fixed1 = vmx_caps.cr0_fixed1;
	s.cr4_fixed0 = vmx_caps.cr4_fixed0;
	s.cr4_fixed1 = vmx_caps.cr4_fixed1;
	s.nested_paging = cfg->nested_paging;
	s.io_passthrough = cfg->io_passthrough;
	s.intercept_exceptions = cfg->intercept_exceptions;
	s.eptp = v->eptp;
	s.cr0 = read_cr0();
	s.cr3 = read_cr3();
	s.cr4 = read_cr4();
	s.efer = rdmsr(MSR_EFER);
	s.fs_base = rdmsr(MSR_FS_BASE);
	s.gs_base = rdmsr(MSR_GS_BASE);
	s.gdt = (const u64 *)(uintptr_t)gdt.base;
	s.gdtr_base = gdt.base;
	s.gdtr_limit = gdt.limit;
	s.idtr_base = idt.base;
	s.cs = L1_SEL_CODE;
	s.ds = L1_SEL_DATA;
	s.tr = L1_SEL_TSS;
	s.host_rip = (u64)(uintptr_t)vmx_exit_host_rip;
	s.rip = (u64)(uintptr_t)l2_start;
	s.rsp = gpa_of(vcpu->stack) + 4096 - 8;
	s.rflags = RFLAGS_RESERVED_1;
	s.l2_idtr_base = l2_idt.base;
	s.l2_idtr_limit = l2_idt.limit;

	if (!vmx_vmcs_image(&s, &img)) {
		if (img.bad < VMX_CTL_COUNT)
			return controls_refused(&img, r);
		return stage_fail(r, "the VMCS image needs %u fields, more than %u", img.n,
				  VMCS_IMAGE_MAX);
	}
	memcpy(v->ctl, img.ctl, sizeof(v->ctl));
	if (vmcs_write_image(&img, r) != NVM_PASS || vmx_intercept_setup(vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	/* The intercepts may have changed the processor-based controls: describe() shows these. */
	v->ctl[VMX_CTL_PROC] = (u32)vmread(CPU_BASED_VM_EXEC_CONTROL);
	if (v->ctl[VMX_CTL_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)
		v->ctl[VMX_CTL_PROC2] = (u32)vmread(SECONDARY_VM_EXEC_CONTROL);
	/* 26.6.5 (l2.tsc.offset): L2's TSC = L1's + TSC offset, with "use TSC offsetting". */
	if (cfg->tsc_offset) {
		if (!vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC], CPU_BASED_USE_TSC_OFFSETTING))
			return stage_fail(r, "the CPU does not allow \"use TSC offsetting\"");
		v->ctl[VMX_CTL_PROC] |= CPU_BASED_USE_TSC_OFFSETTING;
		if (vmwrite_raw(CPU_BASED_VM_EXEC_CONTROL, v->ctl[VMX_CTL_PROC]) != VMX_OK ||
		    vmwrite_raw(TSC_OFFSET, cfg->tsc_offset) != VMX_OK)
			return stage_fail(r, "VMWRITE of the TSC offset failed: %s",
					  insn_error_name(vmread(VM_INSTRUCTION_ERROR)));
	}
	/* The EPTP may be one an earlier test used with other tables: drop what is cached. */
	if (cfg->nested_paging) {
		const char *err = ept_flush(v->eptp);
		if (err)
			return stage_fail(r, "INVEPT of the new EPTP 0x%lx failed: %s", v->eptp, err);
	}

	l2_use_vmmcall = 0;
	vcpu->rip = v->rip = s.rip;
	vcpu->gpr[L2_RSP] = v->rsp = s.rsp;
	vcpu->rflags = v->rflags = s.rflags;
	vcpu->gpr[L2_RDI] = cfg->arg;
	vcpu->gpr[L2_RSI] = (u64)(uintptr_t)cfg->entry;
	TRACE("L2 set up: VMCS 0x%lx (%u fields), RIP 0x%lx, RSP 0x%lx, IDT 0x%lx, %s, I/O %s, "
	      "exception bitmap 0x%x", gpa_of(v->vmcs), img.n, s.rip, s.rsp, s.l2_idtr_base,
	      cfg->nested_paging ? "EPT" : "L1's page tables",
	      cfg->io_passthrough ? "passed through" : "exits", cfg->intercept_exceptions);
	return NVM_PASS;
}

/* Exit qualification of a failed VM entry (28.8 / 28.2.1). */
static const char *entry_failure_qual(u64 q)
{
	switch (q) {
	case 2: return ", qualification 2: loading a PDPTE failed";
	case 3: return ", qualification 3: NMI injection with blocking by NMI";
	case 4: return ", qualification 4: invalid VMCS link pointer";
	default: return "";
	}
}

/* The exit the VMCS describes, as struct l2_exit (vcpu's RIP, RSP, RFLAGS already read). */
static void exit_decode(struct l2_vcpu *vcpu, u32 reason, struct l2_exit *x)
{
	u32 basic = VMX_EXIT_REASON_BASIC(reason);
	u32 intr_info = 0;

	x->raw = reason;
	x->rip = vcpu->rip;
	switch (basic) {
	case EXIT_REASON_VMCALL:
		x->kind = L2_EXIT_HYPERCALL;    /* nested_enter reads the call from the GPRs */
		break;
	case EXIT_REASON_EXCEPTION_NMI:
		/* 25.9.2: vector, type, error code valid; an NMI is an interrupt, not an exception. */
		intr_info = (u32)vmread(VM_EXIT_INTR_INFO);
		x->info1 = vmread(EXIT_QUALIFICATION);
		x->info2 = intr_info;
		if (INTR_INFO_TYPE(intr_info) == INTR_TYPE_NMI) {
			x->kind = L2_EXIT_INTR;
			break;
		}
		x->kind = L2_EXIT_EXCEPTION;
		x->vector = (u8)INTR_INFO_VECTOR(intr_info);
		x->has_error_code = intr_info & INTR_INFO_DELIVER_CODE;
		if (x->has_error_code)
			x->error_code = (u32)vmread(VM_EXIT_INTR_ERROR_CODE);
		break;
	case EXIT_REASON_EPT_VIOLATION: {
		struct vmx_ept_access a;
		x->kind = L2_EXIT_NPF;
		x->info1 = vmread(EXIT_QUALIFICATION);
		x->gpa = vmread(GUEST_PHYSICAL_ADDRESS);
		a = vmx_ept_violation_decode(x->info1);
		x->npf.present = a.present;
		x->npf.write = a.write;
		x->npf.fetch = a.fetch;
		vmx_ept_exit_decode(x, x->info1, vmread(GUEST_LINEAR_ADDRESS));
		break;
	}
	case EXIT_REASON_EPT_MISCONFIG:
		x->kind = L2_EXIT_OTHER;
		x->gpa = vmread(GUEST_PHYSICAL_ADDRESS);
		x->npfx.misconfig = true;
		break;
	case EXIT_REASON_IO_INSTRUCTION:
		x->kind = L2_EXIT_IO;
		x->info1 = vmread(EXIT_QUALIFICATION);
		break;
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		x->kind = L2_EXIT_MSR;
		x->info1 = basic == EXIT_REASON_MSR_WRITE;   /* as AMD's EXITINFO1: 1 = WRMSR */
		break;
	case EXIT_REASON_CPUID:
		x->kind = L2_EXIT_CPUID;
		break;
	case EXIT_REASON_HLT:
		x->kind = L2_EXIT_HLT;
		break;
	case EXIT_REASON_EXTERNAL_INTERRUPT:
	case EXIT_REASON_INTERRUPT_WINDOW:
	case EXIT_REASON_NMI_WINDOW:
		x->kind = L2_EXIT_INTR;
		break;
	case EXIT_REASON_TRIPLE_FAULT:
		x->kind = L2_EXIT_SHUTDOWN;
		break;
	default:
		x->kind = L2_EXIT_OTHER;
		x->info1 = vmread(EXIT_QUALIFICATION);
		break;
	}
	vmx_intercept_decode(vcpu, basic, x);
	if (vmx_exit_has_insn_len(reason, intr_info))
		x->insn_len = (u32)vmread(VM_EXIT_INSTRUCTION_LEN);
}

static enum nvm_status vmx_vcpu_enter(struct l2_vcpu *vcpu, struct l2_exit *x, struct stage_result *r)
{
	struct vmx_vcpu *v = vcpu->vendor;
	bool launched = vcpu->entries > 0;
	const char *insn = launched ? "VMRESUME" : "VMLAUNCH";
	bool narrate = vcpu->entries < NARRATED_ENTRIES || l1_cfg.trace >= NVM_TRACE_DEBUG;
	enum vmx_result res;
	u32 reason;

	memset(x, 0, sizeof(*x));
	if (!v || v != vmx_current)
		return stage_fail(r, "%s without a current VMCS: vcpu_reset failed or another L2 "
				  "was reset since", insn);
	if (v->flush_error)
		return stage_fail(r, "INVEPT after changing the EPT failed: %s", v->flush_error);

	/* L1 may have moved RIP (skip_insn) or changed RSP/RFLAGS: only those are VMWRITTEN. */
	if (vcpu->rip != v->rip && vmwrite_raw(GUEST_RIP, vcpu->rip) == VMX_OK)
		v->rip = vcpu->rip;
	if (vcpu->gpr[L2_RSP] != v->rsp && vmwrite_raw(GUEST_RSP, vcpu->gpr[L2_RSP]) == VMX_OK)
		v->rsp = vcpu->gpr[L2_RSP];
	if (vcpu->rflags != v->rflags && vmwrite_raw(GUEST_RFLAGS, vcpu->rflags) == VMX_OK)
		v->rflags = vcpu->rflags;
	if (v->rip != vcpu->rip || v->rsp != vcpu->gpr[L2_RSP] || v->rflags != vcpu->rflags)
		return stage_fail(r, "VMWRITE of L2's RIP/RSP/RFLAGS failed: %s",
				  insn_error_name(vmread(VM_INSTRUCTION_ERROR)));

	if (narrate)
		TRACE("%s L2 at RIP 0x%lx (RAX=0x%lx)", insn, vcpu->rip, vcpu->gpr[L2_RAX]);
	if (vcpu->entries == NARRATED_ENTRIES && l1_cfg.trace < NVM_TRACE_DEBUG)
		TRACE("(entries after the %uth of this L2 are not narrated)", NARRATED_ENTRIES);
	res = vmx_enter(vcpu->gpr, launched);

	if (res == VMX_FAIL_INVALID)
		return stage_fail(r, "%s failed: VMfailInvalid (no current VMCS)", insn);
	if (res == VMX_FAIL_VALID) {
		/* 31.4: the VM-instruction error says what the checks of 26.2/26.3.1 refused. */
		u64 err = vmread(VM_INSTRUCTION_ERROR);
		x->kind = L2_EXIT_INVALID;
		x->raw = err;
		x->rip = vcpu->rip;
		snprintf(x->why, sizeof(x->why), "%s: VMfailValid, VM-instruction error %lu (%s)",
			 insn, err, insn_error_name(err));
		TRACE("%s", x->why);
		return NVM_PASS;
	}

	reason = (u32)vmread(VM_EXIT_REASON);
	if (reason & VMX_EXIT_REASON_ENTRY_FAILURE) {
		/* 28.8: the guest state failed its checks or loading it did; L2 never ran. */
		char name[80];
		x->kind = L2_EXIT_INVALID;
		x->raw = reason;
		x->rip = vcpu->rip;
		x->info1 = vmread(EXIT_QUALIFICATION);
		snprintf(x->why, sizeof(x->why), "%s: %s%s", insn,
			 vmx_exit_reason_describe(reason, name, sizeof(name)),
			 entry_failure_qual(x->info1));
		TRACE("%s", x->why);
		return NVM_PASS;
	}

	/* 27.3: VM exit saved L2's RIP, RSP and RFLAGS in the VMCS; the GPRs are in gpr[]. */
	vcpu->entries++;
	vcpu->rip = v->rip = vmread(GUEST_RIP);
	vcpu->gpr[L2_RSP] = v->rsp = vmread(GUEST_RSP);
	vcpu->rflags = v->rflags = vmread(GUEST_RFLAGS);
	exit_decode(vcpu, reason, x);
	vmx_event_decode(reason, x);   /* IDT vectoring, interrupt kinds (vmx_event.c) */
	v->last_insn_len = x->insn_len;
	if (narrate) {
		char name[80];
		TRACE("VM exit: %s at RIP 0x%lx, length %u, qualification 0x%lx, RAX=0x%lx",
		      vmx_exit_reason_describe(reason, name, sizeof(name)), x->rip, x->insn_len,
		      x->info1, vcpu->gpr[L2_RAX]);
	}
	return NVM_PASS;
}

/* Past the exiting instruction: the VM-exit instruction length (VMCALL is 3 bytes). */
static void vmx_skip_insn(struct l2_vcpu *vcpu, const struct l2_exit *x)
{
	u32 len = x->insn_len;

	if (!len && x->kind == L2_EXIT_HYPERCALL)
		len = 3;
	vcpu->rip += len;
	if (vcpu->entries < NARRATED_ENTRIES)
		TRACE("GUEST_RIP advanced by %u to 0x%lx", len, vcpu->rip);
}

/*
 * 26.6: the VM-entry interruption-information field, delivered through
 * L2's IDT at the next entry. Software interrupts return past an
 * instruction: the last exit's length is taken (0 needs IA32_VMX_MISC[30]).
 */
static void vmx_inject(struct l2_vcpu *vcpu, u8 vector, enum l2_event type, bool has_error_code,
		       u32 error_code)
{
	static const unsigned int types[] = {
		[L2_EVENT_EXTINT] = INTR_TYPE_EXT_INTR, [L2_EVENT_NMI] = INTR_TYPE_NMI,
		[L2_EVENT_EXCEPTION] = INTR_TYPE_HARD_EXCEPTION, [L2_EVENT_SOFTINT] = INTR_TYPE_SOFT_INTR,
	};
	struct vmx_vcpu *v = vcpu->vendor;
	u32 info = vmx_entry_intr_info(vector, types[type], has_error_code);

	vmwrite_raw(VM_ENTRY_INTR_INFO_FIELD, info);
	if (has_error_code)
		vmwrite_raw(VM_ENTRY_EXCEPTION_ERROR_CODE, error_code);
	if (type == L2_EVENT_SOFTINT)
		vmwrite_raw(VM_ENTRY_INSTRUCTION_LEN, v ? v->last_insn_len : 0);
	TRACE("inject vector %u: VM-entry interruption information 0x%x, error code 0x%x", vector,
	      info, error_code);
}

static void vmx_test_end(void)
{
	vmcs_retire(NULL);
}

const struct nested_ops nested_ops_vmx = {
	.virt = "VMX",
	.vcpu_reset = vmx_vcpu_reset,
	.enter = vmx_vcpu_enter,
	.skip_insn = vmx_skip_insn,
	.inject = vmx_inject,
	.describe = vmx_describe,
	.npt_map = vmx_npt_map,
	.test_end = vmx_test_end,
	.msr_intercept = vmx_msr_intercept,
	.io_intercept = vmx_io_intercept,
	/* vmx_event.c */
	.inject_sw = vmx_inject_sw,
	.reinject = vmx_reinject,
	.irq_window = vmx_irq_window,
	.nmi_window = vmx_nmi_window,
	.npt_set = vmx_npt_set,
	.npt_ad = vmx_npt_ad,
	.tlb_flush = vmx_tlb_flush,
	.state_save_all = vmx_state_save_all,     /* vmx_state.c */
	.state_get = vmx_state_get,
	.state_set = vmx_state_set,
};
