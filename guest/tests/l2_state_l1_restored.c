// SPDX-License-Identifier: MIT
/*
 * l2.state.l1-restored: after an exit, L1's own state is what the manual
 * says the exit loads, not what L2 left in the CPU.
 *
 * SVM, APM vol. 2, 15.6 "#VMEXIT": the host's GDTR, IDTR, ES, CS, SS, DS,
 * EFER, CR0, CR3, CR4, RFLAGS, RIP, RSP and RAX come back from the host
 * save area (what L1 had at VMRUN), DR7 is set to 0x400 (breakpoints off)
 * and GIF is cleared; FS, GS, TR and LDTR are not reloaded (they are
 * VMLOAD's), so L1 still has L2's LDTR and FS base.
 * VMX, SDM vol. 3C, 28.5 "Loading Host State": CR0, CR3, CR4, IA32_EFER
 * ("load IA32_EFER"), the selectors and FS/GS/TR bases from the host-state
 * area, GDTR and IDTR bases from it with both limits set to FFFFH
 * (28.5.2), LDTR unusable with selector 0, DR7 = 400H, RFLAGS = 2 (28.5.3:
 * every flag but bit 1 cleared).
 *
 * L2 first changes every one of them: its own GDT (new base and limit) and
 * IDT, DS/ES/SS from its GDT, an LDT of its own, FS base, CR0.TS/MP/WP,
 * its own top-level page table, CR4.TSD/DE, EFER.SCE/NXE, DR7 with two
 * breakpoints enabled, RFLAGS.DF/AC; then it makes the hypercall. L1 reads
 * its own registers right after the exit. Before the entry L1 reloads its
 * GDTR/IDTR with their true limits, so that FFFFH after a VMX exit is new.
 * GIF=0 after #VMEXIT is not checked: L1 cannot read GIF without
 * taking an interrupt it has none of.
 */
#include "test.h"

#define HC_CHECK   L2_HC_USER
#define CR0_TS     (1ul << 3)
#define CR4_TSD    (1ul << 2)
#define CR4_DE     (1ul << 3)
#define RFLAGS_DF  (1ul << 10)
#define RFLAGS_AC  (1ul << 18)
/* Flags L1 keeps across C code: TF IF DF IOPL NT AC ID (the status flags change all the time). */
#define RFLAGS_CONTROL (0x100ul | 0x200 | 0x400 | 0x3000 | 0x4000 | 0x40000 | 0x200000)
#define L2_DR7     0x707ul
#define L2_FS_BASE 0x0000777777770000ul
#define SEL_DATA   0x28
#define SEL_LDT    0x30
#define GDT_LIMIT  0x47
#define IDT_LIMIT  (20 * 16 - 1)

#define DESC(base, limit, access, flags)                                                   \
	(((u64)(limit) & 0xffff) | (((u64)(base) & 0xffffff) << 16) | ((u64)(access) << 40) | \
	 ((((u64)(limit) >> 16) & 0xf) << 48) | ((u64)(flags) << 52) | (((u64)(base) >> 24 & 0xff) << 56))

static struct {
	u64 gdt, idt, ldt, pml4, dead;   /* pages L1 gave L2 */
} volatile env;

/* L1's registers that an exit loads (or, on SVM, leaves alone). */
struct l1_regs {
	u64 cr0, cr3, cr4, efer, dr7, rflags, fs_base;
	struct dtr gdtr, idtr;
	u16 cs, ss, ds, es, ldtr, tr;
};

static void l1_regs_read(struct l1_regs *s)
{
	__asm__ volatile("mov %%dr7, %0" : "=r"(s->dr7));
	s->rflags = read_rflags();
	s->cr0 = read_cr0();
	s->cr3 = read_cr3();
	s->cr4 = read_cr4();
	s->efer = rdmsr(MSR_EFER);
	s->fs_base = rdmsr(MSR_FS_BASE);
	read_gdtr(&s->gdtr);
	read_idtr(&s->idtr);
	s->cs = read_cs();
	s->ds = read_ds();
	__asm__ volatile("mov %%ss, %0\n\tmov %%es, %1\n\tsldt %2"
			 : "=r"(s->ss), "=r"(s->es), "=r"(s->ldtr));
	s->tr = read_tr();
}

static void l2_code(u64 unused)
{
	u64 *gdt = (u64 *)(uintptr_t)env.gdt;
	u64 cr3 = read_cr3(), code = L2_HC_RAX(HC_CHECK);
	struct dtr old_gdt, old_idt, gdtr, idtr;

	(void)unused;
	read_gdtr(&old_gdt);
	read_idtr(&old_idt);
	memcpy(gdt, (const void *)(uintptr_t)old_gdt.base, 0x28);   /* L1's five descriptors */
	gdt[SEL_DATA / 8] = DESC(0, 0xfffff, 0x93, 0xc);
	gdt[SEL_LDT / 8] = DESC(env.ldt, 0xff, 0x82, 0);
	gdt[SEL_LDT / 8 + 1] = env.ldt >> 32;
	memcpy((void *)(uintptr_t)env.idt, (const void *)(uintptr_t)old_idt.base, IDT_LIMIT + 1);
	memcpy((void *)(uintptr_t)env.pml4, (const void *)(uintptr_t)(cr3 & ~0xffful), 4096);
	gdtr = (struct dtr){ GDT_LIMIT, env.gdt };
	idtr = (struct dtr){ IDT_LIMIT, env.idt };
	__asm__ volatile("lgdt %0\n\tlidt %1\n\t"
			 "mov %2, %%ds\n\tmov %2, %%es\n\tmov %2, %%ss\n\tlldt %w3"
			 :: "m"(gdtr), "m"(idtr), "r"(SEL_DATA), "r"(SEL_LDT) : "memory");
	wrmsr(MSR_FS_BASE, L2_FS_BASE);
	__asm__ volatile("mov %0, %%cr0" :: "r"(read_cr0() ^ (CR0_TS | CR0_MP | CR0_WP)));
	__asm__ volatile("mov %0, %%cr3" :: "r"(env.pml4 | (cr3 & 0xfff)) : "memory");
	write_cr4(read_cr4() ^ (CR4_TSD | CR4_DE));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) ^ (EFER_SCE | EFER_NXE));
	__asm__ volatile("mov %0, %%dr0\n\tmov %0, %%dr1\n\tmov %1, %%dr7"
			 :: "r"(env.dead), "r"(L2_DR7));
	/* DF and AC on for the hypercall only: C code must run with DF clear. */
	if (l2_use_vmmcall)
		__asm__ volatile("pushfq\n\torq %1, (%%rsp)\n\tpopfq\n\tvmmcall\n\t"
				 "pushfq\n\tandq %2, (%%rsp)\n\tpopfq"
				 : "+a"(code) : "r"(RFLAGS_DF | RFLAGS_AC), "r"(~(RFLAGS_DF | RFLAGS_AC))
				 : "memory", "cc");
	else
		__asm__ volatile("pushfq\n\torq %1, (%%rsp)\n\tpopfq\n\tvmcall\n\t"
				 "pushfq\n\tandq %2, (%%rsp)\n\tpopfq"
				 : "+a"(code) : "r"(RFLAGS_DF | RFLAGS_AC), "r"(~(RFLAGS_DF | RFLAGS_AC))
				 : "memory", "cc");
	__asm__ volatile("mov %0, %%dr7" :: "r"(0x400ul));
}

#define CHECK(field, fmt, want, why)                                                          \
	do {                                                                                  \
		if ((u64)(got.field) != (u64)(want))                                          \
			return stage_fail(r, "after the exit L1's " fmt " is 0x%lx, expected 0x%lx " \
					  "(%s); L1 had 0x%lx before the entry", (u64)(got.field), \
					  (u64)(want), why, (u64)(before.field));             \
	} while (0)

static enum nvm_status check(const struct l1_regs *bp, const struct l1_regs *gp, bool vmx,
			     struct stage_result *r)
{
	const struct l1_regs before = *bp, got = *gp;
	const char *host = vmx ? "the VMCS host-state area" : "the host save area";

	CHECK(cr0, "CR0", before.cr0, host);
	CHECK(cr3, "CR3", before.cr3, host);
	CHECK(cr4, "CR4", before.cr4, host);
	CHECK(efer, "EFER", before.efer, host);
	CHECK(cs, "CS", before.cs, host);
	CHECK(ss, "SS", before.ss, host);
	CHECK(ds, "DS", before.ds, host);
	CHECK(es, "ES", before.es, host);
	CHECK(gdtr.base, "GDTR base", before.gdtr.base, host);
	CHECK(idtr.base, "IDTR base", before.idtr.base, host);
	CHECK(dr7, "DR7", 0x400, "an exit sets DR7 to 0x400");
	if (vmx) {
		CHECK(gdtr.limit, "GDTR limit", 0xffff, "SDM 28.5.2: FFFFH");
		CHECK(idtr.limit, "IDTR limit", 0xffff, "SDM 28.5.2: FFFFH");
		CHECK(ldtr, "LDTR", 0, "SDM 28.5.2: selector 0, unusable");
		CHECK(tr, "TR", before.tr, host);
		CHECK(fs_base, "FS base", before.fs_base, host);
		CHECK(rflags & RFLAGS_CONTROL, "RFLAGS (control flags)", 0, "SDM 28.5.3: RFLAGS=2");
	} else {
		CHECK(gdtr.limit, "GDTR limit", before.gdtr.limit, host);
		CHECK(idtr.limit, "IDTR limit", before.idtr.limit, host);
		CHECK(ldtr, "LDTR", SEL_LDT, "L2's: #VMEXIT does not reload LDTR (VMLOAD does)");
		CHECK(fs_base, "FS base", L2_FS_BASE, "L2's: #VMEXIT does not reload FS (VMLOAD does)");
		CHECK(rflags & RFLAGS_CONTROL, "RFLAGS (control flags)", before.rflags & RFLAGS_CONTROL,
		      host);
	}
	return NVM_PASS;
}

NVM_TEST(L2_STATE_L1_RESTORED)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l1_regs before, got;
	struct dtr gdtr, idtr;
	struct l2_exit x;
	enum nvm_status st;
	bool vmx = nested->virt[0] == 'V';

	env.gdt = gpa_of(page_alloc(1));
	env.idt = gpa_of(page_alloc(1));
	env.ldt = gpa_of(page_alloc(1));
	env.pml4 = gpa_of(page_alloc(1));
	env.dead = gpa_of(page_alloc(1));
	/* L1's true limits (guest/cpu.c: 5 descriptors, 32 gates), gone after any VMX exit. */
	read_gdtr(&gdtr);
	read_idtr(&idtr);
	gdtr.limit = 5 * 8 - 1;
	idtr.limit = 32 * 16 - 1;
	__asm__ volatile("lgdt %0\n\tlidt %1" :: "m"(gdtr), "m"(idtr) : "memory");
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested->state_save_all(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	l1_regs_read(&before);
	st = nested_enter(&vcpu, &x, r);
	l1_regs_read(&got);
	/* L1's own LDTR and FS base again: an SVM exit leaves L2's. */
	__asm__ volatile("lldt %w0" :: "r"(0));
	wrmsr(MSR_FS_BASE, before.fs_base);
	if (st != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != HC_CHECK)
		return nested_unexpected(&vcpu, &x, "L2's hypercall after changing L1's state", r);
	if (check(&before, &got, vmx, r) != NVM_PASS)
		return NVM_FAIL;
	nested->skip_insn(&vcpu, &x);
	st = nested_run_to_done(&vcpu, r);
	__asm__ volatile("lldt %w0" :: "r"(0));
	wrmsr(MSR_FS_BASE, before.fs_base);
	if (st != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "L1's CR0/CR3/CR4, EFER, CS/SS/DS/ES, GDTR/IDTR bases, DR7=0x400 and "
			  "RFLAGS restored after L2 changed them; %s",
			  vmx ? "GDTR/IDTR limits 0xFFFF, LDTR 0, TR and FS base from the host-state area" :
			  "GDTR/IDTR limits L1's, LDTR and FS base still L2's (not #VMEXIT's)");
}
