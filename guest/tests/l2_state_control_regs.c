// SPDX-License-Identifier: MIT
/*
 * l2.state.control-regs: after an exit, L2's CR0, CR2, CR3, CR4 and EFER in
 * the VMCB/VMCS are the values L2 itself last wrote, and the next entry
 * gives them back to L2 (APM vol. 2, 15.6 "#VMEXIT": the guest's CR0, CR2,
 * CR3, CR4 and EFER are saved into the VMCB; SDM vol. 3C, 28.3.1.1 "Saving
 * Control Registers, Debug Registers, and MSRs": CR0, CR3, CR4, IA32_EFER
 * with "save IA32_EFER"; CR2 is not a VMCS field and a VM exit leaves it,
 * so L1 reads L2's CR2 in its own register).
 *
 * L2 changes every one first, so that a stale copy of what L1 put there
 * cannot pass: it toggles CR0.TS/MP/WP, writes CR2, moves to its own copy of
 * the top-level page table (CR3), toggles CR4.TSD/DE and EFER.SCE/NXE, then
 * makes a hypercall. L1 compares the exit's state with what L2 read back
 * and with what L2 started from; after the resume L2 checks that its
 * registers still hold its values (VMRUN / VM entry loaded them again).
 */
#include "test.h"

#define CR0_TS     (1ull << 3)
#define CR4_TSD    (1ull << 2)
#define CR4_DE     (1ull << 3)
#define L2_CR2     0x00005a5ac2c2f00dull
#define HC_CHECK   L2_HC_USER

/* What L2 wrote and read back; L1 compares the exit's state with it. */
static struct {
	u64 pml4;            /* L1: a page for L2's copy of the top-level table */
	u64 cr0, cr2, cr3, cr4, efer;
} volatile want;

static inline void l2_write_cr0(u64 v) { __asm__ volatile("mov %0, %%cr0" :: "r"(v) : "memory"); }
static inline void l2_write_cr2(u64 v) { __asm__ volatile("mov %0, %%cr2" :: "r"(v) : "memory"); }
static inline void l2_write_cr3(u64 v) { __asm__ volatile("mov %0, %%cr3" :: "r"(v) : "memory"); }

static void l2_code(u64 unused)
{
	u64 cr3 = read_cr3();

	(void)unused;
	memcpy((void *)(uintptr_t)want.pml4, (const void *)(uintptr_t)(cr3 & ~0xfffull), 4096);
	l2_write_cr0(read_cr0() ^ (CR0_TS | CR0_MP | CR0_WP));
	l2_write_cr2(L2_CR2);
	l2_write_cr3(want.pml4 | (cr3 & 0xfff));
	write_cr4(read_cr4() ^ (CR4_TSD | CR4_DE));
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) ^ (EFER_SCE | EFER_NXE));
	want.cr0 = read_cr0();
	want.cr2 = read_cr2();
	want.cr3 = read_cr3();
	want.cr4 = read_cr4();
	want.efer = rdmsr(MSR_EFER);
	l2_hypercall(HC_CHECK, 0, 0, 0);
	/* The entry after the check loaded L2's own values again. */
	L2_ASSERT(read_cr0() == want.cr0, "CR0=0x%lx after the re-entry, L2 wrote 0x%lx", read_cr0(), want.cr0);
	L2_ASSERT(read_cr3() == want.cr3, "CR3=0x%lx after the re-entry, L2 wrote 0x%lx", read_cr3(), want.cr3);
	L2_ASSERT(read_cr4() == want.cr4, "CR4=0x%lx after the re-entry, L2 wrote 0x%lx", read_cr4(), want.cr4);
	L2_ASSERT(rdmsr(MSR_EFER) == want.efer, "EFER=0x%lx after the re-entry, L2 wrote 0x%lx",
		  rdmsr(MSR_EFER), want.efer);
	L2_ASSERT(read_cr2() == want.cr2, "CR2=0x%lx after the re-entry, L2 wrote 0x%lx", read_cr2(), want.cr2);
}

/* One register: L2 changed it, and the exit saved L2's value. */
static enum nvm_status check(const char *name, u32 saved, u32 group, u64 got, u64 l2, u64 before,
			     struct stage_result *r)
{
	if (!(saved & group))
		return stage_fail(r, "the vendor code says the exit does not save %s", name);
	if (l2 == before)
		return stage_fail(r, "L2 did not change %s (still 0x%lx): the test proves nothing", name, l2);
	if (got != l2)
		return stage_fail(r, "after the exit L2's %s in the %s is 0x%lx, expected 0x%lx (what L2 "
				  "wrote; 0x%lx at the entry)", name,
				  group == L2_ST_CR2 && nested->virt[0] == 'V' ? "CPU (VMX: no field)" :
				  nested->virt[0] == 'S' ? "VMCB" : "VMCS", got, l2, before);
	return NVM_PASS;
}

NVM_TEST(L2_STATE_CONTROL_REGS)
{
	struct l2_vcpu vcpu;
	struct l2_cfg cfg = { .entry = l2_code };
	struct l2_state before, after;
	struct l2_exit x;

	want.pml4 = gpa_of(page_alloc(1));
	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS ||
	    nested->state_save_all(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	nested->state_get(&vcpu, &before);
	if (nested_enter(&vcpu, &x, r) != NVM_PASS)
		return NVM_FAIL;
	if (x.kind != L2_EXIT_HYPERCALL || x.hc.code != HC_CHECK)
		return nested_unexpected(&vcpu, &x, "L2's hypercall after changing its control registers", r);
	nested->state_get(&vcpu, &after);
	if (check("CR0", after.saved, L2_ST_CR, after.cr0, want.cr0, before.cr0, r) != NVM_PASS ||
	    check("CR2", after.saved, L2_ST_CR2, after.cr2, want.cr2, before.cr2, r) != NVM_PASS ||
	    check("CR3", after.saved, L2_ST_CR, after.cr3, want.cr3, before.cr3, r) != NVM_PASS ||
	    check("CR4", after.saved, L2_ST_CR, after.cr4, want.cr4, before.cr4, r) != NVM_PASS ||
	    check("EFER", after.saved, L2_ST_EFER, after.efer, want.efer, before.efer, r) != NVM_PASS) {
		nested->describe(&vcpu, r);
		return NVM_FAIL;
	}
	nested->skip_insn(&vcpu, &x);
	if (nested_run_to_done(&vcpu, r) != NVM_PASS)
		return NVM_FAIL;
	return stage_pass(r, "L2's CR0=0x%lx CR2=0x%lx CR3=0x%lx CR4=0x%lx EFER=0x%lx saved at the exit "
			  "and loaded again at the entry", after.cr0, after.cr2, after.cr3, after.cr4,
			  after.efer);
}
