// SPDX-License-Identifier: MIT
/*
 * The VMM's side of L1's message ring (nestvmm/wire.h, vmm/run.c), driven
 * without KVM: this file stands in for vmm/kvm.c and plays an L1 that
 * appends messages to its ring and OUTs the ring's GPA only now and then,
 * as guest/chan.c does. What must hold: batched messages are applied in
 * order, the ring is emptied after each drain, and what L1 left in the ring
 * before a crash, halt or signal reaches the verdict before the VMM judges
 * the end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "kvm.h"
#include "migrate.h"
#include "run.h"
#include "verdict.h"

#define RAM (64u << 10)
#define RING_GPA 0x2000u
#define RING_SIZE 4096u
#define MSG_GPA 0x8000u

/* What L1 does between two KVM_RUN returns: append a message, or stop somehow. */
enum act { APPEND, FLUSH, FLUSH_AT, SEND_SINGLE, SHUTDOWN, SIGNAL, HALT };
struct step { enum act act; uint16_t type; uint32_t arg; uint64_t val0; const char *str0; };

static const struct step *script;
static unsigned int n_steps, next_step;
static struct vm vm;
static struct verdict v;
static uint32_t used_after_drain = 0xdead;

void vcpu_describe(struct vm *m, char *buf, size_t len)
{
	(void)m;
	snprintf(buf, len, "RIP=0x0 (test)");
}

/* vmm/migrate.c stand-in (run.c calls it for host steps, which these scripts never send). */
int vm_migrate(struct vm *m, enum migrate_order order, struct migrate_info *info, char *err)
{
	(void)m, (void)order, (void)info;
	snprintf(err, KVM_ERR_MAX, "no migration in this test");
	cr_assert_fail("vm_migrate called by a ring script");
	return -1;
}

static struct nvm_ring *ring(void)
{
	return (struct nvm_ring *)(vm.mem + RING_GPA);
}

static void put_msg(uint8_t *at, const struct step *s, uint32_t *len)
{
	size_t slen = s->str0 ? strlen(s->str0) : 0;
	struct nvm_msg h = { .magic = NVM_MSG_MAGIC, .type = s->type, .arg = s->arg,
			     .size = (uint16_t)(NVM_MSG_HDR_SIZE + slen),
			     .str_len = { (uint16_t)slen } };

	h.val[0] = s->val0;
	memcpy(at, &h, sizeof(h));
	memcpy(at + NVM_MSG_HDR_SIZE, s->str0 ? s->str0 : "", slen);
	*len = (uint32_t)((NVM_MSG_HDR_SIZE + slen + 7) & ~7ul);
}

static void out(uint16_t port, uint32_t gpa)
{
	struct kvm_run *r = vm.run;

	r->exit_reason = KVM_EXIT_IO;
	r->io.direction = KVM_EXIT_IO_OUT;
	r->io.size = 4;
	r->io.port = port;
	r->io.count = 1;
	r->io.data_offset = 1024;
	memcpy((uint8_t *)r + 1024, &gpa, 4);
}

int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, char *err)
{
	struct kvm_run *r = vm.run;
	(void)fd, (void)arg, (void)name, (void)err;

	cr_assert_eq(req, KVM_RUN);
	used_after_drain = ring()->used;   /* what the VMM left after the last exit */
	/* L1 appends until a step that exits. */
	while (next_step < n_steps && script[next_step].act == APPEND) {
		uint32_t len;

		put_msg(ring()->data + ring()->used, &script[next_step++], &len);
		ring()->used += len;
	}
	if (next_step >= n_steps) {
		r->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	const struct step *s = &script[next_step++];
	uint32_t len;

	switch (s->act) {
	case FLUSH:
		out(NVM_PORT_RING, RING_GPA);
		return 0;
	case FLUSH_AT:
		out(NVM_PORT_RING, (uint32_t)s->arg);
		return 0;
	case SEND_SINGLE:
		put_msg(vm.mem + MSG_GPA, s, &len);
		out(NVM_PORT_MSG, MSG_GPA);
		return 0;
	case SHUTDOWN:
		r->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case SIGNAL:
		raise(SIGTERM);                 /* run.c's handler records it */
		errno = EINTR;
		return -1;
	default:
		r->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
}

static void run_script(const struct step *s, unsigned int n)
{
	script = s, n_steps = n, next_step = 0;
	memset(&vm, 0, sizeof(vm));
	vm.mem_size = RAM;
	vm.mem = calloc(1, RAM);
	vm.run_size = 4096;
	vm.run = calloc(1, vm.run_size);
	vm.vcpu_fd = -1;
	cr_assert(vm.mem && vm.run);
	*ring() = (struct nvm_ring){ .magic = NVM_RING_MAGIC, .size = RING_SIZE };
	verdict_init(&v, "amd");
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "test", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_PASS, "test", NULL);
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		v.stage[i].selected = true;
	cr_assert_eq(run_install_signals(), 0);
	struct run_ctx c = { .vm = &vm, .v = &v, .timeout_s = 0 };
	run_vcpu(&c);
	run_signal_clear();
}

static void teardown(void)
{
	free(vm.mem);
	free(vm.run);
}

#define BEGIN(id) { APPEND, NVM_MSG_STAGE_BEGIN, NVM_STAGE_##id, 0, NULL }
#define END(id, st, why) { APPEND, NVM_MSG_STAGE_END, NVM_STAGE_##id, st, why }

Test(run_ring, a_batch_is_applied_in_order_and_the_ring_emptied, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH },                                   /* the announcement, empty */
		BEGIN(L1_BOOT), { APPEND, NVM_MSG_LOG, 1, 0, "booted" }, END(L1_BOOT, NVM_PASS, "ok"),
		BEGIN(L1_CPUID), END(L1_CPUID, NVM_FAIL, "leaf 1 differs"),
		{ FLUSH },
		{ APPEND, NVM_MSG_DONE }, { FLUSH },
		{ HALT },
	};

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.end, RUN_DONE, "end %d: %s", v.end, v.end_reason);
	cr_expect_eq(v.stage[NVM_STAGE_L1_BOOT].status, NVM_PASS);
	cr_expect_eq(v.stage[NVM_STAGE_L1_CPUID].status, NVM_FAIL);
	cr_expect_str_eq(v.stage[NVM_STAGE_L1_CPUID].reason, "leaf 1 differs");
	cr_expect_eq(used_after_drain, 0, "the VMM left used=%u after draining", used_after_drain);
}

Test(run_ring, a_crash_with_a_begin_still_in_the_ring_names_that_test, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH },
		BEGIN(L1_BOOT), END(L1_BOOT, NVM_PASS, "ok"), { FLUSH },
		BEGIN(L1_CPUID),                             /* never flushed */
		{ SHUTDOWN },
	};

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.end, RUN_SHUTDOWN, "end %d: %s", v.end, v.end_reason);
	cr_expect(strstr(v.end_reason, "in l1.cpuid"), "%s", v.end_reason);
}

Test(run_ring, a_signal_drains_the_ring_first, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH },
		BEGIN(L1_BOOT), END(L1_BOOT, NVM_PASS, "ok"), BEGIN(L1_CPUID),
		{ SIGNAL },
	};

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.end, RUN_INTERRUPTED, "end %d: %s", v.end, v.end_reason);
	cr_expect_eq(v.stage[NVM_STAGE_L1_BOOT].status, NVM_PASS, "the batched END was lost");
	cr_expect(strstr(v.end_reason, "SIGTERM in l1.cpuid"), "%s", v.end_reason);
}

Test(run_ring, a_single_message_comes_after_what_the_ring_holds, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH },
		BEGIN(L1_BOOT),
		{ SEND_SINGLE, NVM_MSG_STAGE_END, NVM_STAGE_L1_BOOT, NVM_PASS, "single" },
		{ HALT },
	};

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.stage[NVM_STAGE_L1_BOOT].status, NVM_PASS,
		     "END by port 0x5e0 was judged before the BEGIN in the ring: %s", v.end_reason);
}

Test(run_ring, a_moved_ring_is_a_protocol_error, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH }, { FLUSH_AT, 0, 0x3000 },
	};

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.end, RUN_PROTOCOL_ERROR, "end %d: %s", v.end, v.end_reason);
	cr_expect(strstr(v.end_reason, "moved its message ring from 0x2000 to 0x3000"), "%s",
		  v.end_reason);
}

Test(run_ring, a_bad_message_in_the_ring_is_named_with_its_offset, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH },
		BEGIN(L1_BOOT), { APPEND, 99, 0, 0, NULL }, { FLUSH },
	};

	char at[32];

	run_script(s, sizeof(s) / sizeof(s[0]));
	/* The bad one follows the BEGIN, a bare header padded to 8 bytes. */
	snprintf(at, sizeof(at), "offset %u of", (NVM_MSG_HDR_SIZE + 7u) & ~7u);
	cr_expect_eq(v.end, RUN_PROTOCOL_ERROR, "end %d: %s", v.end, v.end_reason);
	cr_expect(strstr(v.end_reason, at) && strstr(v.end_reason, "unknown message type 99"),
		  "%s", v.end_reason);
}

Test(run_ring, a_host_step_in_the_ring_is_a_protocol_error, .fini = teardown)
{
	static const struct step s[] = {
		{ FLUSH },
		BEGIN(L1_BOOT), { APPEND, NVM_MSG_STEP, NVM_STAGE_L1_BOOT, 0, "migrate" }, { FLUSH },
	};

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.end, RUN_PROTOCOL_ERROR, "end %d: %s", v.end, v.end_reason);
	cr_expect(strstr(v.end_reason, "host step came through the message ring"), "%s",
		  v.end_reason);
}

Test(run_ring, a_bad_ring_header_is_a_protocol_error, .fini = teardown)
{
	static const struct step s[] = { { FLUSH_AT, 0, 0x2008 } };

	run_script(s, sizeof(s) / sizeof(s[0]));
	cr_expect_eq(v.end, RUN_PROTOCOL_ERROR, "end %d: %s", v.end, v.end_reason);
	cr_expect(strstr(v.end_reason, "bad message ring magic"), "%s", v.end_reason);
}
