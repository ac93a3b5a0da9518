// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the VMM's message state machine, driven end to end
 * without KVM. vmm/run.c is linked as is; this file stands in for vmm/kvm.c
 * (kvm_ioctl, vcpu_describe) and plays a guest whose every exit comes from
 * the input. After the run: verdict_finish(), the exit code, and both
 * formats rendered, so hostile strings pass through the renderers too.
 *
 * Input: u16 RAM length, that many bytes of guest RAM (placed at GPA 0; an
 * 8 KiB scratch area follows, ending at the end of the allocation), then
 * 16-byte exit records { u8 kind; u8 type; u16 len; u32 arg; u64 val }:
 *   kind  0-3  OUT dword to the message port, data = val (a raw GPA)
 *   kind  4-7  a well-formed message built in scratch: type, arg, val0 = val,
 *              str0 = len bytes of RAM (sent as is: the decoder sanitizes)
 *   kind  8    any other port I/O (port, size, direction, count from the record)
 *   kind  9    HLT              kind 10  MMIO        kind 11  SHUTDOWN
 *   kind 12    INTERNAL_ERROR   kind 13  FAIL_ENTRY  kind 14  KVM_RUN fails (EFAULT)
 *   kind 15    DEBUG (exception = type, DR6 = val)
 *   other      an unknown exit reason
 * When the records run out, the guest halts. A host step (NVM_MSG_STEP) that
 * the VMM accepts reaches vm_migrate, which this file also stands in for
 * (vmm/migrate.c stays out): every third one fails, the others answer with
 * made-up nested-state values, so the reply written into guest RAM is
 * exercised at every message address the input picks. The host step
 * migrate-after-vmrun (vmm/step_singlestep.c) also asks KVM_CHECK_EXTENSION,
 * KVM_GET_NESTED_STATE (here: SVM, guest mode at every third call) and
 * KVM_SET_GUEST_DEBUG; any other request aborts.
 * exercised at every message address the input picks; step_events (the
 * "migrate-events" actions) likewise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kvm.h"
#include "migrate.h"
#include "step_events.h"
#include "run.h"
#include "format.h"
#include "verdict.h"

#define SCRATCH 8192

struct rec { uint8_t kind, type; uint16_t len; uint32_t arg; uint64_t val; } __attribute__((packed));

static const uint8_t *recs;
static size_t n_recs, next_rec;
static size_t ram_len;

void vcpu_describe(struct vm *vm, char *buf, size_t len)
{
	(void)vm;
	snprintf(buf, len, "RIP=0x0 (fuzz)\ncode at RIP: \"\\ \x01");
}

static unsigned int migrations;

int vm_migrate(struct vm *vm, enum migrate_order order, struct migrate_info *info, char *err)
{
	(void)vm, (void)order;
	memset(info, 0, sizeof(*info));
	if (++migrations % 3 == 0) {
		snprintf(err, KVM_ERR_MAX, "KVM_SET_NESTED_STATE: %s", strerror(EINVAL));
		return -1;
	}
	info->format = migrations & 1 ? KVM_STATE_NESTED_FORMAT_SVM : KVM_STATE_NESTED_FORMAT_VMX;
	info->flags = KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_GIF_SET;
	info->size = 128 + 4096;
	info->pa = info->ncr3 = info->l1_cr3 = info->vmxon_pa = UINT64_MAX;
	return 0;
}

/* vmm/step_events.c stand-in ("migrate-events" steps): the same failures, made-up reply values. */
int step_events(struct vm *vm, bool injected, uint64_t reply[NVM_MSG_VALS], struct migrate_info *mi,
		char *err)
{
	if (vm_migrate(vm, MIGRATE_ORDER_QEMU, mi, err))
		return -1;
	for (int i = NVM_STEP_EV_SET; i < NVM_MSG_VALS; i++)
		reply[i] = injected ? UINT64_MAX : 0x5555555555555555ull;
	return 0;
}

static void build_msg(struct vm *vm, const struct rec *r)
{
	uint16_t slen = r->len % (SCRATCH - NVM_MSG_HDR_SIZE);
	struct nvm_msg h;

	if (NVM_MSG_HDR_SIZE + slen > NVM_MSG_MAX)
		slen = NVM_MSG_MAX - NVM_MSG_HDR_SIZE;
	if (slen > ram_len)
		slen = (uint16_t)ram_len;
	memset(&h, 0, sizeof(h));
	h.magic = NVM_MSG_MAGIC;
	h.type = r->type;
	h.arg = r->arg;
	h.size = (uint16_t)(NVM_MSG_HDR_SIZE + slen);
	h.str_len[0] = slen;
	h.val[0] = r->val;
	memcpy(vm->mem + ram_len, &h, sizeof(h));
	memcpy(vm->mem + ram_len + NVM_MSG_HDR_SIZE, vm->mem, slen);
}

/* The requests of vmm/step_singlestep.c. */
static int kvm_ioctl_step(unsigned long req, void *arg)
{
	static unsigned int nested_calls;

	if (req == KVM_CHECK_EXTENSION)
		return 128 + 8192;
	if (req == KVM_SET_GUEST_DEBUG)
		return 0;
	if (req != KVM_GET_NESTED_STATE)
		abort();
	struct kvm_nested_state *n = arg;
	if (n->size < 128 + 8192)
		abort();
	n->format = KVM_STATE_NESTED_FORMAT_SVM;
	n->flags = ++nested_calls % 3 ? 0 : KVM_STATE_NESTED_GUEST_MODE | KVM_STATE_NESTED_RUN_PENDING;
	n->size = 128;
	return 0;
}

int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, char *err)
{
	extern struct vm *fuzz_vm;
	struct vm *vm = fuzz_vm;
	struct kvm_run *run = vm->run;
	struct rec r;
	uint32_t gpa;

	(void)fd, (void)arg;
	if (req != KVM_RUN)
		return kvm_ioctl_step(req, arg);
	if (next_rec >= n_recs) {
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	memcpy(&r, recs + next_rec++ * sizeof(r), sizeof(r));
	memset(&run->io, 0, sizeof(run->io) > sizeof(run->mmio) ? sizeof(run->io) : sizeof(run->mmio));
	switch (r.kind) {
	case 0 ... 7:
		if (r.kind >= 4) {
			build_msg(vm, &r);
			gpa = (uint32_t)ram_len;
		} else {
			gpa = (uint32_t)r.val;
		}
		run->exit_reason = KVM_EXIT_IO;
		run->io.direction = KVM_EXIT_IO_OUT;
		run->io.size = 4;
		run->io.port = NVM_PORT_MSG;
		run->io.count = 1;
		run->io.data_offset = 1024;
		memcpy((uint8_t *)run + 1024, &gpa, 4);
		return 0;
	case 8:
		run->exit_reason = KVM_EXIT_IO;
		run->io.direction = r.type & 1;
		run->io.size = (uint8_t)(r.len & 0xff);
		run->io.port = (uint16_t)r.arg;
		run->io.count = r.arg >> 16;
		/* Any offset: the VMM must refuse one that points outside kvm_run. */
		run->io.data_offset = r.val;
		return 0;
	case 9:
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	case 10:
		run->exit_reason = KVM_EXIT_MMIO;
		run->mmio.phys_addr = r.val;
		run->mmio.len = r.len % 9;
		run->mmio.is_write = r.type & 1;
		return 0;
	case 11:
		run->exit_reason = KVM_EXIT_SHUTDOWN;
		return 0;
	case 12:
		run->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		run->internal.suberror = r.arg;
		return 0;
	case 13:
		run->exit_reason = KVM_EXIT_FAIL_ENTRY;
		run->fail_entry.hardware_entry_failure_reason = r.val;
		return 0;
	case 14:
		snprintf(err, KVM_ERR_MAX, "%s: %s", name, strerror(EFAULT));
		errno = EFAULT;
		return -1;
	case 15:
		run->exit_reason = KVM_EXIT_DEBUG;
		run->debug.arch.exception = r.type;
		run->debug.arch.dr6 = r.val;
		run->debug.arch.pc = r.arg;
		return 0;
	default:
		run->exit_reason = 1000u + r.kind;
		return 0;
	}
}

struct vm *fuzz_vm;

static void check_rendered(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == 0 || (c < 0x20 && c != '\n'))
			abort();   /* JSON strings escape every control byte */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct verdict v;
	static struct vm vm;
	uint16_t n;
	char *out = NULL;
	size_t out_len = 0;

	if (size < 2)
		return 0;
	memcpy(&n, data, 2);
	data += 2, size -= 2;
	ram_len = n < size ? n : size;
	recs = data + ram_len;
	n_recs = (size - ram_len) / sizeof(struct rec);
	next_rec = 0;

	memset(&vm, 0, sizeof(vm));
	vm.mem_size = ram_len + SCRATCH;
	vm.mem = calloc(1, vm.mem_size);
	vm.run_size = 4096;
	vm.run = calloc(1, vm.run_size);
	vm.vcpu_fd = -1;
	if (!vm.mem || !vm.run)
		abort();
	memcpy(vm.mem, data, ram_len);
	fuzz_vm = &vm;

	verdict_init(&v, "amd");
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "fuzz", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_PASS, "fuzz", NULL);
	struct run_ctx c = { .vm = &vm, .v = &v, .timeout_s = 0 };
	run_vcpu(&c);
	if (v.end == RUN_NOT_STARTED)
		abort();                       /* every run ends with a reason */
	if (v.end != RUN_DONE && !v.end_reason[0])
		abort();
	verdict_finish(&v);
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		if (v.stage[i].status >= NVM_STATUS_MAX)
			abort();               /* nothing left pending */
	int code = verdict_exit_code(&v);
	if (code != EXIT_PASS && code != EXIT_FAIL && code != EXIT_SKIP)
		abort();
	/*
	 * A broken run never passes, even when L1 reported every stage before it
	 * broke (corpus/run/seed-all-pass-then-triple-fault: exited 0 until
	 * 0b3f670). A STAGE_END with arg 0xffffffff and no stage open wrote
	 * v->stage[-1] (corpus/run/regress-stage-end-minus-one, fixed in 0b3f670).
	 */
	if (v.end != RUN_DONE && v.end != RUN_INTERRUPTED && code == EXIT_PASS)
		abort();

	FILE *f = open_memstream(&out, &out_len);
	format_json(&v, f);
	fclose(f);
	check_rendered(out, out_len);
	free(out);
	out = NULL;
	f = open_memstream(&out, &out_len);
	format_text(&v, f, false);
	fclose(f);
	free(out);

	verdict_free(&v);
	free(vm.mem);
	free(vm.run);
	return 0;
}
