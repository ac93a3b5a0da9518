// SPDX-License-Identifier: MIT
/*
 * l2.intercept.none: what L1 does not intercept runs in L2 without any exit
 * to L1 (APM 15.9: an instruction exits only if its intercept bit is set;
 * SDM 26.1.3 "Instructions That Cause VM Exits Conditionally"), except what
 * the manual makes unconditional: CPUID on VMX (SDM 26.1.2), which L1 then
 * answers with its own CPUID, once.
 *
 * L2 runs, with no intercept bit set and empty MSR/I/O bitmaps: CPUID,
 * RDTSC, RDTSCP (SVM, where CPUID offers it; on VMX it is #UD without
 * "enable RDTSCP"), PAUSE, INVLPG, MOV from and back to CR0/CR3/CR4/CR8
 * and DR7, RDMSR/WRMSR of IA32_KERNEL_GS_BASE, IN/OUT of the VMM's echo
 * port. Each leaves L2's state as the instruction defines (it checks the
 * values it can), and L1 sees nothing until L2's DONE.
 */
#include "test.h"
#include "nestvmm/wire.h"

#define MSR_KERNEL_GS_BASE 0xc0000102u
#define L2_GS_BASE         0xffff80004e56a0a0ull

static volatile u64 l2_scratch;

static void __attribute__((noinline)) l2_code(u64 flags)
{
	u32 a = 0, b, c = 0, d;
	u64 v, w;
	u8 io;

	/* CPUID: exits on VMX only (L1 answers). */
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d) :: "memory");
	L2_ASSERT(a >= 1, "CPUID.0:EAX=%u, expected a maximum leaf >= 1", a);
	__asm__ volatile("rdtsc" : "=a"(a), "=d"(d) :: "memory");
	if (flags & 1)
		__asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c) :: "memory");
	__asm__ volatile("pause" ::: "memory");
	__asm__ volatile("invlpg (%0)" :: "r"(&l2_scratch) : "memory");
	/* Control registers: read, write the same value back. */
	__asm__ volatile("mov %%cr0, %0\n\tmov %0, %%cr0" : "=&r"(v) :: "memory");
	__asm__ volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=&r"(v) :: "memory");
	__asm__ volatile("mov %%cr4, %0\n\tmov %0, %%cr4" : "=&r"(v) :: "memory");
	__asm__ volatile("mov %0, %%cr8\n\tmov %%cr8, %1" : "=&r"(w), "=&r"(v) : "0"(3ull) : "memory");
	L2_ASSERT(v == 3, "CR8 reads 0x%lx after L2 wrote 3", v);
	__asm__ volatile("mov %0, %%cr8" :: "r"(0ull) : "memory");
	__asm__ volatile("mov %%dr7, %0\n\tmov %0, %%dr7" : "=&r"(v) :: "memory");
	/* MSR and port: L2's own. */
	__asm__ volatile("wrmsr" :: "c"(MSR_KERNEL_GS_BASE), "a"((u32)L2_GS_BASE),
			 "d"((u32)(L2_GS_BASE >> 32)) : "memory");
	__asm__ volatile("rdmsr" : "=a"(a), "=d"(d) : "c"(MSR_KERNEL_GS_BASE) : "memory");
	L2_ASSERT((((u64)d << 32) | a) == L2_GS_BASE, "IA32_KERNEL_GS_BASE reads 0x%lx after L2 "
		  "wrote 0x%llx", ((u64)d << 32) | a, L2_GS_BASE);
	__asm__ volatile("outb %b0, %w1\n\tinb %w1, %b0" : "=a"(io) : "d"(NVM_PORT_ECHO), "0"(0x3c));
	L2_ASSERT(io == 0x3c, "IN from the echo port read 0x%x after OUT 0x3c", io);
}

NVM_TEST(L2_INTERCEPT_NONE)
{
	bool vmx = nested->virt[0] == 'V';
	u32 id[4];
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code, .intercepts = L2_ICPT_MSR_BITMAP | L2_ICPT_IO_BITMAP };
	struct l2_exit x;
	unsigned int cpuid_exits = 0;

	cpuid(CPUID_LEAF_EXT_FEATURES, 0, id);
	cfg.arg = !vmx && (id[3] & (1u << 27));
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	for (;;) {
		if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			return NVM_FAIL;
		if (x.kind == L2_EXIT_CPUID && vmx && !cpuid_exits++) {
			/* SDM 26.1.2: unconditional on VMX; answer as the CPU would. */
			u32 out[4];
			cpuid((u32)vcpu.gpr[L2_RAX], (u32)vcpu.gpr[L2_RCX], out);
			vcpu.gpr[L2_RAX] = out[0];
			vcpu.gpr[L2_RBX] = out[1];
			vcpu.gpr[L2_RCX] = out[2];
			vcpu.gpr[L2_RDX] = out[3];
			nested->skip_insn(&vcpu, &x);
			continue;
		}
		if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != L2_HC_DONE)
			return nested_unexpected(&vcpu, &x, "no exit before L2's DONE (nothing is "
						 "intercepted)", r);
		break;
	}
	if (x.hc.arg0)
		return stage_fail(r, "L2 finished with result 0x%lx, expected 0", x.hc.arg0);
	if (vmx && cpuid_exits != 1)
		return stage_fail(r, "VMX: %u CPUID exits, expected exactly 1 (unconditional)",
				  cpuid_exits);
	return stage_pass(r, "CPUID%s, RDTSC%s, PAUSE, INVLPG, MOV CR0/3/4/8, MOV DR7, RDMSR/WRMSR "
			  "and IN/OUT ran in L2 without an exit%s", vmx ? " (exits on VMX)" : "",
			  cfg.arg ? ", RDTSCP" : "", vmx ? " but the unconditional CPUID" : "");
}
