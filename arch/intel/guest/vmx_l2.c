// SPDX-License-Identifier: MIT
/*
 * Intel VMX, L1 side: build a VMCS, VMLAUNCH the L2 stub, handle its VM
 * exits, VMRESUME it for the measured round trips (Intel SDM vol. 3C,
 * 25 "Virtual machine control structures", 27 "VMX non-root operation",
 * 28 "VM entries", 29 "VM exits", 29.3 "EPT").
 *
 * The chain for one stage: vmcs_load -> controls_setup -> host_state_setup
 * -> guest_state_setup [-> ept_setup] -> VMLAUNCH -> first exit(s) ->
 * round trips -> vmcs_unload. Every value written to the VMCS is derived
 * from what L1 runs on now and what the capability MSRs allow.
 */
#include "vmx_guest.h"

/* --- VMX instructions ------------------------------------------------------ */

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

/* --- one stage's state -------------------------------------------------------- */

struct l2_run {
	struct stage_result *r;
	bool nested_paging;
	u32 ctl[VMX_CTL_COUNT];         /* control values written to the VMCS */
	void *vmcs;
	u64 *mailbox;                   /* L2 stores its token here */
	u8 *l2_stack;
	u64 *ept_pml4, eptp;
	u64 *hole_pte;                  /* EPT entry left not present (nested paging) */
	struct vmx_gprs regs;
	u32 write_errors, first_bad_field;
	u64 first_bad_error;
};

#define TRACE_DEBUG(...) do { if (l1_cfg.trace >= NVM_TRACE_DEBUG) chan_log(NVM_TRACE_DEBUG, __VA_ARGS__); } while (0)

static const char *field_name(u32 f)
{
	const char *n = vmcs_field_name(f);
	return n ? n : "?";
}

/*
 * VMWRITE with narration; a failure is remembered (with its VM-instruction
 * error) and reported once the setup chain is done.
 */
static void vmcs_write(struct l2_run *c, u32 field, u64 val)
{
	enum vmx_result res = vmwrite_raw(field, val);

	TRACE("VMWRITE %s=0x%lx%s", field_name(field), val, res == VMX_OK ? "" : " FAILED");
	if (res != VMX_OK && !c->write_errors++) {
		c->first_bad_field = field;
		c->first_bad_error = res == VMX_FAIL_VALID ? vmread(VM_INSTRUCTION_ERROR) : 0;
	}
}

static const char *insn_error_name(u64 err)
{
	const char *n = vmx_instruction_error_name((u32)err);
	return n ? n : "unknown VM-instruction error";
}

/* The VMCS fields that explain a failure, into the details. */
static void vmcs_dump(struct l2_run *c)
{
	static const u32 dump[] = {
		VM_INSTRUCTION_ERROR, VM_EXIT_REASON, EXIT_QUALIFICATION,
		VM_EXIT_INTR_INFO, VM_EXIT_INTR_ERROR_CODE, IDT_VECTORING_INFO_FIELD,
		VM_EXIT_INSTRUCTION_LEN, GUEST_PHYSICAL_ADDRESS, GUEST_LINEAR_ADDRESS,
		PIN_BASED_VM_EXEC_CONTROL, CPU_BASED_VM_EXEC_CONTROL, SECONDARY_VM_EXEC_CONTROL,
		VM_EXIT_CONTROLS, VM_ENTRY_CONTROLS, EXCEPTION_BITMAP, EPT_POINTER,
		GUEST_RIP, GUEST_RSP, GUEST_RFLAGS, GUEST_CR0, GUEST_CR3, GUEST_CR4,
		GUEST_IA32_EFER, GUEST_CS_SELECTOR, GUEST_CS_AR_BYTES, GUEST_SS_AR_BYTES,
		GUEST_TR_AR_BYTES, GUEST_ACTIVITY_STATE, GUEST_INTERRUPTIBILITY_INFO,
		HOST_RIP, HOST_RSP, HOST_CR0, HOST_CR3, HOST_CR4, HOST_TR_BASE,
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
			stage_detail(c->r, "%s", line);
			len = 0;
			n = snprintf(line, sizeof(line), "%s=0x%lx", field_name(dump[i]), v);
		}
		len += (size_t)n;
	}
	if (len)
		stage_detail(c->r, "%s", line);
}

/* --- the setup chain --------------------------------------------------------------- */

/* 25.11.3: a fresh VMCS region holds the revision id; VMCLEAR, then VMPTRLD makes it current. */
/* A VMCLEAR/VMPTRLD outcome as a stage failure, or NVM_PASS. */
static enum nvm_status pointer_insn_check(struct l2_run *c, const char *insn, struct vmx_outcome o)
{
	TRACE("%s 0x%lx: %s", insn, gpa_of(c->vmcs), vmx_result_name(o.result));
	if (o.result == VMX_FAULT)
		return stage_fail(c->r, "%s on %s", exception_name(o.fault.vector), insn);
	if (o.result != VMX_OK)
		return stage_fail(c->r, "%s failed (%s%s%s)", insn, vmx_result_name(o.result),
				  o.result == VMX_FAIL_VALID ? ": " : "",
				  o.result == VMX_FAIL_VALID ?
				  insn_error_name(vmread(VM_INSTRUCTION_ERROR)) : "");
	return NVM_PASS;
}

static enum nvm_status vmcs_load(struct l2_run *c)
{
	c->vmcs = page_alloc(1);
	*(u32 *)c->vmcs = vmx_caps.revision;
	TRACE("VMCS at 0x%lx with revision 0x%x", gpa_of(c->vmcs), vmx_caps.revision);
	if (pointer_insn_check(c, "VMCLEAR", vmx_pointer_insn_safe(true, gpa_of(c->vmcs))) != NVM_PASS ||
	    pointer_insn_check(c, "VMPTRLD", vmx_pointer_insn_safe(false, gpa_of(c->vmcs))) != NVM_PASS)
		return NVM_FAIL;
	vmx_host_rsp = 0;   /* a new VMCS: vmx_enter must write HOST_RSP */
	return NVM_PASS;
}

/*
 * 25.6-25.8: the controls L2 needs (vmx_l2_controls in arch/intel/common
 * says which), derived from the capability MSRs: the CPU's must-be-1 bits
 * kept, bits it refuses named.
 */
static enum nvm_status controls_setup(struct l2_run *c)
{
	enum vmx_ctl bad;
	u32 refused;

	if (!vmx_l2_controls(vmx_caps.ctl, c->nested_paging, c->ctl, &bad, &refused)) {
		char names[120];
		size_t len = 0;
		names[0] = '\0';
		for (unsigned int bit = 0; bit < 32; bit++) {
			if (!(refused & (1u << bit)))
				continue;
			const char *n = vmx_ctl_bit_name(bad, bit);
			int k = snprintf(names + len, sizeof(names) - len, "%s\"%s\" (bit %u)",
					 len ? ", " : "", n ? n : "?", bit);
			if (k > 0 && len + (size_t)k < sizeof(names))
				len += (size_t)k;
		}
		stage_detail(c->r, "capability MSR %xh=0x%lx", vmx_ctl_cap_msr(bad, vmx_caps.basic),
			     vmx_caps.ctl[bad]);
		return stage_fail(c->r, "the CPU does not allow the %s control(s) %s",
				  vmx_ctl_name(bad), names);
	}

	for (int i = 0; i < VMX_CTL_COUNT; i++)
		if (i != VMX_CTL_PROC2 || (c->ctl[VMX_CTL_PROC] & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
			vmcs_write(c, vmx_ctl_field(i), c->ctl[i]);
	/* Every exception in L2 exits to L1 (reported by vector), none is delivered in L2. */
	vmcs_write(c, EXCEPTION_BITMAP, 0xffffffffu);
	vmcs_write(c, PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(c, PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(c, CR3_TARGET_COUNT, 0);
	vmcs_write(c, CR0_GUEST_HOST_MASK, 0);
	vmcs_write(c, CR4_GUEST_HOST_MASK, 0);
	vmcs_write(c, CR0_READ_SHADOW, 0);
	vmcs_write(c, CR4_READ_SHADOW, 0);
	vmcs_write(c, TSC_OFFSET, 0);
	vmcs_write(c, VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(c, VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(c, VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(c, VM_ENTRY_INTR_INFO_FIELD, 0);
	return NVM_PASS;
}

/* Base of the 64-bit TSS descriptor TR selects (16 bytes in L1's GDT). */
static u64 tss_base(const struct dtr *gdt, u16 sel)
{
	const u64 *d = (const u64 *)(uintptr_t)(gdt->base + (sel & ~7u));

	return ((d[0] >> 16) & 0xffffff) | (((d[0] >> 56) & 0xff) << 24) | ((d[1] & 0xffffffff) << 32);
}

/*
 * 25.5 / 28.2.3: the state VM exit loads back into L1 — exactly what L1
 * runs on now, so that after a VM exit L1 simply continues.
 */
static enum nvm_status host_state_setup(struct l2_run *c)
{
	struct dtr gdt, idt;

	read_gdtr(&gdt);
	read_idtr(&idt);
	vmcs_write(c, HOST_CR0, read_cr0());
	vmcs_write(c, HOST_CR3, read_cr3());
	vmcs_write(c, HOST_CR4, read_cr4());
	vmcs_write(c, HOST_CS_SELECTOR, L1_SEL_CODE);
	vmcs_write(c, HOST_SS_SELECTOR, L1_SEL_DATA);
	vmcs_write(c, HOST_DS_SELECTOR, L1_SEL_DATA);
	vmcs_write(c, HOST_ES_SELECTOR, L1_SEL_DATA);
	vmcs_write(c, HOST_FS_SELECTOR, L1_SEL_DATA);
	vmcs_write(c, HOST_GS_SELECTOR, L1_SEL_DATA);
	vmcs_write(c, HOST_TR_SELECTOR, L1_SEL_TSS);
	/* FS base holds libfdt's stack-protector canary page: keep it. */
	vmcs_write(c, HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(c, HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(c, HOST_TR_BASE, tss_base(&gdt, L1_SEL_TSS));
	vmcs_write(c, HOST_GDTR_BASE, gdt.base);
	vmcs_write(c, HOST_IDTR_BASE, idt.base);
	vmcs_write(c, HOST_IA32_SYSENTER_CS, 0);
	vmcs_write(c, HOST_IA32_SYSENTER_ESP, 0);
	vmcs_write(c, HOST_IA32_SYSENTER_EIP, 0);
	if (c->ctl[VMX_CTL_EXIT] & VM_EXIT_LOAD_IA32_EFER)
		vmcs_write(c, HOST_IA32_EFER, rdmsr(MSR_EFER));
	vmcs_write(c, HOST_RIP, (u64)(uintptr_t)vmx_exit_host_rip);
	/* HOST_RSP is written by vmx_enter, from the stack it runs on. */
	return NVM_PASS;
}

/* One segment of L2 (25.4.1): selector, base, limit, access rights. */
static void guest_segment(struct l2_run *c, u32 sel_field, u16 sel, u64 base, u32 limit, u32 ar)
{
	/* The ES..TR fields are laid out in the same order in every group (B.1-B.4). */
	u32 idx = sel_field - GUEST_ES_SELECTOR;

	vmcs_write(c, sel_field, sel);
	vmcs_write(c, GUEST_ES_BASE + idx, base);
	vmcs_write(c, GUEST_ES_LIMIT + idx, limit);
	vmcs_write(c, GUEST_ES_AR_BYTES + idx, ar);
}

/*
 * 25.4 / 28.3.1: L2 runs in 64-bit mode on L1's GDT, IDT and page tables,
 * with its own stack, RFLAGS with interrupts off, no pending events and
 * no VMCS link (shadowing is not used).
 */
static enum nvm_status guest_state_setup(struct l2_run *c)
{
	struct dtr gdt, idt;
	const u32 code_ar = VMX_AR_TYPE(VMX_AR_TYPE_CODE_XRA) | VMX_AR_S | VMX_AR_P | VMX_AR_L | VMX_AR_G;
	const u32 data_ar = VMX_AR_TYPE(VMX_AR_TYPE_DATA_RWA) | VMX_AR_S | VMX_AR_P | VMX_AR_DB | VMX_AR_G;
	const u32 tss_ar = VMX_AR_TYPE(VMX_AR_TYPE_TSS64_BUSY) | VMX_AR_P;

	read_gdtr(&gdt);
	read_idtr(&idt);
	vmcs_write(c, GUEST_CR0, vmx_cr_fixed(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1));
	vmcs_write(c, GUEST_CR3, read_cr3());
	vmcs_write(c, GUEST_CR4, vmx_cr_fixed(read_cr4(), vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1));
	vmcs_write(c, GUEST_DR7, 0x400);
	vmcs_write(c, GUEST_IA32_DEBUGCTL, 0);
	if (c->ctl[VMX_CTL_ENTRY] & VM_ENTRY_LOAD_IA32_EFER)
		vmcs_write(c, GUEST_IA32_EFER, rdmsr(MSR_EFER));

	guest_segment(c, GUEST_CS_SELECTOR, L1_SEL_CODE, 0, 0xffffffff, code_ar);
	guest_segment(c, GUEST_SS_SELECTOR, L1_SEL_DATA, 0, 0xffffffff, data_ar);
	guest_segment(c, GUEST_DS_SELECTOR, L1_SEL_DATA, 0, 0xffffffff, data_ar);
	guest_segment(c, GUEST_ES_SELECTOR, L1_SEL_DATA, 0, 0xffffffff, data_ar);
	guest_segment(c, GUEST_FS_SELECTOR, L1_SEL_DATA, rdmsr(MSR_FS_BASE), 0xffffffff, data_ar);
	guest_segment(c, GUEST_GS_SELECTOR, L1_SEL_DATA, rdmsr(MSR_GS_BASE), 0xffffffff, data_ar);
	guest_segment(c, GUEST_LDTR_SELECTOR, 0, 0, 0, VMX_AR_UNUSABLE);
	guest_segment(c, GUEST_TR_SELECTOR, L1_SEL_TSS, tss_base(&gdt, L1_SEL_TSS), 0x67, tss_ar);
	vmcs_write(c, GUEST_GDTR_BASE, gdt.base);
	vmcs_write(c, GUEST_GDTR_LIMIT, gdt.limit);
	vmcs_write(c, GUEST_IDTR_BASE, idt.base);
	vmcs_write(c, GUEST_IDTR_LIMIT, idt.limit);
	vmcs_write(c, GUEST_SYSENTER_CS, 0);
	vmcs_write(c, GUEST_SYSENTER_ESP, 0);
	vmcs_write(c, GUEST_SYSENTER_EIP, 0);

	c->l2_stack = page_alloc(1);
	vmcs_write(c, GUEST_RSP, gpa_of(c->l2_stack) + 4096);
	vmcs_write(c, GUEST_RIP, (u64)(uintptr_t)l2_stub);
	vmcs_write(c, GUEST_RFLAGS, RFLAGS_RESERVED_1);
	vmcs_write(c, GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(c, GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(c, GUEST_PENDING_DBG_EXCEPTIONS, 0);
	vmcs_write(c, VMCS_LINK_POINTER, VMCS_LINK_POINTER_NONE);
	return NVM_PASS;
}

/*
 * 29.3.2: an identity map of guest RAM (2 MiB pages where the CPU offers
 * them), in write-back memory, with one hole: the page L2 stores its token
 * in, so that L2's first store takes an EPT violation.
 */
static enum nvm_status ept_setup(struct l2_run *c)
{
	u64 mem = l1_mem_size(), hole = gpa_of(c->mailbox);
	bool big = vmx_caps.ept_vpid_cap & VMX_EPT_2MB_PAGE;
	u64 *pdpt = page_alloc(1);

	c->ept_pml4 = page_alloc(1);
	c->ept_pml4[0] = gpa_of(pdpt) | EPT_RWX;
	for (u64 gb = 0; gb < mem; gb += 1ull << 30) {
		u64 *pd = page_alloc(1);
		pdpt[gb >> 30] = gpa_of(pd) | EPT_RWX;
		for (u64 mb2 = gb; mb2 < mem && mb2 < gb + (1ull << 30); mb2 += 2ull << 20) {
			u64 *pde = &pd[(mb2 >> 21) & 511];
			if (big && mb2 + (2ull << 20) <= mem && (hole >> 21) != (mb2 >> 21)) {
				*pde = mb2 | EPT_RWX | EPT_MEMTYPE_WB | EPT_LARGE_PAGE;
				continue;
			}
			u64 *pt = page_alloc(1);
			*pde = gpa_of(pt) | EPT_RWX;
			for (u64 pa = mb2; pa < mem && pa < mb2 + (2ull << 20); pa += 4096)
				if (pa != hole)
					pt[(pa >> 12) & 511] = pa | EPT_RWX | EPT_MEMTYPE_WB;
				else
					c->hole_pte = &pt[(pa >> 12) & 511];
		}
	}
	GUEST_ASSERT(c->hole_pte, "EPT hole 0x%lx not below RAM end 0x%lx", hole, mem);
	c->eptp = gpa_of(c->ept_pml4) | EPTP_MEMTYPE_WB | EPTP_PAGE_WALK_4;
	TRACE("EPT: identity map of 0x%lx bytes (%s pages), hole at GPA 0x%lx", mem,
	      big ? "2 MiB" : "4 KiB", hole);
	vmcs_write(c, EPT_POINTER, c->eptp);
	return NVM_PASS;
}

/* --- running L2 -------------------------------------------------------------------- */

static const char *exit_name(u32 reason, char *buf, unsigned int size)
{
	return vmx_exit_reason_describe(reason, buf, size);
}

/* VMLAUNCH/VMRESUME did not enter L2: say why, precisely. */
static enum nvm_status entry_failed(struct l2_run *c, const char *insn, enum vmx_result res)
{
	if (res == VMX_FAIL_VALID) {
		u64 err = vmread(VM_INSTRUCTION_ERROR);
		vmcs_dump(c);
		return stage_fail(c->r, "%s failed: VMfailValid, VM-instruction error %lu (%s)",
				  insn, err, insn_error_name(err));
	}
	return stage_fail(c->r, "%s failed: VMfailInvalid (no current VMCS)", insn);
}

/* A VM exit that is not the one expected: name it; entry failures (bit 31) decoded. */
static enum nvm_status unexpected_exit(struct l2_run *c, u32 reason, const char *expected)
{
	char name[80];

	vmcs_dump(c);
	if (VMX_EXIT_REASON_BASIC(reason) == EXIT_REASON_EXCEPTION_NMI) {
		u64 info = vmread(VM_EXIT_INTR_INFO);
		return stage_fail(c->r, "L2 took %s (vector %lu, error code 0x%lx) at RIP 0x%lx, "
				  "expected %s", exception_name((u8)(info & 0xff)), info & 0xff,
				  vmread(VM_EXIT_INTR_ERROR_CODE), vmread(GUEST_RIP), expected);
	}
	return stage_fail(c->r, "%s%s, expected %s",
			  reason & VMX_EXIT_REASON_ENTRY_FAILURE ? "" : "VM exit ",
			  exit_name(reason, name, sizeof(name)), expected);
}

/*
 * 28.3.3.2: L2's store to the hole must exit with EPT violation, a data
 * write to a not-present GPA, at exactly the mailbox address. L1 maps the
 * page and resumes without advancing RIP: the store runs again.
 */
static enum nvm_status ept_violation_handle(struct l2_run *c)
{
	u64 qual = vmread(EXIT_QUALIFICATION), gpa = vmread(GUEST_PHYSICAL_ADDRESS);
	u64 gla = vmread(GUEST_LINEAR_ADDRESS), rip = vmread(GUEST_RIP);
	u64 want = gpa_of(c->mailbox);

	TRACE("EPT violation: qualification 0x%lx, GPA 0x%lx, linear 0x%lx, RIP 0x%lx", qual, gpa, gla, rip);
	stage_detail(c->r, "EPT violation: qualification=0x%lx GPA=0x%lx linear=0x%lx RIP=0x%lx",
		     qual, gpa, gla, rip);
	if (gpa != want)
		return stage_fail(c->r, "EPT violation at GPA 0x%lx, expected the unmapped page 0x%lx", gpa, want);
	if (!(qual & EPT_VIOLATION_WRITE) ||
	    (qual & (EPT_VIOLATION_READABLE | EPT_VIOLATION_WRITABLE | EPT_VIOLATION_EXECUTABLE)))
		return stage_fail(c->r, "EPT violation qualification 0x%lx: expected a data write (bit 1) "
				  "to a not-present page (bits 5:3 clear)", qual);
	if ((qual & EPT_VIOLATION_GLA_VALID) && gla != want)
		return stage_fail(c->r, "EPT violation linear address 0x%lx, expected 0x%lx", gla, want);
	if (rip != (u64)(uintptr_t)l2_stub_store)
		return stage_fail(c->r, "EPT violation at RIP 0x%lx, expected L2's store at 0x%lx",
				  rip, (u64)(uintptr_t)l2_stub_store);
	if (*c->mailbox)
		return stage_fail(c->r, "the unmapped page was written: 0x%lx", *c->mailbox);

	/* Map the page; INVEPT drops any cached "not present" for this EPTP (31.3). */
	*c->hole_pte = want | EPT_RWX | EPT_MEMTYPE_WB;
	TRACE("EPT: mapped GPA 0x%lx", want);
	if (vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT) {
		u64 type = vmx_caps.ept_vpid_cap & VMX_EPT_INVEPT_SINGLE_CONTEXT ?
			   INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXT;
		enum vmx_result res = invept(type, c->eptp);
		TRACE("INVEPT type %lu: %s", type, vmx_result_name(res));
		if (res != VMX_OK)
			return stage_fail(c->r, "INVEPT type %lu failed (%s)", type, vmx_result_name(res));
	}
	return NVM_PASS;
}

/*
 * After each VMCALL exit: L2 ran (the token is in the mailbox, RAX holds
 * the stub's magic), the exit is VMCALL at the stub's VMCALL; skip it.
 */
static enum nvm_status vmcall_handle(struct l2_run *c, u64 token, bool narrate)
{
	u32 reason = (u32)vmread(VM_EXIT_REASON);
	u64 rip, len;

	if (reason != EXIT_REASON_VMCALL)
		return unexpected_exit(c, reason, "VMCALL (18)");
	rip = vmread(GUEST_RIP);
	len = vmread(VM_EXIT_INSTRUCTION_LEN);
	if (narrate)
		TRACE("VMCALL exit checked: RIP 0x%lx, length %lu; L2 stored 0x%lx, RAX=0x%lx",
		      rip, len, *c->mailbox, c->regs.rax);
	if (*c->mailbox != token)
		return stage_fail(c->r, "L2 exited with VMCALL but its store is missing: "
				  "mailbox 0x%lx, expected 0x%lx", *c->mailbox, token);
	if (c->regs.rax != L2_STUB_MAGIC)
		return stage_fail(c->r, "L2's RAX at VMCALL is 0x%lx, expected 0x%x: L2 registers "
				  "not saved/restored", c->regs.rax, L2_STUB_MAGIC);
	if (rip != (u64)(uintptr_t)l2_stub_vmcall || len != 3)
		return stage_fail(c->r, "VMCALL exit at RIP 0x%lx length %lu, expected 0x%lx length 3",
				  rip, len, (u64)(uintptr_t)l2_stub_vmcall);
	vmwrite_raw(GUEST_RIP, rip + len);
	if (narrate)
		TRACE("GUEST_RIP advanced to 0x%lx", rip + len);
	return NVM_PASS;
}

static u64 samples[1000];

/* VMLAUNCH, the EPT violation if any, the first VMCALL; then the measured round trips. */
static enum nvm_status l2_launch_and_run(struct l2_run *c, unsigned int iterations)
{
	enum vmx_result res;
	u32 reason;
	char name[80];
	u64 token = 0x4e564d0000000000ull;   /* "NVM" + round trip number */

	c->regs.rdi = gpa_of(c->mailbox);
	c->regs.rsi = token;
	TRACE("VMLAUNCH L2 at RIP 0x%lx", (u64)(uintptr_t)l2_stub);
	res = vmx_enter(&c->regs, 0);
	if (res != VMX_OK)
		return entry_failed(c, "VMLAUNCH", res);
	reason = (u32)vmread(VM_EXIT_REASON);
	TRACE("VM exit: %s", exit_name(reason, name, sizeof(name)));

	if (c->nested_paging) {
		if (reason != EXIT_REASON_EPT_VIOLATION)
			return unexpected_exit(c, reason, "EPT violation (48) on L2's first store");
		if (ept_violation_handle(c) != NVM_PASS)
			return NVM_FAIL;
		TRACE("VMRESUME (store retried)");
		res = vmx_enter(&c->regs, 1);
		if (res != VMX_OK)
			return entry_failed(c, "VMRESUME", res);
	}
	if (vmcall_handle(c, token, true) != NVM_PASS)
		return NVM_FAIL;

	if (iterations > sizeof(samples) / sizeof(samples[0]))
		iterations = sizeof(samples) / sizeof(samples[0]);
	TRACE("VMRESUME x%u: measuring L1->L2->L1 round trips", iterations);
	for (unsigned int i = 0; i < iterations; i++) {
		c->regs.rsi = ++token;
		u64 t0 = rdtsc();
		res = vmx_enter(&c->regs, 1);
		u64 t1 = rdtsc();
		if (res != VMX_OK)
			return entry_failed(c, "VMRESUME", res);
		samples[i] = t1 - t0;
		TRACE_DEBUG("round trip %u: %lu cycles", i, samples[i]);
		if (vmcall_handle(c, token, false) != NVM_PASS)
			return NVM_FAIL;
	}

	u64 mmm[3] = { 0, 0, 0 };
	if (iterations)
		stats_min_med_max(samples, iterations, mmm);
	stage_detail(c->r, "round_trip_cycles min=%lu median=%lu max=%lu (%u VMRESUME->VMCALL round trips)",
		     mmm[0], mmm[1], mmm[2], iterations);
	stage_detail(c->r, "controls pin=0x%x proc=0x%x proc2=0x%x exit=0x%x entry=0x%x",
		     c->ctl[VMX_CTL_PIN], c->ctl[VMX_CTL_PROC], c->ctl[VMX_CTL_PROC2],
		     c->ctl[VMX_CTL_EXIT], c->ctl[VMX_CTL_ENTRY]);
	if (c->nested_paging)
		return stage_pass(c->r, "L2 ran under EPT (EPTP 0x%lx), took the EPT violation at GPA 0x%lx "
				  "and resumed; %u round trips, median %lu cycles", c->eptp,
				  gpa_of(c->mailbox), iterations, mmm[1]);
	return stage_pass(c->r, "L2 ran on L1's page tables and exited with VMCALL; "
			  "%u round trips, median %lu cycles", iterations, mmm[1]);
}

/* 24.11.3: VMCLEAR writes the VMCS back and makes it inactive before L1 moves on (or VMXOFF). */
static void vmcs_unload(struct l2_run *c)
{
	struct vmx_outcome o = vmx_pointer_insn_safe(true, gpa_of(c->vmcs));

	TRACE("VMCLEAR 0x%lx: %s", gpa_of(c->vmcs), vmx_result_name(o.result));
}

enum nvm_status vmx_run_l2(struct stage_result *r, bool nested_paging, unsigned int iterations)
{
	struct l2_run c = { .r = r, .nested_paging = nested_paging };
	enum nvm_status st;

	if (nested_paging) {
		const char *why = vmx_ept_unusable(vmx_caps.ctl[VMX_CTL_PROC], vmx_caps.ctl[VMX_CTL_PROC2],
						   vmx_caps.ept_vpid_cap);
		if (why)
			return stage_skip(r, "no EPT for L2: %s", why);
	}
	c.mailbox = page_alloc(1);

	if (vmcs_load(&c) != NVM_PASS)
		return NVM_FAIL;
	if (controls_setup(&c) || host_state_setup(&c) || guest_state_setup(&c) ||
	    (nested_paging && ept_setup(&c))) {
		st = NVM_FAIL;
		goto out;
	}
	if (c.write_errors) {
		st = stage_fail(r, "%u VMWRITE(s) failed, first %s (0x%x): %s", c.write_errors,
				field_name(c.first_bad_field), c.first_bad_field,
				c.first_bad_error ? insn_error_name(c.first_bad_error) : "VMfailInvalid");
		goto out;
	}
	st = l2_launch_and_run(&c, iterations);
out:
	vmcs_unload(&c);
	return st;
}
