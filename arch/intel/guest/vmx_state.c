// SPDX-License-Identifier: MIT
/*
 * L2's state in the VMCS guest-state area, for the entry/exit state tests
 * (guest/nested.h: struct l2_state, state_get/state_set).
 *
 * A VM exit saves (SDM vol. 3C, 28.3 "Saving guest state"): CR0, CR3, CR4,
 * RSP, RIP, RFLAGS, every segment register with selector, base, limit and
 * access rights (28.3.1.2), GDTR, IDTR, the interruptibility state
 * (28.3.4), and, only when the VM-exit controls say so, DR7 and
 * IA32_DEBUGCTL ("save debug controls"), IA32_PAT ("save IA32_PAT") and
 * IA32_EFER ("save IA32_EFER"). CR2 has no VMCS field: a VM exit leaves it
 * alone (28.3.1.1 lists what is saved; CR2 is not), so L1's own CR2 after
 * the exit is L2's. RAX lives in L1's register array (vmx_entry.S).
 *
 * state_save_all turns the optional ones on, and passes every MSR through
 * to L2 (VMWRITEs of the controls, so vmx_nested.c's copy of the controls
 * in its dump lags behind).
 */
#include "nested.h"
#include "vmx_guest.h"

static u64 vmread(u32 field)
{
	u64 v = 0;

	__asm__ volatile("vmread %1, %0" : "+r"(v) : "r"((u64)field) : "cc");
	return v;
}

/* true when the VMWRITE succeeded (31.2: CF and ZF clear). */
static bool vmwrite(u32 field, u64 val)
{
	u8 fail;

	__asm__ volatile("vmwrite %1, %2\n\tsetbe %0" : "=qm"(fail)
			 : "r"(val), "r"((u64)field) : "cc", "memory");
	return !fail;
}

/* AR bytes (25.4.1, table 25-2): 7:0 type/S/DPL/P, 15:12 AVL/L/D/G, 16 unusable. */
static u32 ar_to_attrib(u64 ar)
{
	return (u32)((ar & 0xff) | ((ar >> 4) & 0xf00) | (ar & L2_SEG_UNUSABLE));
}

static u64 attrib_to_ar(u32 a)
{
	return (a & 0xff) | ((u64)(a & 0xf00) << 4) | (a & L2_SEG_UNUSABLE);
}

/* The ES..TR groups share one layout (B.1-B.4): selector, base, limit and AR by index. */
static void seg_get(struct l2_seg *d, unsigned int i)
{
	d->selector = (u16)vmread(GUEST_ES_SELECTOR + 2 * i);
	d->base = vmread(GUEST_ES_BASE + 2 * i);
	d->limit = (u32)vmread(GUEST_ES_LIMIT + 2 * i);
	d->attrib = ar_to_attrib(vmread(GUEST_ES_AR_BYTES + 2 * i));
}

static void seg_set(const struct l2_seg *s, unsigned int i)
{
	vmwrite(GUEST_ES_SELECTOR + 2 * i, s->selector);
	vmwrite(GUEST_ES_BASE + 2 * i, s->base);
	vmwrite(GUEST_ES_LIMIT + 2 * i, s->limit);
	vmwrite(GUEST_ES_AR_BYTES + 2 * i, attrib_to_ar(s->attrib));
}

/* enum l2_seg_reg is ES, CS, SS, DS, FS, GS, LDTR, TR: the VMCS's order too. */
_Static_assert(L2_CS == 1 && L2_TR == 7, "l2_seg_reg in VMCS order");
_Static_assert(GUEST_TR_SELECTOR == GUEST_ES_SELECTOR + 2 * L2_TR, "B.1 order");
_Static_assert(GUEST_TR_AR_BYTES == GUEST_ES_AR_BYTES + 2 * L2_TR, "B.3 order");
_Static_assert(GUEST_TR_BASE == GUEST_ES_BASE + 2 * L2_TR, "B.4 order");

/* One control bit the L0 must allow (A.4, A.5: allowed-1 settings in bits 63:32). */
static enum nvm_status want(enum vmx_ctl ctl, u32 field, u32 bit, struct stage_result *r)
{
	u32 val = (u32)vmread(field);

	if (val & bit)
		return NVM_PASS;
	if (!vmx_ctl_allows(vmx_caps.ctl[ctl], bit))
		return stage_fail(r, "the L0 does not allow the %s control \"%s\" (capability 0x%lx)",
				  vmx_ctl_name(ctl), vmx_ctl_bit_name(ctl, __builtin_ctz(bit)),
				  vmx_caps.ctl[ctl]);
	if (!vmwrite(field, val | bit))
		return stage_fail(r, "VMWRITE of the %s controls 0x%x failed", vmx_ctl_name(ctl),
				  val | bit);
	return NVM_PASS;
}

enum nvm_status vmx_state_save_all(struct l2_vcpu *vcpu, struct stage_result *r)
{
	u64 pat = rdmsr(0x277), efer = rdmsr(MSR_EFER);
	static const u32 exit_bits[] = { VM_EXIT_SAVE_IA32_EFER, VM_EXIT_LOAD_IA32_EFER,
					 VM_EXIT_SAVE_IA32_PAT, VM_EXIT_LOAD_IA32_PAT,
					 VM_EXIT_SAVE_DEBUG_CONTROLS };
	static const u32 entry_bits[] = { VM_ENTRY_LOAD_IA32_EFER, VM_ENTRY_LOAD_IA32_PAT,
					  VM_ENTRY_LOAD_DEBUG_CONTROLS };

	(void)vcpu;
	/* The values the new load controls take: L1's PAT for both, EFER as L1 runs (26.3.1.1). */
	if (!vmwrite(GUEST_IA32_PAT, pat) || !vmwrite(HOST_IA32_PAT, pat) ||
	    !vmwrite(GUEST_IA32_EFER, efer) || !vmwrite(HOST_IA32_EFER, efer))
		return stage_fail(r, "VMWRITE of the IA32_PAT/IA32_EFER guest or host field failed");
	/*
	 * L2 writes its own EFER (and DEBUGCTL): without "use MSR bitmaps" every
	 * WRMSR of L2 would exit to L1 (25.6.2). An all-zero bitmap lets them all
	 * through, so the value in the VMCS is what L2 itself wrote (25.6.9).
	 */
	if (!vmwrite(MSR_BITMAP, gpa_of(page_alloc(1))))
		return stage_fail(r, "VMWRITE of the MSR-bitmap address failed");
	if (want(VMX_CTL_PROC, CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_USE_MSR_BITMAPS, r) != NVM_PASS)
		return NVM_FAIL;
	for (unsigned int i = 0; i < sizeof(exit_bits) / sizeof(exit_bits[0]); i++)
		if (want(VMX_CTL_EXIT, VM_EXIT_CONTROLS, exit_bits[i], r) != NVM_PASS)
			return NVM_FAIL;
	for (unsigned int i = 0; i < sizeof(entry_bits) / sizeof(entry_bits[0]); i++)
		if (want(VMX_CTL_ENTRY, VM_ENTRY_CONTROLS, entry_bits[i], r) != NVM_PASS)
			return NVM_FAIL;
	TRACE("VM-exit controls 0x%lx, VM-entry controls 0x%lx: L2's EFER, PAT and debug "
	      "controls saved at each exit and loaded at each entry", vmread(VM_EXIT_CONTROLS),
	      vmread(VM_ENTRY_CONTROLS));
	return NVM_PASS;
}

void vmx_state_get(struct l2_vcpu *vcpu, struct l2_state *st)
{
	u32 exit_ctl = (u32)vmread(VM_EXIT_CONTROLS);
	u32 intr = (u32)vmread(GUEST_INTERRUPTIBILITY_INFO);

	*st = (struct l2_state){
		.cr0 = vmread(GUEST_CR0), .cr2 = read_cr2(), .cr3 = vmread(GUEST_CR3),
		.cr4 = vmread(GUEST_CR4),
		.rip = vmread(GUEST_RIP), .rsp = vmread(GUEST_RSP), .rflags = vmread(GUEST_RFLAGS),
		.rax = vcpu->gpr[L2_RAX],
		.gdtr = { vmread(GUEST_GDTR_BASE), (u32)vmread(GUEST_GDTR_LIMIT) },
		.idtr = { vmread(GUEST_IDTR_BASE), (u32)vmread(GUEST_IDTR_LIMIT) },
		/* 25.4.2 table 25-3: bit 0 blocking by STI, bit 1 blocking by MOV SS. */
		.shadow = (intr & 1 ? L2_SHADOW_STI : 0) | (intr & 2 ? L2_SHADOW_MOV_SS : 0),
		.saved = L2_ST_CR | L2_ST_CR2 | L2_ST_SEG | L2_ST_SEG_OTHER | L2_ST_DTR |
			 L2_ST_SHADOW | L2_ST_REGS,
	};
	for (unsigned int i = 0; i < L2_SEG_COUNT; i++)
		seg_get(&st->seg[i], i);
	if (exit_ctl & VM_EXIT_SAVE_IA32_EFER) {
		st->efer = vmread(GUEST_IA32_EFER);
		st->saved |= L2_ST_EFER;
	}
	if (exit_ctl & VM_EXIT_SAVE_IA32_PAT) {
		st->pat = vmread(GUEST_IA32_PAT);
		st->saved |= L2_ST_PAT;
	}
	if (exit_ctl & VM_EXIT_SAVE_DEBUG_CONTROLS) {
		st->dr7 = vmread(GUEST_DR7);
		st->debugctl = vmread(GUEST_IA32_DEBUGCTL);
		st->saved |= L2_ST_DR7 | L2_ST_DEBUGCTL;
	}
}

/* PDPTE0-3 (B.2.3): not in nestvmm/vmx.h's list, only needed here. */
#define GUEST_PDPTR0 0x280au

/*
 * The controls must agree with the state that was set (26.2.1.1, 26.3.1.1):
 * "IA-32e mode guest" is EFER.LMA; CR0.PE=0 or PG=0 needs "unrestricted
 * guest"; PAE paging outside IA-32e mode with EPT takes its PDPTEs from the
 * VMCS, not from CR3 (26.3.2.4), so they are copied from L2's PDPT.
 */
static void controls_for_mode(void)
{
	u64 cr0 = vmread(GUEST_CR0), cr4 = vmread(GUEST_CR4), efer = vmread(GUEST_IA32_EFER);
	u32 entry = (u32)vmread(VM_ENTRY_CONTROLS);
	u32 proc = (u32)vmread(CPU_BASED_VM_EXEC_CONTROL);
	u32 proc2 = proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ?
		    (u32)vmread(SECONDARY_VM_EXEC_CONTROL) : 0;

	entry = efer & EFER_LMA ? entry | VM_ENTRY_IA32E_MODE : entry & ~VM_ENTRY_IA32E_MODE;
	vmwrite(VM_ENTRY_CONTROLS, entry);
	if ((!(cr0 & CR0_PE) || !(cr0 & CR0_PG)) && (proc2 & SECONDARY_EXEC_ENABLE_EPT) &&
	    vmx_ctl_allows(vmx_caps.ctl[VMX_CTL_PROC2], SECONDARY_EXEC_UNRESTRICTED_GUEST))
		vmwrite(SECONDARY_VM_EXEC_CONTROL, proc2 | SECONDARY_EXEC_UNRESTRICTED_GUEST);
	if ((cr0 & CR0_PG) && (cr4 & CR4_PAE) && !(efer & EFER_LMA) &&
	    (proc2 & SECONDARY_EXEC_ENABLE_EPT)) {
		const u64 *pdpt = (const u64 *)(uintptr_t)(vmread(GUEST_CR3) & ~0x1full);
		for (unsigned int i = 0; i < 4; i++)
			vmwrite(GUEST_PDPTR0 + 2 * i, pdpt[i]);
	}
}

void vmx_state_set(struct l2_vcpu *vcpu, const struct l2_state *st, u32 fields)
{
	if (fields & L2_ST_CR) {
		vmwrite(GUEST_CR0, st->cr0);
		vmwrite(GUEST_CR3, st->cr3);
		vmwrite(GUEST_CR4, st->cr4);
	}
	/* No VMCS field: VM entry leaves CR2 as L1 has it. */
	if (fields & L2_ST_CR2)
		__asm__ volatile("mov %0, %%cr2" :: "r"(st->cr2));
	if (fields & L2_ST_EFER)
		vmwrite(GUEST_IA32_EFER, st->efer);
	if (fields & L2_ST_SEG)
		for (unsigned int i = L2_ES; i <= L2_DS; i++)
			seg_set(&st->seg[i], i);
	if (fields & L2_ST_SEG_OTHER)
		for (unsigned int i = L2_FS; i <= L2_TR; i++)
			seg_set(&st->seg[i], i);
	if (fields & L2_ST_DTR) {
		vmwrite(GUEST_GDTR_BASE, st->gdtr.base);
		vmwrite(GUEST_GDTR_LIMIT, st->gdtr.limit);
		vmwrite(GUEST_IDTR_BASE, st->idtr.base);
		vmwrite(GUEST_IDTR_LIMIT, st->idtr.limit);
	}
	if (fields & L2_ST_DR7)
		vmwrite(GUEST_DR7, st->dr7);
	if (fields & L2_ST_PAT)
		vmwrite(GUEST_IA32_PAT, st->pat);
	if (fields & L2_ST_DEBUGCTL)
		vmwrite(GUEST_IA32_DEBUGCTL, st->debugctl);
	if (fields & L2_ST_SHADOW)
		vmwrite(GUEST_INTERRUPTIBILITY_INFO, (st->shadow & L2_SHADOW_STI ? 1 : 0) |
			(st->shadow & L2_SHADOW_MOV_SS ? 2 : 0));
	if (fields & (L2_ST_CR | L2_ST_EFER))
		controls_for_mode();
	/* RIP, RSP and RFLAGS reach the VMCS through enter (vmx_nested.c), RAX through gpr[]. */
	if (fields & L2_ST_REGS) {
		vcpu->rip = st->rip;
		vcpu->gpr[L2_RSP] = st->rsp;
		vcpu->rflags = st->rflags;
		vcpu->gpr[L2_RAX] = st->rax;
	}
}
