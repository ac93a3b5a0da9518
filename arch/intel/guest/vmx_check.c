// SPDX-License-Identifier: MIT
/*
 * Helpers of the VMX consistency-check and instruction tests (vmx_check.h):
 * the VMX instructions with every RFLAGS status flag set beforehand, so
 * that the flags they must clear are seen cleared (SDM 31.2 "Conventions":
 * VMsucceed clears CF, PF, AF, ZF, SF, OF; VMfailInvalid sets CF only;
 * VMfailValid sets ZF only and writes the VM-instruction error, 31.4), and
 * the row runner for the VM-entry check tables (SDM 27.2-27.4, 27.8).
 */
#include "vmx_check.h"

/*
 * One instruction with all status flags set (the other RFLAGS bits kept),
 * RFLAGS captured right after it, and an exception fixup as ASM_SAFE's.
 */
#define VMX_INSN(insn)                                            \
	"xor %%r10d, %%r10d\n\t"                                  \
	"xor %%r11d, %%r11d\n\t"                                  \
	"pushfq\n\t"                                              \
	"orq $0x8d5, (%%rsp)\n\t"                                 \
	"popfq\n\t"                                               \
	"1: " insn "\n\t"                                         \
	"2:\n\t"                                                  \
	"pushfq\n\t"                                              \
	"popq %[fl]\n\t"                                          \
	".pushsection .fixup_table, \"a\"\n\t"                    \
	".quad 1b, 2b\n\t"                                        \
	".popsection\n\t"

static enum vmx_result vmx_write_first;   /* first failed vmx_check_write of a row */
static u32 vmx_write_first_field;

/* The status flags and, after VMfailValid, the error (read with the flags saved first). */
static struct vmx_insn insn_outcome(u64 fl, struct fault f)
{
	struct vmx_insn o = { VMX_OK, fl, 0, 0 };

	if (f.faulted) {
		o.result = VMX_FAULT;
		o.vector = f.vector;
	} else if (fl & RFLAGS_CF) {
		o.result = VMX_FAIL_INVALID;
	} else if (fl & RFLAGS_ZF) {
		o.result = VMX_FAIL_VALID;
		o.error = vmx_check_read(VM_INSTRUCTION_ERROR);
	}
	return o;
}

u64 vmx_check_read(u32 field)
{
	u64 v = 0;
	u8 bad;

	__asm__ volatile("vmread %[f], %[v]\n\tsetbe %[bad]"
			 : [v] "+r"(v), [bad] "=qm"(bad) : [f] "r"((u64)field) : "cc");
	return bad ? 0 : v;
}

enum vmx_result vmx_check_write(u32 field, u64 value)
{
	struct vmx_insn o = vmx_check_vmwrite(field, value);

	if (o.result != VMX_OK && vmx_write_first == VMX_OK) {
		vmx_write_first = o.result;
		vmx_write_first_field = field;
	}
	return o.result;
}

struct vmx_insn vmx_check_vmread(u32 field, u64 *value)
{
	u64 fl, v = 0;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmread %[f], %[v]")
			 : FAULT_OUTPUTS, [fl] "=r"(fl), [v] "+r"(v)
			 : [f] "r"((u64)field) : "cc", "memory");
	*value = v;
	return insn_outcome(fl, FAULT_RESULT);
}

struct vmx_insn vmx_check_vmwrite(u32 field, u64 value)
{
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmwrite %[v], %[f]")
			 : FAULT_OUTPUTS, [fl] "=r"(fl)
			 : [v] "r"(value), [f] "r"((u64)field) : "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

struct vmx_insn vmx_check_vmclear(u64 pa)
{
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmclear %[pa]") : FAULT_OUTPUTS, [fl] "=r"(fl)
			 : [pa] "m"(pa) : "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

struct vmx_insn vmx_check_vmptrld(u64 pa)
{
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmptrld %[pa]") : FAULT_OUTPUTS, [fl] "=r"(fl)
			 : [pa] "m"(pa) : "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

struct vmx_insn vmx_check_vmxon(u64 pa)
{
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmxon %[pa]") : FAULT_OUTPUTS, [fl] "=r"(fl)
			 : [pa] "m"(pa) : "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

struct vmx_insn vmx_check_vmptrst(u64 *pa)
{
	u64 fl, v = 0;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmptrst %[v]") : FAULT_OUTPUTS, [fl] "=r"(fl), [v] "=m"(v)
			 :: "cc", "memory");
	*pa = v;
	return insn_outcome(fl, FAULT_RESULT);
}

struct vmx_insn vmx_check_vmxoff(void)
{
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("vmxoff") : FAULT_OUTPUTS, [fl] "=r"(fl) :: "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

/* 31.3 INVEPT: descriptor = EPTP, reserved quadword. */
struct vmx_insn vmx_check_invept(u64 type, u64 eptp)
{
	struct { u64 eptp, reserved; } desc = { eptp, 0 };
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("invept %[d], %[t]") : FAULT_OUTPUTS, [fl] "=r"(fl)
			 : [d] "m"(desc), [t] "r"(type) : "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

/* 31.3 INVVPID: descriptor = VPID in bits 15:0, linear address in bits 127:64. */
struct vmx_insn vmx_check_invvpid(u64 type, u16 vpid)
{
	struct { u64 vpid, gla; } desc = { vpid, 0 };
	u64 fl;
	FAULT_REGS;

	__asm__ volatile(VMX_INSN("invvpid %[d], %[t]") : FAULT_OUTPUTS, [fl] "=r"(fl)
			 : [d] "m"(desc), [t] "r"(type) : "cc", "memory");
	return insn_outcome(fl, FAULT_RESULT);
}

/*
 * Through vmx_enter, which copes with both outcomes: a failure falls
 * through (vmx_fail_rflags), a successful entry comes back at the exit.
 */
struct vmx_insn vmx_check_launch(struct l2_vcpu *vcpu, bool resume)
{
	enum vmx_result res = vmx_enter(vcpu->gpr, resume);
	struct vmx_insn o = { res, res == VMX_OK ? vmx_exit_rflags : vmx_fail_rflags, 0, 0 };

	if (res == VMX_FAIL_VALID)
		o.error = vmx_check_read(VM_INSTRUCTION_ERROR);
	return o;
}

const char *vmx_insn_describe(struct vmx_insn o, char *buf, size_t len)
{
	if (o.result == VMX_FAULT)
		snprintf(buf, len, "%s", exception_name(o.vector));
	else if (o.result == VMX_FAIL_VALID)
		snprintf(buf, len, "VMfailValid(%lu: %s), RFLAGS 0x%lx", o.error,
			 vmx_instruction_error_name((u32)o.error) ?: "?", o.rflags);
	else
		snprintf(buf, len, "%s, RFLAGS 0x%lx", vmx_result_name(o.result), o.rflags);
	return buf;
}

const char *vmx_insn_expect(struct vmx_insn o, enum vmx_result want, u64 error, char *buf, size_t len)
{
	u64 flags = want == VMX_FAIL_VALID ? RFLAGS_ZF : want == VMX_FAIL_INVALID ? RFLAGS_CF : 0;
	char got[96];

	if (o.result == want && (want != VMX_FAIL_VALID || o.error == error) &&
	    (o.rflags & RFLAGS_VMX_STATUS) == flags)
		return NULL;
	vmx_insn_describe(o, got, sizeof(got));
	if (want == VMX_FAIL_VALID)
		snprintf(buf, len, "expected VMfailValid(%lu) with only ZF of CF/PF/AF/ZF/SF/OF set, got %s",
			 error, got);
	else
		snprintf(buf, len, "expected %s with status flags 0x%lx, got %s", vmx_result_name(want),
			 flags, got);
	return buf;
}

static void step_failed(struct vmx_steps *s, const char *msg)
{
	s->failed++;
	stage_detail(s->r, "FAIL: %s", msg);
	if (s->failed == 1)
		snprintf(s->first, sizeof(s->first), "%s", msg);
}

void vmx_step(struct vmx_steps *s, const char *what, struct vmx_insn o, enum vmx_result want, u64 err)
{
	char why[160], msg[L1_REASON_MAX];

	s->n++;
	if (!vmx_insn_expect(o, want, err, why, sizeof(why)))
		return;
	snprintf(msg, sizeof(msg), "%s: %s", what, why);
	step_failed(s, msg);
}

void vmx_step_check(struct vmx_steps *s, bool ok, const char *fmt, ...)
{
	char msg[L1_REASON_MAX];
	va_list ap;

	s->n++;
	if (ok)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	step_failed(s, msg);
}

enum nvm_status vmx_steps_end(struct vmx_steps *s)
{
	if (s->failed)
		return stage_fail(s->r, "%u of %u checks failed; first: %s", s->failed, s->n, s->first);
	return NVM_PASS;
}

unsigned int vmx_check_maxphyaddr(void)
{
	u32 c[4];

	cpuid(0x80000008u, 0, c);
	return c[0] & 0xff;
}

/* --- the row runner ---------------------------------------------------------------- */

static const char *expect_name(const struct vmx_check_row *row, char *buf, size_t len)
{
	switch (row->expect) {
	case EXPECT_VMFAIL:
		snprintf(buf, len, "VMfailValid(%u)", row->code);
		break;
	case EXPECT_ENTRY_FAIL:
		snprintf(buf, len, "VM-entry failure exit 0x%x, qualification %lu",
			 row->code | VMX_EXIT_REASON_ENTRY_FAILURE, row->qual);
		break;
	case EXPECT_DONE:
		snprintf(buf, len, "a successful entry, L2 runs to its end");
		break;
	default:
		snprintf(buf, len, "a successful entry, exit reason %u", row->code);
		break;
	}
	return buf;
}

/* NULL when the entry did what the row expects, else what it did instead (in buf). */
static const char *row_outcome(const struct vmx_check_row *row, struct l2_vcpu *vcpu, char *buf,
			       size_t len, struct stage_result *r)
{
	struct l2_exit x;
	bool vmfail, entry_fail;

	if (nested_enter(vcpu, &x, r) != NVM_PASS) {
		snprintf(buf, len, "the entry faulted in L1: %s", r->reason);
		return buf;
	}
	vmfail = x.kind == L2_EXIT_INVALID && !(x.raw & VMX_EXIT_REASON_ENTRY_FAILURE);
	entry_fail = x.kind == L2_EXIT_INVALID && (x.raw & VMX_EXIT_REASON_ENTRY_FAILURE);
	switch (row->expect) {
	case EXPECT_VMFAIL:
		if (vmfail && x.raw == row->code) {
			if ((vmx_fail_rflags & RFLAGS_VMX_STATUS) == RFLAGS_ZF)
				return NULL;
			snprintf(buf, len, "VMfailValid(%lu) but L1's RFLAGS after it 0x%lx (31.2: ZF only)",
				 x.raw, vmx_fail_rflags);
			return buf;
		}
		break;
	case EXPECT_ENTRY_FAIL:
		if (entry_fail && x.raw == (row->code | VMX_EXIT_REASON_ENTRY_FAILURE) &&
		    x.info1 == row->qual) {
			if (vmx_exit_rflags == RFLAGS_RESERVED_1)
				return NULL;
			snprintf(buf, len, "exit 0x%lx but L1's RFLAGS after it 0x%lx (28.5.3: 0x2)",
				 x.raw, vmx_exit_rflags);
			return buf;
		}
		break;
	case EXPECT_EXIT:
		if (x.kind != L2_EXIT_INVALID && VMX_EXIT_REASON_BASIC(x.raw) == row->code &&
		    !(x.raw & VMX_EXIT_REASON_ENTRY_FAILURE))
			return NULL;
		break;
	default:
		if (x.kind == L2_EXIT_HYPERCALL && x.hc.code == L2_HC_DONE)
			return NULL;
		break;
	}
	if (x.kind == L2_EXIT_INVALID)
		snprintf(buf, len, "%s", x.why);
	else
		snprintf(buf, len, "%s exit 0x%lx at RIP 0x%lx (qualification 0x%lx)",
			 l2_exit_kind_name(x.kind), x.raw, x.rip, x.info1);
	if (entry_fail && x.info1 != row->qual) {
		size_t n = strlen(buf);
		snprintf(buf + n, len - n, ", qualification %lu", x.info1);
	}
	return buf;
}

enum nvm_status vmx_check_rows(const struct vmx_check_row *rows, unsigned int n,
			       void (*l2_code)(u64), struct stage_result *r)
{
	unsigned int passed = 0, skipped = 0, failed = 0;
	char first[L1_REASON_MAX];

	first[0] = '\0';
	for (unsigned int i = 0; i < n; i++) {
		const struct vmx_check_row *row = &rows[i];
		struct l2_cfg cfg = { .entry = l2_code, .nested_paging = row->nested_paging };
		struct l2_vcpu vcpu;
		char got[160], want[80];
		const char *why;

		if (row->nested_paging && !(nested_features & NVM_REQ(NESTED_PAGING))) {
			stage_detail(r, "n/a: %s: needs EPT", row->what);
			skipped++;
			continue;
		}
		if (nested->vcpu_reset(&vcpu, &cfg, r) != NVM_PASS)
			return NVM_FAIL;
		vmx_write_first = VMX_OK;
		why = row->apply(&vcpu);
		if (why) {
			stage_detail(r, "n/a: %s: %s", row->what, why);
			skipped++;
			continue;
		}
		if (vmx_write_first != VMX_OK)
			return stage_fail(r, "%s: VMWRITE of field 0x%x failed (%s)", row->what,
					  vmx_write_first_field, vmx_result_name(vmx_write_first));
		why = row_outcome(row, &vcpu, got, sizeof(got), r);
		r->status = NVM_PASS;   /* a failed enter's reason is in got */
		if (!why) {
			passed++;
			continue;
		}
		failed++;
		expect_name(row, want, sizeof(want));
		stage_detail(r, "FAIL: %s: expected %s, got %s", row->what, want, got);
		if (!first[0])
			snprintf(first, sizeof(first), "%s: expected %s, got %s", row->what, want, got);
	}
	stage_detail(r, "%u rows: %u as the SDM says, %u failed, %u n/a", n, passed, failed, skipped);
	if (failed)
		return stage_fail(r, "%u of %u rows failed; first: %s", failed, n - skipped, first);
	if (!passed)
		return stage_skip(r, "none of the %u rows applies on this L0", n);
	return NVM_PASS;
}
