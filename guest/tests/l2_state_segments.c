// SPDX-License-Identifier: MIT
/*
 * l2.state.segments: after an exit, L2's segment registers (selector, base,
 * limit, attributes), GDTR and IDTR in the VMCB/VMCS are the ones L2 itself
 * loaded, and the next entry gives them back to L2.
 *
 * APM vol. 2, 15.6 "#VMEXIT": ES, CS, SS, DS, GDTR and IDTR are saved into
 * the VMCB; FS, GS, TR and LDTR are not (they stay in the CPU for VMSAVE,
 * 15.5.2), so on SVM they are not checked here. SDM vol. 3C, 28.3.1.2
 * "Saving Segment Registers and Descriptor-Table Registers": all eight
 * segment registers with base, limit and access rights, GDTR and IDTR.
 *
 * L2 moves to a GDT of its own (new base and limit) with new descriptors
 * (bases, limits, granularity and flags L1's GDT does not have), far-returns
 * to a new CS, loads DS/SS, ES and FS/GS with new selectors, writes the FS
 * and GS bases, LLDT/LTR an LDT and a TSS of its own and LIDT a copy of its
 * IDT with a shorter limit; then it makes a hypercall.
 *
 * The exit leaves L1 with L2's FS, GS, LDTR and TR on SVM (#VMEXIT does
 * not restore them): L1 loads its own again at the end.
 */
#include "test.h"

#define HC_CHECK   L2_HC_USER
#define GDT_LIMIT  0x7f            /* 16 descriptors */
#define IDT_LIMIT  (20 * 16 - 1)   /* vectors 0-19: every exception L2 can take */

/* L2's selectors, all new to L1's GDT (which ends at 0x27). */
#define SEL_CS   0x28
#define SEL_DS   0x30              /* also SS */
#define SEL_ES   0x38              /* also GS */
#define SEL_FS   0x40
#define SEL_TR   0x48              /* 16 bytes */
#define SEL_LDT  0x58              /* 16 bytes */

/* Descriptors: base, limit, access byte, flags nibble (G, D/B, L, AVL). */
#define DESC(base, limit, access, flags)                                                   \
	(((u64)(limit) & 0xffff) | (((u64)(base) & 0xffffff) << 16) | ((u64)(access) << 40) | \
	 ((((u64)(limit) >> 16) & 0xf) << 48) | ((u64)(flags) << 52) | (((u64)(base) >> 24 & 0xff) << 56))
#define DS_BASE   0x00123000ul
#define DS_LIMIT  0xabcde
#define ES_BASE   0x00456000ul
#define ES_LIMIT  0x01234          /* G=1: 0x1234fff */
#define FS_SEL_BASE 0x00789000ul
#define FS_BASE   0x0000777777770000ul   /* written with WRMSR after the load */
#define GS_BASE   0x0000666666660000ul   /* canonical: bit 47 clear */
#define TSS_LIMIT 0x1ff
#define LDT_LIMIT 0xff

static struct {
	u64 gdt, idt, tss, ldt;    /* pages L1 gave L2 */
	u64 l1_fs_base, l1_gs_base;
} volatile env;

static void l2_code(u64 unused)
{
	u64 *gdt = (u64 *)(uintptr_t)env.gdt;
	struct dtr old_gdt, old_idt, gdtr, idtr;

	(void)unused;
	read_gdtr(&old_gdt);
	read_idtr(&old_idt);
	/* L1's five descriptors (guest/cpu.c), not old_gdt.limit + 1: after a VMX exit
	 * L1's GDTR limit is FFFFH (SDM 28.5.2), and so is the one L2 starts with. */
	memcpy(gdt, (const void *)(uintptr_t)old_gdt.base, 5 * 8);
	gdt[SEL_CS / 8] = DESC(0, 0xfffff, 0x9b, 0xa);            /* 64-bit code, G */
	gdt[SEL_DS / 8] = DESC(DS_BASE, DS_LIMIT, 0x93, 0x4);     /* data, D/B, byte granular */
	gdt[SEL_ES / 8] = DESC(ES_BASE, ES_LIMIT, 0x93, 0xc);     /* data, G, D/B */
	gdt[SEL_FS / 8] = DESC(FS_SEL_BASE, 0xfff, 0x93, 0x1);    /* data, AVL */
	gdt[SEL_TR / 8] = DESC(env.tss, TSS_LIMIT, 0x89, 0);      /* available 64-bit TSS */
	gdt[SEL_TR / 8 + 1] = env.tss >> 32;
	gdt[SEL_LDT / 8] = DESC(env.ldt, LDT_LIMIT, 0x82, 0);     /* LDT */
	gdt[SEL_LDT / 8 + 1] = env.ldt >> 32;
	memcpy((void *)(uintptr_t)env.idt, (const void *)(uintptr_t)old_idt.base, IDT_LIMIT + 1);
	gdtr = (struct dtr){ GDT_LIMIT, env.gdt };
	idtr = (struct dtr){ IDT_LIMIT, env.idt };
	__asm__ volatile("lgdt %[g]\n\t"
			 "lidt %[i]\n\t"
			 "pushq $%c[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %[ds], %%ds\n\t"
			 "mov %[ds], %%ss\n\t"
			 "mov %[es], %%es\n\t"
			 "mov %[fs], %%fs\n\t"
			 "mov %[es], %%gs\n\t"
			 "lldt %w[ldt]\n\t"
			 "ltr %w[tr]"
			 :: [g] "m"(gdtr), [i] "m"(idtr), [cs] "i"(SEL_CS), [ds] "r"(SEL_DS),
			    [es] "r"(SEL_ES), [fs] "r"(SEL_FS), [ldt] "r"(SEL_LDT), [tr] "r"(SEL_TR)
			 : "rax", "memory");
	wrmsr(MSR_FS_BASE, FS_BASE);
	wrmsr(MSR_FS_BASE + 1, GS_BASE);
	l2_hypercall(HC_CHECK, 0, 0, 0);

	/* The entry after the check loaded L2's own again. */
	read_gdtr(&gdtr);
	read_idtr(&idtr);
	L2_ASSERT(gdtr.base == env.gdt && gdtr.limit == GDT_LIMIT,
		  "GDTR=0x%lx/0x%x after the re-entry, L2 loaded 0x%lx/0x%x", gdtr.base, gdtr.limit,
		  env.gdt, GDT_LIMIT);
	L2_ASSERT(idtr.base == env.idt && idtr.limit == IDT_LIMIT,
		  "IDTR=0x%lx/0x%x after the re-entry, L2 loaded 0x%lx/0x%x", idtr.base, idtr.limit,
		  env.idt, IDT_LIMIT);
	L2_ASSERT(read_cs() == SEL_CS && read_ds() == SEL_DS, "CS=0x%x DS=0x%x after the re-entry, "
		  "L2 loaded 0x%x 0x%x", read_cs(), read_ds(), SEL_CS, SEL_DS);
	L2_ASSERT(rdmsr(MSR_FS_BASE) == FS_BASE && rdmsr(MSR_FS_BASE + 1) == GS_BASE,
		  "FS/GS base 0x%lx/0x%lx after the re-entry, L2 wrote 0x%lx/0x%lx",
		  rdmsr(MSR_FS_BASE), rdmsr(MSR_FS_BASE + 1), FS_BASE, GS_BASE);
	L2_ASSERT(read_tr() == SEL_TR, "TR=0x%x after the re-entry, L2 loaded 0x%x", read_tr(), SEL_TR);
}

static const char *const seg_name[L2_SEG_COUNT] = { "ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR" };

static enum nvm_status check_seg(const struct l2_state *s, enum l2_seg_reg i, u16 sel, u64 base,
				 u32 limit, u32 attrib, struct stage_result *r)
{
	const struct l2_seg *g = &s->seg[i];

	if (g->selector != sel || g->base != base || g->limit != limit || g->attrib != attrib)
		return stage_fail(r, "after the exit L2's %s is selector 0x%x base 0x%lx limit 0x%x "
				  "attributes 0x%x, expected 0x%x 0x%lx 0x%x 0x%x (what L2 loaded)",
				  seg_name[i], g->selector, g->base, g->limit, g->attrib, sel, base,
				  limit, attrib);
	return NVM_PASS;
}

static enum nvm_status check_all(const struct l2_state *s, struct stage_result *r)
{
	if ((s->saved & (L2_ST_SEG | L2_ST_DTR)) != (L2_ST_SEG | L2_ST_DTR))
		return stage_fail(r, "the vendor code says the exit does not save ES/CS/SS/DS, GDTR and IDTR");
	/* Attributes: access byte in 7:0 (accessed and busy bits as the loads set them), flags in 11:8. */
	if (check_seg(s, L2_CS, SEL_CS, 0, 0xffffffff, 0xa9b, r) != NVM_PASS ||
	    check_seg(s, L2_DS, SEL_DS, DS_BASE, DS_LIMIT, 0x493, r) != NVM_PASS ||
	    check_seg(s, L2_SS, SEL_DS, DS_BASE, DS_LIMIT, 0x493, r) != NVM_PASS ||
	    check_seg(s, L2_ES, SEL_ES, ES_BASE, (ES_LIMIT << 12) | 0xfff, 0xc93, r) != NVM_PASS)
		return NVM_FAIL;
	if (s->gdtr.base != env.gdt || s->gdtr.limit != GDT_LIMIT)
		return stage_fail(r, "after the exit L2's GDTR is 0x%lx/0x%x, expected 0x%lx/0x%x",
				  s->gdtr.base, s->gdtr.limit, env.gdt, GDT_LIMIT);
	if (s->idtr.base != env.idt || s->idtr.limit != IDT_LIMIT)
		return stage_fail(r, "after the exit L2's IDTR is 0x%lx/0x%x, expected 0x%lx/0x%x",
				  s->idtr.base, s->idtr.limit, env.idt, IDT_LIMIT);
	if (!(s->saved & L2_ST_SEG_OTHER))
		return NVM_PASS;
	if (check_seg(s, L2_FS, SEL_FS, FS_BASE, 0xfff, 0x193, r) != NVM_PASS ||
	    check_seg(s, L2_GS, SEL_ES, GS_BASE, (ES_LIMIT << 12) | 0xfff, 0xc93, r) != NVM_PASS ||
	    check_seg(s, L2_LDTR, SEL_LDT, env.ldt, LDT_LIMIT, 0x82, r) != NVM_PASS ||
	    check_seg(s, L2_TR, SEL_TR, env.tss, TSS_LIMIT, 0x8b, r) != NVM_PASS)
		return NVM_FAIL;
	return NVM_PASS;
}

/* L1's own FS, GS, LDTR and TR again (guest/cpu.c): TR's descriptor must be available for LTR. */
static void l1_segs_reload(void)
{
	struct dtr gdtr;
	u64 *gdt;

	read_gdtr(&gdtr);
	gdt = (u64 *)(uintptr_t)gdtr.base;
	gdt[L1_SEL_TSS / 8] &= ~(2ull << 40);     /* busy -> available */
	__asm__ volatile("mov %0, %%fs\n\tmov %0, %%gs\n\tlldt %w1\n\tltr %w2"
			 :: "r"(L1_SEL_DATA), "r"(0), "r"(L1_SEL_TSS) : "memory");
	wrmsr(MSR_FS_BASE, env.l1_fs_base);
	wrmsr(MSR_FS_BASE + 1, env.l1_gs_base);
}

NVM_TEST(L2_STATE_SEGMENTS)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_state after;
	struct l2_exit x;
	enum nvm_status st;

	env.gdt = gpa_of(page_alloc(1));
	env.idt = gpa_of(page_alloc(1));
	env.tss = gpa_of(page_alloc(1));
	env.ldt = gpa_of(page_alloc(1));
	env.l1_fs_base = rdmsr(MSR_FS_BASE);
	env.l1_gs_base = rdmsr(MSR_FS_BASE + 1);
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested->state_save_all(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	st = nested_enter(&vcpu, &x, r);
	if (st == NVM_PASS && (x.kind != L2_EXIT_HYPERCALL || x.hc.code != HC_CHECK))
		st = nested_unexpected(&vcpu, &x, "L2's hypercall after loading its segments", r);
	if (st == NVM_PASS) {
		nested->state_get(&vcpu, &after);
		st = check_all(&after, r);
		if (st != NVM_PASS)
			nested->describe(&vcpu, r);
	}
	if (st == NVM_PASS) {
		nested->skip_insn(&vcpu, &x);
		st = nested_run_to_done(&vcpu, r);
	}
	l1_segs_reload();
	if (st != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "L2's CS/DS/SS/ES, GDTR and IDTR%s saved at the exit as L2 loaded them, "
			  "and L2's again after the entry",
			  after.saved & L2_ST_SEG_OTHER ? ", FS/GS (with bases), LDTR and TR" : "");
}
