// SPDX-License-Identifier: MIT
/*
 * The intercepts of guest/intercept.h for AMD SVM: l2_cfg.intercepts into
 * the VMCB's intercept vectors (APM 15.8 "Intercept Operation", 15.9
 * "Instruction Intercepts", 15.10 "IOIO Intercepts", 15.11 "MSR
 * Intercepts"), and the matching #VMEXITs decoded into struct l2_exit.
 *
 * Without decode assists (15.33) EXITINFO1 of a CR/DR/INVLPG intercept is
 * not defined: the GPR (cr.gpr, dr.gpr) and the INVLPG address are then
 * reported as unknown. Without NRIPS there is no nRIP: L1 decodes the
 * length of the intercepted instruction from L2's code, as a hypervisor
 * without NRIPS must (svm_insn_len_decode).
 */
#include "l2.h"
#include "nested.h"
#include "svm_guest.h"
#include "svm_intercept.h"
#include "nestvmm/svm.h"
#include "nestvmm/svm_intercept.h"

/* After svm_vmcb_build: the test's intercepts on top of the fixed ones. */
void svm_intercept_setup(struct l2_vcpu *vcpu)
{
	struct vmcb_control_area *c = &((struct vmcb *)vcpu->vendor)->control;
	u64 i = vcpu->cfg.intercepts;

	if (!i)
		return;
	if (i & L2_ICPT_CPUID)
		c->intercept_misc1 |= SVM_INTERCEPT_CPUID;
	if (i & L2_ICPT_RDTSC)
		c->intercept_misc1 |= SVM_INTERCEPT_RDTSC;
	if (i & L2_ICPT_RDTSCP)
		c->intercept_misc2 |= SVM_INTERCEPT_RDTSCP;
	if (i & L2_ICPT_RDPMC)
		c->intercept_misc1 |= SVM_INTERCEPT_RDPMC;
	if (i & L2_ICPT_INVLPG)
		c->intercept_misc1 |= SVM_INTERCEPT_INVLPG;
	if (i & L2_ICPT_PAUSE) {
		/* 15.14.4: with the pause filter, a count of 0 intercepts the first PAUSE. */
		c->intercept_misc1 |= SVM_INTERCEPT_PAUSE;
		c->pause_filter_count = 0;
	}
	if (i & L2_ICPT_CR0_SEL)
		c->intercept_misc1 |= SVM_INTERCEPT_CR0_SEL_WRITE;
	/* 15.8.1: one read and one write bit per CR. */
	if (i & L2_ICPT_CR0_READ) c->intercept_cr |= SVM_INTERCEPT_CR_READ(0);
	if (i & L2_ICPT_CR0_WRITE) c->intercept_cr |= SVM_INTERCEPT_CR_WRITE(0);
	if (i & L2_ICPT_CR3_READ) c->intercept_cr |= SVM_INTERCEPT_CR_READ(3);
	if (i & L2_ICPT_CR3_WRITE) c->intercept_cr |= SVM_INTERCEPT_CR_WRITE(3);
	if (i & L2_ICPT_CR4_READ) c->intercept_cr |= SVM_INTERCEPT_CR_READ(4);
	if (i & L2_ICPT_CR4_WRITE) c->intercept_cr |= SVM_INTERCEPT_CR_WRITE(4);
	if (i & L2_ICPT_CR8_READ) c->intercept_cr |= SVM_INTERCEPT_CR_READ(8);
	if (i & L2_ICPT_CR8_WRITE) c->intercept_cr |= SVM_INTERCEPT_CR_WRITE(8);
	/* 15.8.2: DR0-DR7, reads in 7:0, writes in 23:16. */
	if (i & L2_ICPT_DR_READ) c->intercept_dr |= 0xffu;
	if (i & L2_ICPT_DR_WRITE) c->intercept_dr |= 0xffu << 16;
	/* 15.11: MSR_PROT with an empty MSRPM: only MSRs the test marks (and
	 * those the MSRPM does not cover) exit. */
	if (i & L2_ICPT_MSR_BITMAP)
		c->intercept_misc1 |= SVM_INTERCEPT_MSR_PROT;
	/* 15.10: IOIO_PROT with an empty IOPM: only ports the test marks exit. */
	if (i & L2_ICPT_IO_BITMAP) {
		svm_iopm_init((u8 *)(uintptr_t)c->iopm_base_pa, false);
		c->intercept_misc1 |= SVM_INTERCEPT_IOIO_PROT;
	}
	TRACE("L1 set the test's intercepts: CR=0x%x DR=0x%x misc1=0x%x misc2=0x%x",
	      c->intercept_cr, c->intercept_dr, c->intercept_misc1, c->intercept_misc2);
}

/* Instruction intercepts whose length L1 decodes when there is no nRIP. */
static bool insn_intercept(u64 code)
{
	return code < VMEXIT_EXCP0 || code == VMEXIT_CR0_SEL_WRITE || code == VMEXIT_RDTSC ||
	       code == VMEXIT_RDPMC || code == VMEXIT_CPUID || code == VMEXIT_PAUSE ||
	       code == VMEXIT_INVLPG || code == VMEXIT_MSR || code == VMEXIT_RDTSCP;
}

void svm_intercept_decode(struct l2_vcpu *vcpu, struct l2_exit *x)
{
	u64 code = x->raw, e1 = x->info1;
	bool da = svm_caps.features & SVM_CPUID_EDX_DECODE_ASSISTS;

	if (!x->insn_len && insn_intercept(code))
		x->insn_len = svm_insn_len_decode((const u8 *)(uintptr_t)x->rip, 15);

	if (code < VMEXIT_DR0_READ) {
		/* VMEXIT_CRn_READ / _WRITE; with decode assists bit 63: MOV (GPR in 3:0). */
		x->kind = L2_EXIT_CR;
		x->cr.n = code & 15;
		x->cr.write = code >= VMEXIT_CR0_WRITE;
		x->cr.gpr = -1;
		x->cr.type = L2_CR_UNKNOWN;
		if (da && (e1 & SVM_EXITINFO1_CR_MOV)) {
			x->cr.gpr = (int8_t)(e1 & SVM_EXITINFO1_GPR_MASK);
			x->cr.type = x->cr.write ? L2_CR_MOV_TO : L2_CR_MOV_FROM;
		}
	} else if (code < VMEXIT_EXCP0) {
		x->kind = L2_EXIT_DR;
		x->dr.n = code & 15;
		x->dr.write = code >= VMEXIT_DR0_WRITE;
		x->dr.gpr = da ? (int8_t)(e1 & SVM_EXITINFO1_GPR_MASK) : -1;
	} else if (code == VMEXIT_CR0_SEL_WRITE) {
		x->kind = L2_EXIT_CR;
		x->cr.n = 0;
		x->cr.write = true;
		x->cr.selective = true;
		x->cr.gpr = da && (e1 & SVM_EXITINFO1_CR_MOV) ? (int8_t)(e1 & SVM_EXITINFO1_GPR_MASK) : -1;
		x->cr.type = x->cr.gpr >= 0 ? L2_CR_MOV_TO : L2_CR_UNKNOWN;
	} else if (code == VMEXIT_RDTSC) {
		x->kind = L2_EXIT_RDTSC;
	} else if (code == VMEXIT_RDTSCP) {
		x->kind = L2_EXIT_RDTSCP;
	} else if (code == VMEXIT_RDPMC) {
		x->kind = L2_EXIT_RDPMC;
	} else if (code == VMEXIT_PAUSE) {
		x->kind = L2_EXIT_PAUSE;
	} else if (code == VMEXIT_INVLPG) {
		/* 15.33.2: the linear address, with decode assists only. */
		x->kind = L2_EXIT_INVLPG;
		x->has_linear = da;
		x->linear = da ? e1 : 0;
	} else if (code == VMEXIT_MSR) {
		/* 15.11: EXITINFO1 0 = RDMSR, 1 = WRMSR; ECX, EDX:EAX are L2's. */
		x->msr.index = (u32)vcpu->gpr[L2_RCX];
		x->msr.write = e1 & 1;
		x->msr.value = x->msr.write ? (vcpu->gpr[L2_RDX] << 32) | (u32)vcpu->gpr[L2_RAX] : 0;
	} else if (code == VMEXIT_IOIO) {
		struct svm_ioio io = svm_ioio_decode(e1);

		x->io.port = io.port;
		x->io.size = io.size;
		x->io.in = io.in;
		x->io.string = io.string;
		x->io.rep = io.rep;
	}
}

bool svm_msr_intercept(struct l2_vcpu *vcpu, u32 msr, bool read, bool write)
{
	const struct vmcb_control_area *c = &((struct vmcb *)vcpu->vendor)->control;
	bool covered;

	GUEST_ASSERT(vcpu->cfg.intercepts & L2_ICPT_MSR_BITMAP,
		     "msr_intercept(0x%x) without L2_ICPT_MSR_BITMAP", msr);
	covered = svm_msrpm_set((u8 *)(uintptr_t)c->msrpm_base_pa, msr, read, write);
	TRACE("MSRPM: MSR 0x%x read %s, write %s%s", msr, read ? "exits" : "passes",
	      write ? "exits" : "passes", covered ? "" : " (not covered by the MSRPM: always exits)");
	return covered;
}

void svm_io_intercept(struct l2_vcpu *vcpu, u16 port, bool intercept)
{
	const struct vmcb_control_area *c = &((struct vmcb *)vcpu->vendor)->control;

	GUEST_ASSERT(vcpu->cfg.intercepts & L2_ICPT_IO_BITMAP,
		     "io_intercept(0x%x) without L2_ICPT_IO_BITMAP", port);
	svm_iopm_set((u8 *)(uintptr_t)c->iopm_base_pa, port, intercept);
	TRACE("IOPM: port 0x%x %s", port, intercept ? "exits" : "passes");
}
