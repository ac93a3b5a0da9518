// SPDX-License-Identifier: MIT
/*
 * L1's own descriptor tables and exception handling. L1 must not depend on
 * what the VMM left in GDTR/IDTR: it loads its own, so that every exception
 * reaches exception_handler and is either fixed up (a fault-safe
 * instruction) or reported to the VMM with vector, error code, RIP and CR2.
 */
#include "l1.h"

struct idt_gate {
	u16 offset_lo, selector;
	u8 ist, type_attr;
	u16 offset_mid;
	u32 offset_hi, zero;
} __attribute__((packed));

struct fixup { u64 insn, resume; };
extern const struct fixup __start_fixup_table[], __stop_fixup_table[];
extern const u64 exc_stubs[32];

/* Null, 64-bit code, data, and a 16-byte TSS descriptor (VMX needs a TR). */
static u64 l1_gdt[5] __attribute__((aligned(16))) = {
	0,
	0x00af9b000000ffffull,  /* L1_SEL_CODE: present, DPL0, code, L=1 */
	0x00cf93000000ffffull,  /* L1_SEL_DATA: present, DPL0, data, 4 GiB */
};
static u8 l1_tss[104] __attribute__((aligned(16)));
static struct idt_gate l1_idt[32] __attribute__((aligned(16)));

static const char *const exc_names[32] = X86_EXCEPTION_NAMES;

const char *exception_name(u8 vector)
{
	return vector < 32 ? exc_names[vector] : "#??";
}

static void gdt_load(void)
{
	u64 tss = (u64)(uintptr_t)l1_tss;
	struct dtr gdtr = { sizeof(l1_gdt) - 1, (u64)(uintptr_t)l1_gdt };

	/* 64-bit available TSS: base split over the 16-byte descriptor. */
	l1_gdt[3] = (sizeof(l1_tss) - 1) | ((tss & 0xffffff) << 16) |
		    (0x89ull << 40) | (((tss >> 24) & 0xff) << 56);
	l1_gdt[4] = tss >> 32;
	/* Reload CS with a far return, the data segments and TR by hand. */
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t mov %2, %%es\n\t mov %2, %%ss\n\t"
			 "mov %2, %%fs\n\t mov %2, %%gs\n\t"
			 "ltr %w3"
			 :: "m"(gdtr), "i"(L1_SEL_CODE), "r"(L1_SEL_DATA), "r"(L1_SEL_TSS)
			 : "rax", "memory");
}

static void idt_load(void)
{
	struct dtr idtr = { sizeof(l1_idt) - 1, (u64)(uintptr_t)l1_idt };

	/* Each gate as two quadwords: fewer stores than field by field. */
	for (int v = 0; v < 32; v++) {
		u64 a = exc_stubs[v];
		u64 *gate = (u64 *)&l1_idt[v];

		gate[0] = (a & 0xffff) | ((u64)L1_SEL_CODE << 16) |
			  (0x8eull << 40) |            /* present, DPL0, 64-bit interrupt gate */
			  ((a >> 16 & 0xffff) << 48);
		gate[1] = a >> 32;
	}
	__asm__ volatile("lidt %0" :: "m"(idtr));
}

void cpu_init(void)
{
	gdt_load();
	idt_load();
}

void read_gdtr(struct dtr *d) { __asm__ volatile("sgdt %0" : "=m"(*d)); }
void read_idtr(struct dtr *d) { __asm__ volatile("sidt %0" : "=m"(*d)); }

/*
 * Called by exc_common. A fault on an instruction listed in .fixup_table
 * resumes after it with the vector in r10 (see ASM_SAFE); any other
 * exception is an L1 failure: report it and stop.
 */
volatile struct l1_nmi l1_nmi;

void exception_handler(struct exc_frame *f)
{
	/* An expected NMI (l1.h): count it; the IRET ends NMI blocking. */
	if (f->vector == 2 && l1_nmi.armed) {
		l1_nmi.count++;
		l1_nmi.rip = f->rip;
		return;
	}
	for (const struct fixup *x = __start_fixup_table; x < __stop_fixup_table; x++) {
		if (x->insn == f->rip) {
			f->rip = x->resume;
			f->r10 = f->vector + 1;
			f->r11 = f->error_code;
			return;
		}
	}
	u64 v[NVM_MSG_VALS] = { 0 };
	bool has_err = exception_has_error_code(f->vector);
	v[NVM_EXC_ERROR_CODE] = f->error_code;
	v[NVM_EXC_RIP] = f->rip;
	v[NVM_EXC_CS] = f->cs;
	v[NVM_EXC_RFLAGS] = f->rflags;
	v[NVM_EXC_RSP] = f->rsp;
	v[NVM_EXC_CR2] = read_cr2();
	v[NVM_EXC_HAS_ERROR_CODE] = has_err;
	chan_send(NVM_MSG_EXCEPTION, (u32)f->vector, v, "", 0, 0);
	l1_halt();
}

struct fault rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	FAULT_REGS;
	__asm__ volatile(ASM_SAFE("rdmsr") : FAULT_OUTPUTS, "+a"(lo), "+d"(hi) : "c"(msr));
	*val = ((u64)hi << 32) | lo;
	return FAULT_RESULT;
}

struct fault wrmsr_safe(u32 msr, u64 val)
{
	FAULT_REGS;
	__asm__ volatile(ASM_SAFE("wrmsr") : FAULT_OUTPUTS
			 : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	return FAULT_RESULT;
}

struct fault write_cr4_safe(u64 val)
{
	FAULT_REGS;
	__asm__ volatile(ASM_SAFE("mov %2, %%cr4") : FAULT_OUTPUTS : "r"(val) : "memory");
	return FAULT_RESULT;
}

/* Proves the IDT works: a deliberate #UD must come back through the fixup. */
struct fault ud2_safe(void)
{
	FAULT_REGS;
	__asm__ volatile(ASM_SAFE("ud2") : FAULT_OUTPUTS);
	return FAULT_RESULT;
}
