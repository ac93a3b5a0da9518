// SPDX-License-Identifier: MIT
/*
 * Misbehaviour on request, for the robustness tests: the device tree's
 * "hostile" property names one act, and L1 performs it instead of (or while)
 * running its stages. The VMM must survive each with a verdict naming it.
 */
#include "l1.h"

static void send_raw(u32 gpa)
{
	__asm__ volatile("outl %0, %1" :: "a"(gpa), "Nd"((u16)NVM_PORT_MSG) : "memory");
}

static void garbage(void)
{
	static struct nvm_msg bad __attribute__((aligned(8)));

	bad.magic = NVM_MSG_MAGIC;
	bad.type = NVM_MSG_LOG;
	bad.size = 0xffff;             /* longer than any message may be */
	bad.str_len[0] = 0xfff0;
	send_raw((u32)gpa_of(&bad));
	send_raw(0xfffffff0u);         /* far outside RAM */
}

void hostile_act(const char *mode)
{
	if (!strcmp(mode, "spin")) {
		/* Interrupts off, no exits: only the VMM's timeout stops this. */
		__asm__ volatile("cli; 1: jmp 1b");
	} else if (!strcmp(mode, "triple-fault")) {
		/* An empty IDT turns the next exception into a triple fault. */
		struct dtr empty = { 0, 0 };
		__asm__ volatile("lidt %0; ud2" :: "m"(empty));
	} else if (!strcmp(mode, "garbage")) {
		garbage();
	} else if (!strcmp(mode, "flood")) {
		for (u64 i = 0;; i++)
			chan_send(NVM_MSG_LOG, 0, 0, "flood flood flood flood flood flood flood", 0, 0);
	} else if (!strcmp(mode, "dup-stage")) {
		chan_send(NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, 0, 0, 0);
		chan_send(NVM_MSG_STAGE_END, NVM_STAGE_L1_BOOT, 0, "first", 0, 0);
		chan_send(NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, 0, 0, 0);
	} else if (!strcmp(mode, "bad-stage")) {
		chan_send(NVM_MSG_STAGE_BEGIN, 99, 0, 0, 0, 0);
	} else if (!strcmp(mode, "no-done")) {
		l1_halt();
	} else if (!strcmp(mode, "mmio")) {
		/* Mapped by the boot page tables, but no RAM behind it. */
		*(volatile u32 *)(uintptr_t)0xd0000000u = 0x12345678;
	} else if (!strcmp(mode, "toggle-apic")) {
		/*
		 * CPUID.1:EDX.APIC[9] mirrors IA32_APIC_BASE.EN (SDM vol. 3A,
		 * "Enabling or Disabling the Local APIC"): flipping EN (xAPIC
		 * to disabled, or back) makes what L1 sees differ from the
		 * VMM's table, read back before, and l1.cpuid must fail.
		 */
		u64 base;
		struct fault f = rdmsr_safe(MSR_IA32_APIC_BASE, &base);
		GUEST_ASSERT(!f.faulted, "toggle-apic: RDMSR IA32_APIC_BASE raised %s",
			     exception_name(f.vector));
		f = wrmsr_safe(MSR_IA32_APIC_BASE, base ^ APIC_BASE_EN);
		GUEST_ASSERT(!f.faulted, "toggle-apic: WRMSR IA32_APIC_BASE=0x%lx raised %s",
			     base ^ APIC_BASE_EN, exception_name(f.vector));
	} else if (!strcmp(mode, "bad-insn")) {
		/* RDTSCP: some L0s cannot emulate it and stop the vCPU. */
		__asm__ volatile("rdtscp" ::: "rax", "rdx", "rcx");
	}
}

/*
 * Misbehaviour inside a test (the first L2 test that runs): the VMM must fail
 * that test with the cause and boot a fresh L1 for the rest. The VMM passes
 * "hostile" on the first boot only.
 */
void hostile_in_test(const char *mode)
{
	if (!strcmp(mode, "crash-in-test")) {
		__asm__ volatile("ud2");                 /* no fixup: L1's handler reports it */
	} else if (!strcmp(mode, "hang-in-test")) {
		__asm__ volatile("cli; 1: jmp 1b");      /* only the per-test timeout ends this */
	}
}
