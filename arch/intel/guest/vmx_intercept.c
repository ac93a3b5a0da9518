// SPDX-License-Identifier: MIT
/*
 * The intercepts of guest/intercept.h for Intel VMX: l2_cfg.intercepts into
 * the processor-based controls (SDM 25.6.2), the CR0/CR4 guest/host masks
 * and read shadows (25.6.6), the I/O bitmaps (25.6.4) and the MSR bitmap
 * (25.6.9); and the matching VM exits decoded into struct l2_exit from the
 * exit qualification (28.2.1).
 *
 * What VMX cannot do is not faked: CPUID always exits (26.1.2), so
 * L2_ICPT_CPUID changes nothing; MOV from CR0/CR4 never exits (the read
 * shadow answers), so L2_ICPT_CR0_READ/CR4_READ and SVM's selective CR0
 * write are refused here, and the tests know.
 */
#include "l2.h"
#include "vmx_guest.h"
#include "vmx_intercept.h"
#include "nestvmm/vmx.h"
#include "nestvmm/vmx_intercept.h"

static u64 icpt_vmread(u32 field)
{
	u64 v = 0;

	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"((u64)field) : "cc");
	return v;
}

/* false: VMfailInvalid/VMfailValid (the caller names the field). */
static bool icpt_vmwrite(u32 field, u64 val)
{
	u8 bad;

	__asm__ volatile("vmwrite %1, %2\n\tsetbe %0" : "=qm"(bad) : "r"(val), "r"((u64)field)
			 : "cc", "memory");
	return !bad;
}

/* Primary processor-based controls for the test's intercepts. */
static u32 proc_bits(u64 i)
{
	u32 b = 0;

	if (i & (L2_ICPT_RDTSC | L2_ICPT_RDTSCP)) b |= CPU_BASED_RDTSC_EXITING;
	if (i & L2_ICPT_RDPMC) b |= CPU_BASED_RDPMC_EXITING;
	if (i & L2_ICPT_INVLPG) b |= CPU_BASED_INVLPG_EXITING;
	if (i & L2_ICPT_PAUSE) b |= CPU_BASED_PAUSE_EXITING;
	if (i & L2_ICPT_CR3_READ) b |= CPU_BASED_CR3_STORE_EXITING;
	if (i & L2_ICPT_CR3_WRITE) b |= CPU_BASED_CR3_LOAD_EXITING;
	if (i & L2_ICPT_CR8_READ) b |= CPU_BASED_CR8_STORE_EXITING;
	if (i & L2_ICPT_CR8_WRITE) b |= CPU_BASED_CR8_LOAD_EXITING;
	if (i & (L2_ICPT_DR_READ | L2_ICPT_DR_WRITE)) b |= CPU_BASED_MOV_DR_EXITING;
	if (i & L2_ICPT_MSR_BITMAP) b |= CPU_BASED_USE_MSR_BITMAPS;
	if (i & L2_ICPT_IO_BITMAP) b |= CPU_BASED_USE_IO_BITMAPS;
	return b;
}

/* A control the CPU does not allow, by name (SDM table 25-6 / 25-7). */
static enum nvm_status refused(enum vmx_ctl ctl, u32 bits, struct stage_result *r)
{
	unsigned int bit = (unsigned int)__builtin_ctz(bits);
	const char *n = vmx_ctl_bit_name(ctl, bit);

	return stage_fail(r, "the test's intercepts need the %s control \"%s\" (bit %u), which "
			  "the L0's capability MSR does not allow", vmx_ctl_name(ctl), n ? n : "?", bit);
}

enum nvm_status vmx_intercept_setup(struct l2_vcpu *vcpu, struct stage_result *r)
{
	u64 i = vcpu->cfg.intercepts;
	u32 want = proc_bits(i), proc;
	u64 may1 = vmx_caps.ctl[VMX_CTL_PROC] >> 32;

	if (!i)
		return NVM_PASS;
	if (i & (L2_ICPT_CR0_READ | L2_ICPT_CR4_READ | L2_ICPT_CR0_SEL))
		return stage_fail(r, "VMX has no CR0/CR4 read intercept and no selective CR0 write "
				  "(SDM 25.6.6: the guest/host mask and read shadow instead)");
	if (want & ~may1)
		return refused(VMX_CTL_PROC, want & ~(u32)may1, r);
	proc = (u32)icpt_vmread(CPU_BASED_VM_EXEC_CONTROL) | want;
	/* 25.6.4: the bitmaps decide; unconditional I/O exiting is then ignored, drop it. */
	if (i & L2_ICPT_IO_BITMAP) {
		u8 *io = page_alloc(2);
		proc &= ~CPU_BASED_UNCOND_IO_EXITING;
		if (!icpt_vmwrite(IO_BITMAP_A, gpa_of(io)) || !icpt_vmwrite(IO_BITMAP_B, gpa_of(io + 4096)))
			return stage_fail(r, "VMWRITE of IO_BITMAP_A/B failed");
	}
	if ((i & L2_ICPT_MSR_BITMAP) && !icpt_vmwrite(MSR_BITMAP, gpa_of(page_alloc(1))))
		return stage_fail(r, "VMWRITE of MSR_BITMAP failed");
	/* 25.6.2: RDTSCP is #UD in L2 unless "enable RDTSCP"; RDTSC exiting then makes it exit. */
	if (i & L2_ICPT_RDTSCP) {
		u64 may2 = vmx_caps.ctl[VMX_CTL_PROC2] >> 32;
		u32 proc2 = proc & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS ?
			    (u32)icpt_vmread(SECONDARY_VM_EXEC_CONTROL) : 0;
		if (!(may1 & CPU_BASED_ACTIVATE_SECONDARY_CONTROLS))
			return refused(VMX_CTL_PROC, CPU_BASED_ACTIVATE_SECONDARY_CONTROLS, r);
		if (!(may2 & SECONDARY_EXEC_ENABLE_RDTSCP))
			return refused(VMX_CTL_PROC2, SECONDARY_EXEC_ENABLE_RDTSCP, r);
		proc |= CPU_BASED_ACTIVATE_SECONDARY_CONTROLS;
		if (!icpt_vmwrite(SECONDARY_VM_EXEC_CONTROL, proc2 | SECONDARY_EXEC_ENABLE_RDTSCP))
			return stage_fail(r, "VMWRITE of the secondary controls failed");
	}
	if (!icpt_vmwrite(CPU_BASED_VM_EXEC_CONTROL, proc))
		return stage_fail(r, "VMWRITE of the primary processor-based controls 0x%x failed", proc);
	/* 25.6.6: L1 owns the masked bits; L2 reads its initial value from the shadow. */
	if (i & L2_ICPT_CR0_WRITE) {
		u64 mask = vcpu->cfg.cr0_mask ? vcpu->cfg.cr0_mask : ~0ull;
		if (!icpt_vmwrite(CR0_GUEST_HOST_MASK, mask) ||
		    !icpt_vmwrite(CR0_READ_SHADOW, icpt_vmread(GUEST_CR0)))
			return stage_fail(r, "VMWRITE of the CR0 mask/shadow failed");
	}
	if (i & L2_ICPT_CR4_WRITE) {
		u64 mask = vcpu->cfg.cr4_mask ? vcpu->cfg.cr4_mask : ~0ull;
		if (!icpt_vmwrite(CR4_GUEST_HOST_MASK, mask) ||
		    !icpt_vmwrite(CR4_READ_SHADOW, icpt_vmread(GUEST_CR4)))
			return stage_fail(r, "VMWRITE of the CR4 mask/shadow failed");
	}
	TRACE("L1 set the test's intercepts: primary controls 0x%x, CR0 mask 0x%lx, CR4 mask 0x%lx",
	      proc, icpt_vmread(CR0_GUEST_HOST_MASK), icpt_vmread(CR4_GUEST_HOST_MASK));
	return NVM_PASS;
}

void vmx_intercept_decode(struct l2_vcpu *vcpu, u32 basic, struct l2_exit *x)
{
	u64 q = x->info1;

	switch (basic) {
	case EXIT_REASON_RDTSC: x->kind = L2_EXIT_RDTSC; break;
	case EXIT_REASON_RDTSCP: x->kind = L2_EXIT_RDTSCP; break;
	case EXIT_REASON_RDPMC: x->kind = L2_EXIT_RDPMC; break;
	case EXIT_REASON_PAUSE: x->kind = L2_EXIT_PAUSE; break;
	case EXIT_REASON_INVLPG:
		/* 28.2.1: the qualification is the linear address of the operand. */
		x->kind = L2_EXIT_INVLPG;
		x->has_linear = true;
		x->linear = q;
		break;
	case EXIT_REASON_CR_ACCESS: {
		struct vmx_cr_qual c = vmx_cr_qual_decode(q);
		x->kind = L2_EXIT_CR;
		x->cr.n = c.cr;
		x->cr.write = c.type != VMX_CR_MOV_FROM;
		x->cr.type = c.type == VMX_CR_MOV_TO ? L2_CR_MOV_TO : c.type == VMX_CR_MOV_FROM ?
			     L2_CR_MOV_FROM : c.type == VMX_CR_CLTS ? L2_CR_CLTS : L2_CR_LMSW;
		x->cr.gpr = c.type <= VMX_CR_MOV_FROM ? (int8_t)c.gpr : -1;
		x->cr.lmsw = c.lmsw_data;
		break;
	}
	case EXIT_REASON_DR_ACCESS: {
		struct vmx_dr_qual d = vmx_dr_qual_decode(q);
		x->kind = L2_EXIT_DR;
		x->dr.n = d.dr;
		x->dr.write = !d.from;
		x->dr.gpr = (int8_t)d.gpr;
		break;
	}
	case EXIT_REASON_IO_INSTRUCTION: {
		struct vmx_io_qual io = vmx_io_qual_decode(q);
		x->io.port = io.port;
		x->io.size = io.size;
		x->io.in = io.in;
		x->io.string = io.string;
		x->io.rep = io.rep;
		break;
	}
	case EXIT_REASON_MSR_READ:
	case EXIT_REASON_MSR_WRITE:
		x->msr.index = (u32)vcpu->gpr[L2_RCX];
		x->msr.write = basic == EXIT_REASON_MSR_WRITE;
		x->msr.value = x->msr.write ? (vcpu->gpr[L2_RDX] << 32) | (u32)vcpu->gpr[L2_RAX] : 0;
		break;
	default:
		break;
	}
}

bool vmx_msr_intercept(struct l2_vcpu *vcpu, u32 msr, bool read, bool write)
{
	bool covered;

	GUEST_ASSERT(vcpu->cfg.intercepts & L2_ICPT_MSR_BITMAP,
		     "msr_intercept(0x%x) without L2_ICPT_MSR_BITMAP", msr);
	covered = vmx_msr_bitmap_set((u8 *)(uintptr_t)icpt_vmread(MSR_BITMAP), msr, read, write);
	TRACE("MSR bitmap: MSR 0x%x read %s, write %s%s", msr, read ? "exits" : "passes",
	      write ? "exits" : "passes", covered ? "" : " (not covered: always exits)");
	return covered;
}

void vmx_io_intercept(struct l2_vcpu *vcpu, u16 port, bool intercept)
{
	GUEST_ASSERT(vcpu->cfg.intercepts & L2_ICPT_IO_BITMAP,
		     "io_intercept(0x%x) without L2_ICPT_IO_BITMAP", port);
	vmx_io_bitmap_set((u8 *)(uintptr_t)icpt_vmread(IO_BITMAP_A),
			  (u8 *)(uintptr_t)icpt_vmread(IO_BITMAP_B), port, intercept);
	TRACE("I/O bitmap: port 0x%x %s", port, intercept ? "exits" : "passes");
}
