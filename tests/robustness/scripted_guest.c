// SPDX-License-Identifier: MIT
/*
 * A guest whose every message comes from the command line, for the
 * robustness tests that need a misbehaving L1 but no KVM: vmm/run.c,
 * verdict.c and the formats run as in nestvmm; this file stands in for
 * vmm/kvm.c (kvm_ioctl, vcpu_describe), like tests/fuzz/fuzz_run.c.
 *
 *   scripted_guest [--format F] [--timeout S] [--trace] STEP...
 *
 *   begin:STAGE               NVM_MSG_STAGE_BEGIN (a stage name or number)
 *   end:STAGE:STATUS:REASON   NVM_MSG_STAGE_END, STATUS pass|fail|skip; the
 *                             reason is the rest (colons too), details follow a \x1f
 *   log:TEXT                  NVM_MSG_LOG
 *   done                      NVM_MSG_DONE
 *   block                     KVM_RUN waits until a signal sets immediate_exit
 *   (then the guest halts)
 *
 * Host stages are set as a real run on a nesting host sets them (host.cpu_model
 * from $SCRIPTED_CPU_MODEL). The verdict goes to standard output; the exit code
 * is nestvmm's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "format.h"
#include "kvm.h"
#include "migrate.h"
#include "run.h"
#include "trace.h"
#include "verdict.h"

#define RAM (64 << 10)

static char **steps;
static int n_steps, next_step;
static struct vm vm;

void vcpu_describe(struct vm *v, char *buf, size_t len)
{
	(void)v;
	snprintf(buf, len, "RIP=0x0 (scripted guest)");
}

/* No vCPU to save: a host step (NVM_MSG_STEP) fails, naming why (vmm/migrate.c stays out). */
int vm_migrate(struct vm *v, enum migrate_order order, struct migrate_info *info, char *err)
{
	(void)v, (void)order, (void)info;
	snprintf(err, KVM_ERR_MAX, "the scripted guest has no vCPU to save");
	return -1;
}

static int stage_id(const char *s)
{
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		if (!strcmp(s, stage_name[i]))
			return i;
	return (int)strtol(s, NULL, 0);
}

/* One message at GPA 0x1000, strings as given (the decoder sanitizes). */
static void put_msg(uint16_t type, uint32_t arg, uint64_t val, const char *s0, const char *s1)
{
	struct nvm_msg h;
	size_t l0 = s0 ? strlen(s0) : 0, l1 = s1 ? strlen(s1) : 0;

	if (NVM_MSG_HDR_SIZE + l0 + l1 > NVM_MSG_MAX) {
		fprintf(stderr, "scripted_guest: message too long\n");
		exit(99);
	}
	memset(&h, 0, sizeof(h));
	h.magic = NVM_MSG_MAGIC;
	h.type = type;
	h.arg = arg;
	h.size = (uint16_t)(NVM_MSG_HDR_SIZE + l0 + l1);
	h.str_len[0] = (uint16_t)l0;
	h.str_len[1] = (uint16_t)l1;
	h.val[0] = val;
	memcpy(vm.mem + 0x1000, &h, sizeof(h));
	memcpy(vm.mem + 0x1000 + NVM_MSG_HDR_SIZE, s0 ? s0 : "", l0);
	memcpy(vm.mem + 0x1000 + NVM_MSG_HDR_SIZE + l0, s1 ? s1 : "", l1);
}

int kvm_ioctl(int fd, unsigned long req, void *arg, const char *name, char *err)
{
	struct kvm_run *run = vm.run;
	uint32_t gpa = 0x1000;
	char *s, *f[4] = { 0 }, *details;

	(void)fd, (void)arg;
	if (req != KVM_RUN)
		abort();
	/* KVM_RUN with immediate_exit set returns EINTR at once, as KVM does. */
	if (run->immediate_exit) {
		snprintf(err, KVM_ERR_MAX, "%s: %s", name, strerror(EINTR));
		errno = EINTR;
		return -1;
	}
	if (next_step >= n_steps) {
		run->exit_reason = KVM_EXIT_HLT;
		return 0;
	}
	s = steps[next_step++];
	if (!strcmp(s, "block")) {
		while (!run->immediate_exit)
			usleep(1000);
		snprintf(err, KVM_ERR_MAX, "%s: %s", name, strerror(EINTR));
		errno = EINTR;
		return -1;
	}
	if (!strncmp(s, "log:", 4)) {
		put_msg(NVM_MSG_LOG, 0, 0, s + 4, NULL);
		goto out;
	}
	/* Split at the first three colons: the reason may hold more. */
	f[0] = s;
	for (int i = 1; i < 4 && f[i - 1]; i++)
		if ((f[i] = strchr(f[i - 1], ':')))
			*f[i]++ = '\0';
	if (f[3] && (details = strchr(f[3], '\x1f')))
		*details++ = '\0';
	else
		details = NULL;
	if (!strcmp(f[0], "begin") && f[1])
		put_msg(NVM_MSG_STAGE_BEGIN, (uint32_t)stage_id(f[1]), 0, NULL, NULL);
	else if (!strcmp(f[0], "end") && f[1] && f[2])
		put_msg(NVM_MSG_STAGE_END, (uint32_t)stage_id(f[1]),
			!strcmp(f[2], "pass") ? NVM_PASS : !strcmp(f[2], "fail") ? NVM_FAIL : NVM_SKIP,
			f[3], details);
	else if (!strcmp(f[0], "done"))
		put_msg(NVM_MSG_DONE, 0, 0, NULL, NULL);
	else {
		fprintf(stderr, "scripted_guest: bad step \"%s\"\n", s);
		exit(99);
	}
out:
	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = KVM_EXIT_IO_OUT;
	run->io.size = 4;
	run->io.port = NVM_PORT_MSG;
	run->io.count = 1;
	run->io.data_offset = 1024;
	memcpy((uint8_t *)run + 1024, &gpa, 4);
	return 0;
}

int main(int argc, char **argv)
{
	static struct verdict v;
	int fmt = FORMAT_TEXT, i = 1, code;
	unsigned int timeout = 60;
	const char *model = getenv("SCRIPTED_CPU_MODEL");

	for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			fmt = format_by_name(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = (unsigned int)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--trace"))
			trace_on = true;
	}
	if (fmt < 0 || run_install_signals())
		return 99;
	steps = argv + i;
	n_steps = argc - i;
	vm.mem_size = RAM;
	vm.mem = calloc(1, RAM);
	vm.run_size = 4096;
	vm.run = calloc(1, vm.run_size);
	vm.vcpu_fd = -1;
	if (!vm.mem || !vm.run)
		return 99;

	verdict_init(&v, "amd");
	strcpy(v.host.cpu_vendor, "AuthenticAMD");
	snprintf(v.host.cpu_model, sizeof(v.host.cpu_model), "%s", model ? model : "scripted");
	verdict_set(&v, NVM_STAGE_HOST_KVM, NVM_PASS, "scripted", NULL);
	verdict_set(&v, NVM_STAGE_HOST_NESTED, NVM_PASS, "scripted", NULL);
	struct run_ctx c = { .vm = &vm, .v = &v, .timeout_s = timeout };
	run_vcpu(&c);
	verdict_finish(&v);
	code = v.end == RUN_INTERRUPTED ? 128 + v.signal : verdict_exit_code(&v);
	format_write((enum format)fmt, &v, stdout, false);
	if (fflush(stdout))
		code = 98;
	verdict_free(&v);
	free(vm.mem);
	free(vm.run);
	return code;
}
