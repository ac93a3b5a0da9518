// SPDX-License-Identifier: MIT
/*
 * Regressions found by tests/fuzz/fuzz_run in the VMM's message state
 * machine (vmm/run.c), driven here without KVM: this file stands in for
 * vmm/kvm.c (kvm_ioctl, vcpu_describe) and vmm/migrate.c (vm_migrate), so
 * the archive's kvm.o is not linked, and plays a guest whose exits come from
 * a script. Also: the host-step request (NVM_MSG_STEP) as hostile input.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm.h"
#include "migrate.h"
#include "run.h"
#include "verdict.h"

#define RAM (64u << 10)
#define MSG_GPA 0x1000

struct step { uint16_t type; uint32_t arg; uint64_t val0; const char *str0; };

static const struct step *script;
static unsigned int n_steps, next_step;
static struct vm vm;

void vcpu_describe(struct vm *v, char *buf, size_t len)
{
	(void)v;
	snprintf(buf, len, "RIP=0x0 (test)");
}

/* vm_migrate stand-in: counts calls, fails when told to, else says "SVM, in guest mode". */
static unsigned int migrate_calls;
static bool migrate_fails;
static uint64_t last_vals[NVM_MSG_VALS];   /* a STEP's val[] when the guest ran again after it */

int vm_migrate(struct vm *v, enum migrate_order order, struct migrate_info *info, char *err)
{
	(void)v, (void)order;
	migrate_calls++;
	memset(info, 0, sizeof(*info));
	if (migrate_fails) {
		snprintf(err, KVM_ERR_MAX, "KVM_SET_NESTED_STATE: Invalid argument");
		return -1;
	}
	info->format = KVM_STATE_NESTED_FORMAT_SVM;
	info->flags = KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_GIF_SET;
	info->size = 128 + 4096;
	info->pa = 0x5000;
	info->ncr3 = 0x6000;
	info->l1_cr3 = 0x7000;
	return 0;
}

/*
 * migrate-after-vmrun (vmm/step_singlestep.c): the nested state KVM reports
 * (format, flags; a STEP_DEBUG exit sets the flags to its val0) and the
 * KVM_SET_GUEST_DEBUG calls with single-step on.
 */
#define STEP_DEBUG 0xfffe                      /* script type: a single-step KVM_EXIT_DEBUG */
static uint16_t nested_format, nested_flags, nested_flags_start;
static unsigned int guest_debug_on;

static int kvm_ioctl_other(unsigned long req, void *arg)
{
	if (req == KVM_CHECK_EXTENSION)
		return 128 + 8192;
	if (req == KVM_GET_NESTED_STATE) {
		struct kvm_nested_state *n = arg;
		cr_assert_geq(n->size, 128 + 8192);
		n->format = nested_format;
		n->flags = nested_flags;
		n->size = 128;
		return 0;
	}
	cr_assert_eq(req, KVM_SET_GUEST_DEBUG);
	guest_debug_on += !!(((struct kvm_guest_debug *)arg)->control & KVM_GUESTDBG_SINGLESTEP);
	return 0;
}

int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, char *err)
{
	struct kvm_run *r = vm.run;
	(void)fd, (void)arg, (void)name, (void)err;

	if (req != KVM_RUN)
		return kvm_ioctl_other(req, arg);
	if (next_step && (script[next_step - 1].type == NVM_MSG_STEP ||
			  script[next_step - 1].type == STEP_DEBUG))
		memcpy(last_vals, vm.mem + MSG_GPA + offsetof(struct nvm_msg, val), sizeof(last_vals));

	if (next_step >= n_steps) {
		r->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	const struct step *s = &script[next_step++];
	if (s->type == 0) {                    /* type 0: the guest triple-faults */
		r->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	}
	if (s->type == STEP_DEBUG) {
		nested_flags = (uint16_t)s->val0;
		r->exit_reason = KVM_EXIT_DEBUG;
		r->debug.arch.exception = 1;
		r->debug.arch.dr6 = 0xffff4ff0;
		return 0;
	}
	size_t slen = s->str0 ? strlen(s->str0) : 0;
	struct nvm_msg h = { .magic = NVM_MSG_MAGIC, .type = s->type, .arg = s->arg,
			     .size = (uint16_t)(NVM_MSG_HDR_SIZE + slen),
			     .str_len = { (uint16_t)slen } };
	h.val[0] = s->val0;
	memcpy(vm.mem + MSG_GPA, &h, sizeof(h));
	memcpy(vm.mem + MSG_GPA + NVM_MSG_HDR_SIZE, s->str0 ? s->str0 : "", slen);
	r->exit_reason = KVM_EXIT_IO;
	r->io.direction = KVM_EXIT_IO_OUT;
	r->io.size = 4;
	r->io.port = NVM_PORT_MSG;
	r->io.count = 1;
	r->io.data_offset = 1024;
	uint32_t gpa = MSG_GPA;
	memcpy((uint8_t *)r + 1024, &gpa, 4);
	return 0;
}

/* The verdict with guard bytes on both sides: a stray stage write lands there. */
static struct {
	uint8_t before[sizeof(struct stage) * 2];
	struct verdict v;
	uint8_t after[sizeof(struct stage) * 2];
} g;

static void run_script(const struct step *s, unsigned int n)
{
	script = s, n_steps = n, next_step = 0;
	migrate_calls = 0;
	nested_flags = nested_flags_start;
	guest_debug_on = 0;
	memset(&g, 0, sizeof(g));
	memset(&vm, 0, sizeof(vm));
	vm.mem_size = RAM;
	vm.mem = calloc(1, RAM);
	vm.run_size = 4096;
	vm.run = calloc(1, vm.run_size);
	vm.vcpu_fd = -1;
	cr_assert(vm.mem && vm.run);
	verdict_init(&g.v, "amd");
	/* As in nestvmm: L1 runs only after host.kvm passed (vmm/protocol.c checks L1's needs). */
	verdict_set(&g.v, NVM_STAGE_HOST_KVM, NVM_PASS, "test", NULL);
	verdict_set(&g.v, NVM_STAGE_HOST_NESTED, NVM_PASS, "test", NULL);
	struct run_ctx c = { .vm = &vm, .v = &g.v, .timeout_s = 0 };
	run_vcpu(&c);
	free(vm.mem);
	free(vm.run);
}


static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/*
 * corpus/run/regress-stage-end-minus-one: NVM_MSG_STAGE_END with arg
 * 0xffffffff while no stage is open passed the check "(int)arg != open_stage"
 * (-1 == -1), and verdict_set() wrote the guest's reason and details to
 * v->stage[-1], in front of the verdict: memory corruption a guest controls.
 * Fixed in vmm/run.c: a STAGE_END is refused unless a stage is open and
 * arg names it.
 */
Test(regress_run, stage_end_with_arg_minus_one_is_a_protocol_error)
{
	static const struct step s[] = {
		{ NVM_MSG_LOG, 1, 0, "hello" },
		{ NVM_MSG_STAGE_END, 0xffffffffu, NVM_PASS, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
	};

	run_script(s, 2);
	cr_expect(zero(g.before, sizeof(g.before)), "the guest's STAGE_END wrote before the verdict");
	cr_expect(zero(g.after, sizeof(g.after)));
	cr_expect_eq(g.v.end, RUN_PROTOCOL_ERROR, "end %d: %s", g.v.end, g.v.end_reason);
	verdict_free(&g.v);
}

/* The same message with a stage open, and with an id past the table: refused, nothing written. */
Test(regress_run, stage_end_with_wrong_or_huge_id_is_refused)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STAGE_END, 0xffffffffu, NVM_PASS, "x" },
	};
	static const struct step s2[] = {
		{ NVM_MSG_STAGE_END, NVM_STAGE_COUNT + 5, NVM_PASS, "x" },
	};

	run_script(s, 2);
	cr_expect(zero(g.before, sizeof(g.before)) && zero(g.after, sizeof(g.after)));
	cr_expect_eq(g.v.end, RUN_PROTOCOL_ERROR, "%s", g.v.end_reason);
	verdict_free(&g.v);
	run_script(s2, 1);
	cr_expect(zero(g.before, sizeof(g.before)) && zero(g.after, sizeof(g.after)));
	cr_expect_eq(g.v.end, RUN_PROTOCOL_ERROR, "%s", g.v.end_reason);
	verdict_free(&g.v);
}

/* A clean script still ends in RUN_DONE: the stand-in guest is faithful. */
Test(regress_run, clean_script_is_done)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STAGE_END, NVM_STAGE_L1_BOOT, NVM_PASS, "ok" },
		{ NVM_MSG_DONE, 0, 0, NULL },
	};

	run_script(s, 3);
	cr_assert_eq(g.v.end, RUN_DONE, "%s", g.v.end_reason);
	cr_assert_eq(g.v.stage[NVM_STAGE_L1_BOOT].status, NVM_PASS);
	cr_assert_str_eq(g.v.stage[NVM_STAGE_L1_BOOT].reason, "ok");
	verdict_free(&g.v);
}

/*
 * corpus/run/seed-all-pass-then-triple-fault (fuzz_run's "a broken run never
 * passes"): L1 reports every stage passed, then triple-faults before
 * NVM_MSG_DONE. verdict_finish() finds no pending stage to blame, so the
 * verdict is "pass" and the exit code 0 although the run ended in a crash.
 * Fixed in vmm/verdict.c: the last stage L1 reached takes the failure.
 */
Test(regress_run, crash_after_every_stage_passed_is_not_a_pass)
{
	static struct step s[2 * NVM_STAGE_COUNT + 1];
	unsigned int n = 0;

	for (int i = NVM_STAGE_FIRST_L1; i < NVM_STAGE_COUNT; i++) {
		s[n++] = (struct step){ NVM_MSG_STAGE_BEGIN, (uint32_t)i, 0, NULL };
		s[n++] = (struct step){ NVM_MSG_STAGE_END, (uint32_t)i, NVM_PASS, "ok" };
	}
	s[n++] = (struct step){ 0, 0, 0, NULL };
	run_script(s, n);
	cr_assert_eq(g.v.end, RUN_SHUTDOWN, "%s", g.v.end_reason);
	verdict_finish(&g.v);
	cr_expect_neq(verdict_exit_code(&g.v), EXIT_PASS, "L1 triple-faulted, yet the exit code is 0");
	verdict_free(&g.v);
}

/* --- host steps (NVM_MSG_STEP) ------------------------------------------------- */

/* A step for the test in progress, naming a known action: performed, the reply written back. */
Test(step, migrate_in_the_open_test_is_performed_and_answered)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0x1234, "migrate" },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0x1235, "migrate" },
		{ NVM_MSG_STAGE_END, NVM_STAGE_L1_BOOT, NVM_PASS, "ok" },
		{ NVM_MSG_DONE, 0, 0, NULL },
	};

	run_script(s, 5);
	cr_assert_eq(g.v.end, RUN_DONE, "%s", g.v.end_reason);
	cr_expect_eq(migrate_calls, 2);
	verdict_free(&g.v);
}

/* The reply: the sequence number and the nested-state header, the nonce untouched. */
Test(step, reply_lands_in_the_message)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0x1234, "migrate" },
		{ NVM_MSG_LOG, 1, 0, "after" },
	};

	run_script(s, 3);
	cr_expect_eq(last_vals[NVM_STEP_NONCE], 0x1234);
	cr_expect_eq(last_vals[NVM_STEP_SEQ], 1);
	cr_expect_eq(last_vals[NVM_STEP_FLAGS], KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_GIF_SET);
	cr_expect_eq(last_vals[NVM_STEP_SIZE], 128 + 4096);
	cr_expect_eq(last_vals[NVM_STEP_PA], 0x5000);
	cr_expect_eq(last_vals[NVM_STEP_NCR3], 0x6000);
	cr_expect_eq(last_vals[NVM_STEP_L1_CR3], 0x7000);
	verdict_free(&g.v);
}

static void expect_refused(const struct step *s, unsigned int n, const char *needle)
{
	run_script(s, n);
	cr_expect_eq(g.v.end, RUN_PROTOCOL_ERROR, "end %d: %s", g.v.end, g.v.end_reason);
	cr_expect(strstr(g.v.end_reason, needle), "reason \"%s\" lacks \"%s\"", g.v.end_reason, needle);
	cr_expect_eq(migrate_calls, 0, "a refused step was performed");
	verdict_free(&g.v);
}

Test(step, outside_a_test_is_refused)
{
	static const struct step s[] = { { NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate" } };

	expect_refused(s, 1, "\"migrate\" for test 2 (l1.boot) outside any test");
}

Test(step, for_another_test_is_refused)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_CPUID, 0, "migrate" },
	};
	static const struct step s2[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, 0xffffffffu, 0, "migrate" },
	};

	expect_refused(s, 2, "for test 3 (l1.cpuid) while l1.boot is running");
	expect_refused(s2, 2, "for test 4294967295 (no such test) while l1.boot is running");
}

Test(step, unknown_action_is_refused_by_name)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "reboot\x01" },
	};
	static const struct step s2[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migratemigratemigratemigratemigratemigrate" },
	};
	static const struct step s3[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, NULL },
	};

	expect_refused(s, 2, "unknown action \"reboot?\"");
	expect_refused(s2, 2, "unknown action \"migratemigratemigratemigratemigr...\"");
	expect_refused(s3, 2, "unknown action \"\"");
}

Test(step, after_done_is_refused)
{
	static const struct step s[] = {
		{ NVM_MSG_DONE, 0, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate" },
	};

	expect_refused(s, 2, "after DONE");
}

/* A save/restore that fails ends the run naming the ioctl; the test in progress takes it. */
Test(step, failed_migration_names_the_ioctl)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate" },
	};

	migrate_fails = true;
	run_script(s, 2);
	migrate_fails = false;
	cr_expect_eq(g.v.end, RUN_KVM_ERROR, "%s", g.v.end_reason);
	cr_expect(strstr(g.v.end_reason, "host step migrate (save/restore 1) in l1.boot failed: "
			 "KVM_SET_NESTED_STATE: Invalid argument"), "%s", g.v.end_reason);
	verdict_free(&g.v);
}

/* migrate-after-vmrun: armed in L1, performed at the single step that finds guest mode. */
Test(step, migrate_after_vmrun_at_guest_mode)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate-after-vmrun" },
		{ STEP_DEBUG, 0, 0, NULL },
		{ STEP_DEBUG, 0, KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_RUN_PENDING, NULL },
	};

	nested_format = KVM_STATE_NESTED_FORMAT_SVM;
	run_script(s, 4);
	cr_expect_eq(g.v.end, RUN_HALTED_EARLY, "end %d: %s", g.v.end, g.v.end_reason);
	cr_expect_eq(migrate_calls, 2, "two save/restores in the window, %u made", migrate_calls);
	cr_expect_eq(guest_debug_on, 2, "single-step on for the two KVM_RUNs, %u", guest_debug_on);
	/* The second reply, in the same message (vm_migrate's stand-in says 0x101 both times). */
	cr_expect_eq(last_vals[NVM_STEP_SEQ], 2);
	cr_expect_eq(last_vals[NVM_STEP_FLAGS], 0x101 | 0x101ull << NVM_STEP_FLAGS_SECOND_SHIFT);
	cr_expect_eq(last_vals[NVM_STEP_PA], 0x5000);
	verdict_free(&g.v);
}

Test(step, migrate_after_vmrun_out_of_place_is_refused)
{
	static const struct step twice[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate-after-vmrun" },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate-after-vmrun" },
	};
	static const struct step ended[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate-after-vmrun" },
		{ STEP_DEBUG, 0, 0, NULL },
		{ NVM_MSG_STAGE_END, NVM_STAGE_L1_BOOT, NVM_PASS, NULL },
	};
	static const struct step one[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate-after-vmrun" },
	};

	nested_format = KVM_STATE_NESTED_FORMAT_SVM;
	expect_refused(twice, 3, "one migrate-after-vmrun at a time");
	expect_refused(ended, 4, "l1.boot passed after 1 single steps of L1 without a VMRUN entering");
	nested_format = KVM_STATE_NESTED_FORMAT_VMX;
	expect_refused(one, 2, "is SVM only");
	/* Asked in guest mode (from L2): the stand-in reports GUEST_MODE from the start. */
	nested_format = KVM_STATE_NESTED_FORMAT_SVM;
	nested_flags_start = KVM_STATE_NESTED_GUEST_MODE;
	expect_refused(one, 2, "asked with the vCPU in guest mode");
	nested_flags_start = 0;
}

/* A test that fails while armed keeps its own verdict: the step is dropped, the run goes on. */
Test(step, migrate_after_vmrun_dropped_when_the_test_fails)
{
	static const struct step s[] = {
		{ NVM_MSG_STAGE_BEGIN, NVM_STAGE_L1_BOOT, 0, NULL },
		{ NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate-after-vmrun" },
		{ NVM_MSG_STAGE_END, NVM_STAGE_L1_BOOT, NVM_FAIL, NULL },
		{ NVM_MSG_DONE, 0, 0, NULL },
	};

	nested_format = KVM_STATE_NESTED_FORMAT_SVM;
	run_script(s, 4);
	cr_expect_eq(g.v.end, RUN_DONE, "end %d: %s", g.v.end, g.v.end_reason);
	cr_expect_eq(g.v.stage[NVM_STAGE_L1_BOOT].status, NVM_FAIL);
	cr_expect_eq(migrate_calls, 0);
	verdict_free(&g.v);
}
