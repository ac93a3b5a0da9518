// SPDX-License-Identifier: MIT
/*
 * l2.check.svm.valid-unusual: VMCB settings that AMD APM vol. 2, 15.5.1
 * allows but that an over-strict VMRUN check would refuse. Each row takes
 * a VMCB that enters, changes one thing within the rules, and must still
 * run L2 to its DONE hypercall (no VMEXIT_INVALID, no other exit):
 *
 *  - CR0.CD=1 with NW=0, and CD=1 with NW=1 (only CD=0 with NW=1 is
 *    illegal, 15.5.1);
 *  - DR6=0 and DR7 with only the LE/GE bits: only DR6[63:32]/DR7[63:32]
 *    must be zero (15.5.1);
 *  - the largest ASID the L0 offers, CPUID 8000_000Ah:EBX - 1 (15.16: only
 *    ASID 0 is the host's);
 *  - a null ES (selector 0, attributes 0) and an expand-down DS: 64-bit
 *    mode ignores both (APM vol. 2, 4.8), VMRUN checks no data segment;
 *  - an MSRPM and an IOPM that end on the last byte below MAXPHYADDR (the
 *    rule is "extends to an address >= the maximum", 15.5.1), with
 *    MSR_PROT/IOIO_PROT off so neither is read;
 *  - an MSRPM base 8 KiB below MAXPHYADDR with bits 11:0 set: they are
 *    ignored (appendix B, table B-1, MSRPM_BASE_PA "bits 11:0 are
 *    ignored"), so the map still ends below the limit; a check that
 *    rounded the base up instead would refuse it;
 *  - L2 in flat 32-bit protected mode with paging off, and in real mode
 *    (EFER.LME=0, CR0.PG=0; 15.5.1 only constrains long mode): L2 runs
 *    a VMMCALL and exits with it at the RIP L1 gave.
 */
#include "test.h"
#include "../svm_check.h"

#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)

struct valid_row {
	const char *what;
	void (*apply)(struct l2_vcpu *vcpu, struct vmcb *v, u32 maxphyaddr);
	bool stub;   /* L2 runs svm_check_l2_vmmcall: expect VMMCALL at vcpu->rip, not DONE */
};

static void cd_no_nw(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; (void)m; v->save.cr0 = (v->save.cr0 | CR0_CD) & ~CR0_NW; }
static void cd_nw(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; (void)m; v->save.cr0 |= CR0_CD | CR0_NW; }
static void dr6_dr7(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; (void)m; v->save.dr6 = 0; v->save.dr7 = 0x700; }
static void asid_max(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; (void)m; v->control.guest_asid = svm_caps.nasid - 1; }
static void es_null(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; (void)m; v->save.es = (struct vmcb_seg){ 0 }; }
static void ds_expand_down(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; (void)m; v->save.ds.attrib = (v->save.ds.attrib & ~SVM_SEG_TYPE_MASK) | 0x7; v->save.ds.limit = 0; }
static void maps_at_limit(struct l2_vcpu *vcpu, struct vmcb *v, u32 m)
{
	(void)vcpu;
	v->control.msrpm_base_pa = (1ull << m) - SVM_MSRPM_SIZE;
	v->control.iopm_base_pa = (1ull << m) - SVM_IOPM_SIZE;
}
/* Bits 11:0 are ignored, not rounded up: the map still ends at MAXPHYADDR - 1. */
static void msrpm_low_bits(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)vcpu; v->control.msrpm_base_pa = ((1ull << m) - SVM_MSRPM_SIZE) | 0xfff; }

/*
 * L2 outside long mode (EFER.LME=LMA=0, CR0.PG=0): VMRUN loads the hidden
 * segment state from the VMCB, so flat 32-bit protected mode and real mode
 * (CS.base = the stub's 64 KiB block) need no descriptor of their own. The
 * stub's bytes (VMMCALL, PAUSE, JMP rel8) mean the same in 16/32/64-bit code.
 */
static void legacy_mode(struct l2_vcpu *vcpu, struct vmcb *v, bool real)
{
	u64 stub = gpa_of(svm_check_l2_vmmcall);

	v->save.efer &= ~(u64)(EFER_LME | EFER_LMA);
	v->save.cr0 &= ~(u64)(CR0_PG | (real ? CR0_PE : 0));
	v->save.cs.attrib = real ? 0x009b : 0x0c9b;          /* code, P; 32-bit: D, G */
	v->save.cs.limit = real ? 0xffff : 0xffffffff;
	v->save.cs.base = real ? stub & ~0xffffull : 0;
	v->save.cs.selector = real ? (u16)(v->save.cs.base >> 4) : v->save.cs.selector;
	vcpu->rip = real ? stub & 0xffff : stub;
}
static void prot32_nopaging(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)m; legacy_mode(vcpu, v, false); }
static void real_mode(struct l2_vcpu *vcpu, struct vmcb *v, u32 m) { (void)m; legacy_mode(vcpu, v, true); }

static const struct valid_row rows[] = {
	{ "CR0.CD=1, NW=0", cd_no_nw, false },
	{ "CR0.CD=1, NW=1", cd_nw, false },
	{ "DR6=0, DR7=0x700", dr6_dr7, false },
	{ "ASID = CPUID 8000_000Ah:EBX - 1", asid_max, false },
	{ "ES null (selector 0, attributes 0)", es_null, false },
	{ "DS expand-down, limit 0", ds_expand_down, false },
	{ "MSRPM and IOPM end at MAXPHYADDR - 1", maps_at_limit, false },
	{ "MSRPM base MAXPHYADDR - 8 KiB with bits 11:0 set", msrpm_low_bits, false },
	{ "L2 in 32-bit protected mode, paging off", prot32_nopaging, true },
	{ "L2 in real mode", real_mode, true },
};

static void l2_code(u64 unused)
{
	(void)unused;
}

NVM_TEST(L2_CHECK_SVM_VALID_UNUSUAL)
{
	struct l2_vcpu vcpu, saved_vcpu;
	/* IOIO_PROT (and MSR_PROT) off: the maps are checked, never read. */
	struct l2_cfg cfg = { .entry = l2_code, .io_passthrough = true };
	struct vmcb *saved = page_alloc(1);
	u32 maxphy = svm_maxphyaddr(), failed = 0;
	char first[L1_REASON_MAX] = "";

	if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
		return NVM_FAIL;
	memcpy(saved, vcpu.vendor, sizeof(*saved));
	saved_vcpu = vcpu;

	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct l2_exit x;
		char buf[L1_REASON_MAX];

		memcpy(vcpu.vendor, saved, sizeof(*saved));
		vcpu = saved_vcpu;
		rows[i].apply(&vcpu, vcpu.vendor, maxphy);
		if (rows[i].stub) {
			u64 want = vcpu.rip;

			if (nested->enter(&vcpu, &x, r) != NVM_PASS)
				snprintf(buf, sizeof(buf), "%s: %s", rows[i].what, r->reason);
			else if (x.raw == VMEXIT_VMMCALL && x.rip == want)
				continue;
			else
				snprintf(buf, sizeof(buf), "%s: exit 0x%lx (%s) at L2 RIP=0x%lx, expected "
					 "VMMCALL at 0x%lx", rows[i].what, x.raw, l2_exit_kind_name(x.kind),
					 x.rip, want);
		} else if (nested_enter(&vcpu, &x, r) != NVM_PASS)
			snprintf(buf, sizeof(buf), "%s: %s", rows[i].what, r->reason);
		else if (x.kind == L2_EXIT_HYPERCALL && x.hc.code == L2_HC_DONE)
			continue;
		else if (x.kind == L2_EXIT_INVALID)
			snprintf(buf, sizeof(buf), "%s: VMRUN refused it (VMEXIT_INVALID), expected L2 to run",
				 rows[i].what);
		else
			snprintf(buf, sizeof(buf), "%s: exit 0x%lx (%s) at L2 RIP=0x%lx, expected L2's DONE",
				 rows[i].what, x.raw, l2_exit_kind_name(x.kind), x.rip);
		stage_detail(r, "row %u %s", i, buf);
		if (!failed++)
			memcpy(first, buf, sizeof(first));
	}
	if (failed)
		return stage_fail(r, "%u of %u legal VMCBs refused or broken: %s", failed,
				  (u32)(sizeof(rows) / sizeof(rows[0])), first);
	return stage_pass(r, "%u unusual but legal VMCBs (APM 15.5.1) entered; L2 ran to DONE (to its "
			  "VMMCALL outside long mode)",
			  (u32)(sizeof(rows) / sizeof(rows[0])));
}
