// SPDX-License-Identifier: MIT
/*
 * L2 in a 32-bit mode, for the l2.mode.* tests: L1 turns the VMCB/VMCS that
 * vcpu_reset built for a 64-bit L2 into one for 32-bit protected mode,
 * with paging off or with PAE paging, through the state API (state_set),
 * and runs a few instructions of 32-bit code there.
 *
 * The code (below, .code32) reads CR0 and CR4 as it runs, writes a marker
 * through DS and one through the stack, and halts: HLT exits to L1 on both
 * vendors, so no hypercall protocol (RAX's upper half is undefined outside
 * 64-bit mode) is needed. L1 then checks what L2 recorded and the state the
 * exit saved: CR0/CR4/EFER as set, EFER.LMA=0, CS a 32-bit segment, RIP at
 * the HLT, RSP back at the top of L2's stack.
 *
 * APM vol. 2, 15.5 "VMRUN": the guest may be in any mode VMRUN's checks
 * allow (15.5.1), paged or not; 14.1 / 5.4 for PAE paging. SDM vol. 3C,
 * 26.3.1.1: CR0.PG=0 needs "unrestricted guest" (which needs EPT);
 * "IA-32e mode guest" must equal EFER.LMA; 26.3.1.2 segments.
 */
#include "l2_mode.h"

/* What the 32-bit code records: CR0, CR4, ESP after a push/pop, a marker. */
u32 l2_mode32_seen[4];
extern const char l2_mode32_entry[], l2_mode32_hlt[];

#define MARKER 0x32323232u

__asm__(".pushsection .text\n"
	".code32\n"
	".global l2_mode32_entry, l2_mode32_hlt\n"
	"l2_mode32_entry:\n\t"
	"movl %cr0, %eax\n\t"
	"movl %eax, l2_mode32_seen\n\t"
	"movl %cr4, %eax\n\t"
	"movl %eax, l2_mode32_seen+4\n\t"
	"pushl $0x32323232\n\t"
	"popl %eax\n\t"
	"movl %esp, l2_mode32_seen+8\n\t"
	"movl %eax, l2_mode32_seen+12\n"
	"l2_mode32_hlt:\n\t"
	"hlt\n\t"
	"jmp l2_mode32_hlt\n"
	".code64\n"
	".popsection");

static void l2_unused(u64 arg)
{
	(void)arg;   /* vcpu_reset wants an entry; the 32-bit code replaces it */
}

/* Flat 4 GiB segments: 32-bit code (G, D, P, S, execute/read, accessed), data likewise. */
static struct l2_seg flat(u16 sel, u32 access)
{
	return (struct l2_seg){ .selector = sel, .attrib = access | 0xc00, .limit = 0xffffffff };
}

/* PAE (4.4 / APM 5.3): PDPT[0] -> a page directory of 2 MiB pages for the first GiB. */
static u64 pae_tables(void)
{
	u64 *pdpt = page_alloc(1), *pd = page_alloc(1);

	for (u64 i = 0; i < 512; i++)
		pd[i] = (i << 21) | 0x83;          /* P, R/W, PS */
	pdpt[0] = gpa_of(pd) | 1;                  /* P; R/W and U/S are reserved in a PDPTE */
	return gpa_of(pdpt);
}

enum nvm_status l2_mode32_run(bool pae, bool nested_paging, struct stage_result *r)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_unused, .nested_paging = nested_paging };
	struct l2_state s, got;
	struct l2_exit x;
	u64 stack_top, cr0, cr4;

	memset(l2_mode32_seen, 0, sizeof(l2_mode32_seen));
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested->state_save_all(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	stack_top = gpa_of(vcpu.stack) + 4096;
	nested->state_get(&vcpu, &s);
	/* CR0: PE, ET, NE (VMX fixes NE to 1), PG only for PAE; CR4: PAE, and VMXE where VMX fixes it. */
	cr0 = CR0_PE | CR0_ET | CR0_NE | (pae ? CR0_PG : 0);
	cr4 = (s.cr4 & CR4_VMXE) | (pae ? CR4_PAE : 0);
	s.cr0 = cr0;
	s.cr4 = cr4;
	s.cr3 = pae ? pae_tables() : 0;
	s.efer &= ~(u64)(EFER_LME | EFER_LMA);
	s.seg[L2_CS] = flat(0x08, 0x9b);
	s.seg[L2_SS] = s.seg[L2_DS] = s.seg[L2_ES] = flat(0x10, 0x93);
	s.rip = gpa_of(l2_mode32_entry);
	s.rsp = stack_top;
	s.rflags = RFLAGS_RESERVED_1;
	s.rax = 0;
	nested->state_set(&vcpu, &s, L2_ST_CR | L2_ST_EFER | L2_ST_SEG | L2_ST_REGS);

	if (nested->enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HLT)
		return nested_unexpected(&vcpu, &x, "the HLT at the end of L2's 32-bit code", r);
	nested->state_get(&vcpu, &got);
	stage_detail(r, "L2 saw CR0=0x%x CR4=0x%x ESP=0x%x marker 0x%x; exit: RIP=0x%lx CR0=0x%lx "
		     "CR4=0x%lx EFER=0x%lx CS attributes 0x%x", l2_mode32_seen[0], l2_mode32_seen[1],
		     l2_mode32_seen[2], l2_mode32_seen[3], got.rip, got.cr0, got.cr4, got.efer,
		     got.seg[L2_CS].attrib);
	if (l2_mode32_seen[3] != MARKER || l2_mode32_seen[2] != (u32)stack_top)
		return stage_fail(r, "L2's 32-bit code stored marker 0x%x and ESP 0x%x, expected 0x%x "
				  "and 0x%x: it did not run as 32-bit code on its stack",
				  l2_mode32_seen[3], l2_mode32_seen[2], MARKER, (u32)stack_top);
	if (l2_mode32_seen[0] != (u32)cr0 || l2_mode32_seen[1] != (u32)cr4)
		return stage_fail(r, "L2 read CR0=0x%x CR4=0x%x, expected 0x%lx 0x%lx (what L1 set)",
				  l2_mode32_seen[0], l2_mode32_seen[1], cr0, cr4);
	if (x.rip != gpa_of(l2_mode32_hlt) || got.rsp != stack_top)
		return stage_fail(r, "the HLT exit reports RIP=0x%lx RSP=0x%lx, expected 0x%lx 0x%lx",
				  x.rip, got.rsp, gpa_of(l2_mode32_hlt), stack_top);
	if (got.cr0 != cr0 || got.cr4 != cr4 || (pae && got.cr3 != s.cr3))
		return stage_fail(r, "after the exit L2's CR0=0x%lx CR3=0x%lx CR4=0x%lx, expected 0x%lx "
				  "0x%lx 0x%lx", got.cr0, got.cr3, got.cr4, cr0, s.cr3, cr4);
	if ((got.saved & L2_ST_EFER) && (got.efer & (EFER_LMA | EFER_LME)))
		return stage_fail(r, "after the exit L2's EFER=0x%lx has LME/LMA set: L2 ran in "
				  "32-bit mode", got.efer);
	if (got.seg[L2_CS].attrib != s.seg[L2_CS].attrib || got.seg[L2_CS].limit != 0xffffffff)
		return stage_fail(r, "after the exit L2's CS attributes 0x%x limit 0x%x, expected 0x%x "
				  "0x%x (32-bit code)", got.seg[L2_CS].attrib, got.seg[L2_CS].limit,
				  s.seg[L2_CS].attrib, 0xffffffffu);
	return stage_pass(r, "L2 ran 32-bit code in protected mode %s (CR0=0x%lx CR4=0x%lx%s), "
			  "halted at 0x%lx; the exit saved its 32-bit state",
			  pae ? "with PAE paging" : "without paging", cr0, cr4,
			  nested_paging ? ", behind NPT/EPT" : ", on L1's memory directly", x.rip);
}
