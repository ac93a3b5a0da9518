// SPDX-License-Identifier: MIT
/*
 * nestvmm: boot a small L1 test kernel under this host's KVM and report,
 * stage by stage, whether nested virtualization works. One run:
 *
 *   options -> host checks -> VM + RAM + L1 image -> CPUID table -> device tree
 *           -> vCPU loop (L1 reports its stages over port I/O) -> verdict -> outputs
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "elf_loader.h"
#include "format.h"
#include "devtree.h"
#include "host.h"
#include "kvm.h"
#include "list.h"
#include "nestvmm/x86.h"
#include "options.h"
#include "output.h"
#include "run.h"
#include "trace.h"
#include "vendor.h"
#include "verdict.h"

#ifndef NESTVMM_VERSION
#define NESTVMM_VERSION "0.1"
#endif
#define KERNEL_FILE_MAX (64u << 20)

extern const uint8_t l1_image[], l1_image_end[];

/*
 * The L1 image: the embedded one, or --kernel FILE read whole (a regular
 * file only). Read to the end, not st_size bytes: /proc and /sys files say 0.
 */
static uint8_t *kernel_read(const char *path, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	uint8_t *buf;
	ssize_t r = 0;
	int fd;

	if (!path) {
		*len = (size_t)(l1_image_end - l1_image);
		return (uint8_t *)l1_image;
	}
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0 || fstat(fd, &st)) {
		snprintf(err, errlen, "--kernel %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > KERNEL_FILE_MAX) {
		snprintf(err, errlen, "--kernel %s: %s", path,
			 S_ISDIR(st.st_mode) ? "is a directory" : !S_ISREG(st.st_mode) ?
			 "not a regular file (device, FIFO or socket)" : "larger than 64 MiB");
		close(fd);
		return NULL;
	}
	/* Room for st_size and one byte more, growing to one byte past the limit if needed. */
	size_t cap = (size_t)st.st_size + 1 > 65536 ? (size_t)st.st_size + 1 : 65536;
	buf = NULL;
	for (*len = 0; *len <= KERNEL_FILE_MAX; *len += (size_t)r) {
		if (*len == cap || !buf) {
			uint8_t *bigger;
			cap = !buf ? cap : cap * 2 > KERNEL_FILE_MAX + 1 ? KERNEL_FILE_MAX + 1 : cap * 2;
			if (!(bigger = realloc(buf, cap))) {
				snprintf(err, errlen, "--kernel %s: cannot allocate %zu bytes to read it: %s",
					 path, cap, strerror(errno));
				free(buf);
				close(fd);
				return NULL;
			}
			buf = bigger;
		}
		if ((r = read(fd, buf + *len, cap - *len)) < 0 && errno == EINTR)
			r = 0;
		else if (r <= 0)
			break;
	}
	if (r < 0 || *len == 0 || *len > KERNEL_FILE_MAX) {
		snprintf(err, errlen, "--kernel %s: %s", path, r < 0 ? strerror(errno) :
			 *len == 0 ? (st.st_size ? "read nothing" : "empty file") : "larger than 64 MiB");
		free(buf);
		close(fd);
		return NULL;
	}
	close(fd);
	return buf;
}

/*
 * L1's CPUID: what KVM supports, marked as running under a hypervisor, the
 * vendor's extension exposed as far as KVM offers it, then the user's
 * overrides. The leaves L1 checks in l1.cpuid go into the device tree
 * after KVM has had its say (read back).
 */
static void cpuid_build(struct cpuid_table *t, const struct cpuid_table *supported,
			const struct vendor_host *vh, const struct options *o)
{
	*t = *supported;
	/*
	 * CPUID.1:ECX[31] says a hypervisor is present, and leaves 4000_0000h+
	 * (KVM's, from the supported table) are only read by guests that see
	 * it. KVM does not always set the bit in its supported CPUID.
	 */
	cpuid_get_or_add(t, CPUID_LEAF_FEATURES, 0)->ecx |= CPUID_1_ECX_HYPERVISOR;
	vh->cpuid_expose(t, supported);
	TRACE("%s %s to L1: KVM's supported CPUID %s it", vh->virt,
	      vh->cpuid_offers(supported) ? "exposed" : "not exposed",
	      vh->cpuid_offers(supported) ? "offers" : "lacks");
	cpuid_apply_overrides(t, &o->cpu);
	for (unsigned int i = 0; i < o->cpu.n; i++)
		TRACE("--cpu %c%s: CPUID.%XH.%u:%s[%u] %s", o->cpu.o[i].set ? '+' : '-',
		      o->cpu.o[i].f->name, o->cpu.o[i].f->leaf, o->cpu.o[i].f->subleaf,
		      (const char *[]){ "EAX", "EBX", "ECX", "EDX" }[o->cpu.o[i].f->reg],
		      o->cpu.o[i].f->bit, o->cpu.o[i].set ? "forced to 1" : "cleared");
	if (o->hide_hypervisor) {
		cpuid_hide_hypervisor(t);
		TRACE("--hide-hypervisor: CPUID.1:ECX[31]=0, leaves 40000000H-4FFFFFFFH removed");
	}
	cpuid_set_vcpu_id(t, 0);
}

/* KVM_SET_CPUID2 may change what it is given: say which registers it changed. */
static void trace_cpuid_readback(const struct cpuid_table *sent, struct cpuid_table *got)
{
	static const char *const reg[] = { "EAX", "EBX", "ECX", "EDX" };

	for (uint32_t i = 0; i < sent->n; i++) {
		const struct kvm_cpuid_entry2 *a = &sent->e[i];
		struct kvm_cpuid_entry2 *b = cpuid_find(got, a->function, a->index);
		if (!b) {
			TRACE("KVM dropped CPUID leaf %XH.%u", a->function, a->index);
			continue;
		}
		for (int r = 0; r < 4; r++) {
			uint32_t x = r == 0 ? a->eax : r == 1 ? a->ebx : r == 2 ? a->ecx : a->edx;
			uint32_t y = *cpuid_reg(b, (enum cpuid_reg)r);
			if (x != y)
				TRACE("KVM changed CPUID.%XH.%u:%s from 0x%08x to 0x%08x on read-back",
				      a->function, a->index, reg[r], x, y);
		}
	}
}

static void cpuid_expectations(struct cpuid_table *t, const struct vendor_host *vh,
			       struct fdt_run *run)
{
	unsigned int leaves[FDT_CPUID_MAX] = { CPUID_LEAF_VENDOR, CPUID_LEAF_FEATURES,
					       CPUID_LEAF_HV_BASE };
	unsigned int n = 3;

	for (const unsigned int *l = vh->check_leaves; *l && n < FDT_CPUID_MAX; l++)
		leaves[n++] = *l;
	for (unsigned int i = 0; i < n; i++) {
		const struct kvm_cpuid_entry2 *e = cpuid_find(t, leaves[i], 0);
		if (!e)
			continue;
		uint32_t *c = run->cpuid[run->n_cpuid++];
		c[0] = e->function, c[1] = e->index;
		c[2] = e->eax, c[3] = e->ebx, c[4] = e->ecx, c[5] = e->edx;
	}
}

/* Boot L1 once and run it; any setup failure becomes the reason of l1.boot. */
static void l1_boot_once(struct verdict *v, int kvm_fd, const struct cpuid_table *supported,
			 const struct vendor_host *vh, const struct options *o,
			 const uint8_t *img, uint64_t entry, const bool *selected,
			 const char *hostile, int *open_stage)
{
	static struct cpuid_table table, sent;
	struct fdt_run run = {
		.mem_size = o->mem_size, .vendor = vh->arch, .iterations = o->iterations,
		.trace = o->trace ? NVM_TRACE_STEPS : NVM_TRACE_OFF, .hostile = hostile,
		.selected = selected, .nested_state = (uint32_t)v->host.cap_nested_state,
		.migrate = o->migrate,
	};
	struct vm vm;
	char err[KVM_ERR_MAX];

	*open_stage = -1;
	vm_init(&vm);
	cpuid_build(&table, supported, vh, o);
	if (vm_create(&vm, kvm_fd, o->mem_size, err))
		goto setup_failed;
	TRACE("KVM_CREATE_VM, %lu MiB of RAM at GPA 0 (KVM_SET_USER_MEMORY_REGION), "
	      "KVM_CREATE_VCPU 0", o->mem_size >> 20);
	sent = table;
	if (vcpu_set_cpuid(&vm, &table, err))
		goto setup_failed;
	TRACE("KVM_SET_CPUID2 with %u leaves, read back with KVM_GET_CPUID2", sent.n);
	if (trace_on)
		trace_cpuid_readback(&sent, &table);
	/* After CPUID: KVM checks EFER (LME, NXE) against the guest's CPUID. */
	if (vcpu_enter_long_mode(&vm, entry, NVM_FDT_BASE, err))
		goto setup_failed;
	TRACE("boot page tables at 0x%llx (identity map of 4 GiB, 2 MiB pages), GDT at 0x%llx; "
	      "vCPU in 64-bit mode: CR0.PG=1 CR4.PAE=1 EFER.LME=LMA=1, RIP=0x%lx, RDI=0x%llx",
	      NVM_BOOT_PML4, NVM_BOOT_GDT, entry, NVM_FDT_BASE);
	elf_load(img, vm.mem);
	TRACE("L1 image loaded (%s), entry 0x%lx", o->kernel ? o->kernel : "built-in", entry);
	cpuid_expectations(&table, vh, &run);
	if (fdt_build(vm.mem + NVM_FDT_BASE, NVM_FDT_MAX, &run, err, sizeof(err)))
		goto setup_failed;
	TRACE("device tree at GPA 0x%llx: vendor=%s iterations=%u, %u CPUID leaves for l1.cpuid",
	      NVM_FDT_BASE, vh->arch, o->iterations, run.n_cpuid);
	TRACE("KVM_RUN: entering L1");

	struct run_ctx ctx = { .vm = &vm, .v = v, .timeout_s = o->timeout_s, .migrate = o->migrate };
	run_vcpu(&ctx);
	*open_stage = ctx.open_stage;
	TRACE("L1 run ended: %s (so far %lu messages in %lu exits)", v->end_reason, v->messages,
	      v->message_exits);
	vm_destroy(&vm);
	return;

setup_failed:
	verdict_setf(v, NVM_STAGE_L1_BOOT, NVM_FAIL, "setting up L1 failed: %s", err);
	vm_destroy(&vm);
}

/* Ways a run can end inside a test after which a fresh L1 can go on with the rest. */
static bool end_is_restartable(enum run_end e)
{
	return e == RUN_GUEST_EXCEPTION || e == RUN_GUEST_ASSERT || e == RUN_SHUTDOWN ||
	       e == RUN_INTERNAL_ERROR || e == RUN_FAIL_ENTRY || e == RUN_TIMEOUT ||
	       e == RUN_HALTED_EARLY || e == RUN_UNEXPECTED_EXIT;
}

/*
 * The next boot's selection: every test still pending whose prerequisites
 * passed or are still to run, plus those prerequisites (run again: L1 starts
 * from nothing). Returns how many pending tests it selected.
 */
static int restart_selection(const struct verdict *v, bool *selected)
{
	int n = 0;

	for (int i = 0; i < NVM_STAGE_COUNT; i++) {
		int need = stage_needs[i];

		selected[i] = false;
		if (!v->stage[i].selected || i < NVM_STAGE_FIRST_L1)
			continue;
		if (v->stage[i].status == NVM_PENDING &&
		    (need == NVM_STAGE_NONE || v->stage[need].status == NVM_PASS ||
		     (v->stage[need].status == NVM_PENDING && selected[need]))) {
			selected[i] = true;
			n++;
		}
	}
	for (int i = NVM_STAGE_COUNT - 1; i >= NVM_STAGE_FIRST_L1; i--)
		if (selected[i] && stage_needs[i] >= NVM_STAGE_FIRST_L1)
			selected[stage_needs[i]] = true;
	return n;
}

/*
 * Run the selected tests. A test that crashes or hangs L1 fails with its
 * cause, and a fresh VM boots L1 again for the tests still to run: one crash
 * costs one reboot, not the rest of the verdict. Each boot decides at least
 * the test that broke it, so there are at most as many boots as tests, each
 * test bounded by --timeout.
 */
static void l1_run(struct verdict *v, int kvm_fd, const struct cpuid_table *supported,
		   const struct vendor_host *vh, const struct options *o,
		   const uint8_t *img, uint64_t entry)
{
	static bool selected[NVM_STAGE_COUNT];
	const char *hostile = o->hostile;
	int open;

	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		selected[i] = v->stage[i].selected;
	/* --migrate saves the nested state at every exit: without it there is nothing to stress. */
	if (o->migrate && v->host.cap_nested_state <= 0) {
		v->end = RUN_KVM_ERROR;
		snprintf(v->end_reason, sizeof(v->end_reason), "--migrate: this KVM cannot save a "
			 "vCPU's nested state (KVM_CAP_NESTED_STATE is %d); L1 was not booted",
			 v->host.cap_nested_state);
		return;
	}
	for (;;) {
		l1_boot_once(v, kvm_fd, supported, vh, o, img, entry, selected, hostile, &open);
		if (open < 0 || !end_is_restartable(v->end))
			return;
		/* The test in progress takes the blame, with the vCPU state. */
		verdict_set(v, open, NVM_FAIL, v->end_reason, v->vcpu_state);
		v->broke_in_test = true;
		if (!restart_selection(v, selected))
			return;
		v->restarts++;
		TRACE("%s broke L1 (%s): booting a fresh L1 for the tests still to run (restart %u)",
		      stage_name[open], format_end_name(v->end), v->restarts);
		char line[VERDICT_REASON_MAX + 64];
		snprintf(line, sizeof(line), "restart %u: %s failed, L1 booted again: %s", v->restarts,
			 stage_name[open], v->end_reason);
		verdict_add_log(v, line);
		/* Per boot: how it ends, where it is. Decided results stay. */
		v->end = RUN_NOT_STARTED;
		v->broke_in_test = false;
		v->end_reason[0] = v->vcpu_state[0] = '\0';
		v->last_stage = -1;
		for (int i = 0; i < NVM_STAGE_COUNT; i++)
			v->stage[i].begun = false;
		hostile = NULL;          /* a misbehaviour is acted out on the first boot only */
	}
}

/*
 * L1 skips l1.enable when its CPUID lacks the extension; only the VMM knows
 * why it left the bit out. Say so, so that the L2 stages name the root cause.
 */
static void explain_enable_skip(struct verdict *v, const struct vendor_host *vh)
{
	struct stage *en = &v->stage[NVM_STAGE_L1_ENABLE];
	const struct stage *hn = &v->stage[NVM_STAGE_HOST_NESTED];

	if (en->status != NVM_SKIP || hn->status == NVM_PASS)
		return;
	verdict_setf(v, NVM_STAGE_L1_ENABLE, NVM_SKIP, "no nested %s on this host (see host.nested), "
		     "so L1's CPUID lacks %s (--cpu +%s forces the bit)", vh->virt, vh->virt,
		     vh->cpu_flag);
}

/*
 * A device path as the verdict names it: a long one keeps its start and end,
 * so the reason after it is never cut off (a reason holds 512 bytes).
 */
#define DEVICE_NAME_MAX 160

static void device_name(const char *path, char *out)
{
	size_t n = strlen(path), half = (DEVICE_NAME_MAX - 4) / 2;

	if (n < DEVICE_NAME_MAX)
		memcpy(out, path, n + 1);
	else
		snprintf(out, DEVICE_NAME_MAX, "%.*s...%s", (int)half, path, path + n - half + 1);
}

/* host.kvm, then host.nested; returns the open /dev/kvm or -1. */
static int host_stages(struct verdict *v, const struct vendor_host *vh, const struct options *o,
		       struct cpuid_table *supported)
{
	char err[KVM_ERR_MAX], reason[VERDICT_REASON_MAX], details[VERDICT_DETAILS_MAX];
	enum nvm_status missing = o->strict ? NVM_FAIL : NVM_SKIP, st;
	int fd = open(o->kvm_device, O_RDWR | O_CLOEXEC);
	int open_errno = errno;

	char dev[DEVICE_NAME_MAX];

	host_probe_files("/", vh, &v->host);
	device_name(o->kvm_device, dev);
	/* A --kvm-device that names no file is a typo, not missing firmware support. */
	if (fd < 0 && open_errno == ENOENT && strcmp(o->kvm_device, "/dev/kvm")) {
		verdict_setf(v, NVM_STAGE_HOST_KVM, missing, "--kvm-device %s: %s: check the path%s",
			     dev, strerror(open_errno), access("/dev/kvm", F_OK) ? "" :
			     " (the default /dev/kvm exists)");
		return -1;
	}
	if (fd < 0) {
		host_explain_kvm_open(dev, open_errno, "/", vh, &v->host, reason, sizeof(reason));
		verdict_set(v, NVM_STAGE_HOST_KVM, missing, reason, NULL);
		/* Why nesting is missing does not need /dev/kvm: say it here, not "needs host.kvm". */
		st = host_check_nested(&v->host, vh, o->strict, reason, sizeof(reason), details, sizeof(details));
		verdict_set(v, NVM_STAGE_HOST_NESTED, st, reason, details);
		return -1;
	}
	if (kvm_check_api(fd, err) || kvm_supported_cpuid(fd, supported, err)) {
		verdict_setf(v, NVM_STAGE_HOST_KVM, missing, "%s: %s", dev, err);
		close(fd);
		return -1;
	}
	host_probe_kvm(fd, supported, vh, &v->host);
	TRACE("opened %s: KVM API %d, backend %s, KVM_GET_SUPPORTED_CPUID: %u leaves, "
	      "KVM_CAP_NESTED_STATE=%d", o->kvm_device, v->host.kvm_api_version,
	      v->host.kvm_module[0] ? v->host.kvm_module : "unknown", supported->n,
	      v->host.cap_nested_state);
	verdict_setf(v, NVM_STAGE_HOST_KVM, NVM_PASS, "%s usable: KVM API %d, backend %s",
		     o->kvm_device, v->host.kvm_api_version,
		     v->host.kvm_module[0] ? v->host.kvm_module : "unknown");
	st = host_check_nested(&v->host, vh, o->strict, reason, sizeof(reason), details, sizeof(details));
	verdict_set(v, NVM_STAGE_HOST_NESTED, st, reason, details);
	return fd;
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "nestvmm: %s\nTry 'nestvmm --help' for more information.\n", msg);
	return EXIT_USAGE;
}

/* --help, --version: exit 0 only when the text reached standard output. */
static int print_info(const char *text, bool stdout_closed)
{
	if (stdout_closed || output_write_fd(STDOUT_FILENO, text, strlen(text))) {
		fprintf(stderr, "nestvmm: standard output: %s\n", stdout_closed ? "closed" : strerror(errno));
		return EXIT_OUTPUT;
	}
	return EXIT_PASS;
}

int main(int argc, char **argv)
{
	static struct options o;
	static struct verdict v;
	static struct cpuid_table supported;
	static struct output_target out[OPTIONS_OUTPUT_MAX];
	unsigned int n_out = 0;
	static char err[2 * PATH_MAX + 512];   /* a message names up to two paths in full */
	static bool included[NVM_STAGE_COUNT];
	struct timespec t0, t1;
	const struct vendor_host *vh;
	size_t img_len;
	uint64_t entry;
	uint8_t *img;
	int kvm_fd, code;
	bool stdout_closed;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Closed standard fds get /dev/null, so /dev/kvm never becomes "standard output". */
	output_guard_std_fds(&stdout_closed);
	if (output_ignore_signals())
		return usage_error("cannot ignore SIGPIPE and SIGXFSZ");
	if (options_parse(argc, argv, &o, err, sizeof(err)))
		return usage_error(err);
	if (o.help || o.version) {
		snprintf(err, sizeof(err), "nestvmm %s\n", NESTVMM_VERSION);
		return print_info(o.help ? options_usage : err, stdout_closed);
	}
	if (o.list) {
		/* Rendered whole first, then written like --help: a failed write is said. */
		char *text = NULL;
		size_t len = 0;
		FILE *mem = open_memstream(&text, &len);
		if (!mem || list_tests(&o, mem) || fclose(mem)) {
			free(text);
			return usage_error("--list: out of memory");
		}
		code = print_info(text, stdout_closed);
		free(text);
		return code;
	}
	/* Bad input is found before anything runs: exit 2, nothing written. */
	if (!(img = kernel_read(o.kernel, &img_len, err, sizeof(err))))
		return usage_error(err);
	if (elf_validate(img, img_len, o.mem_size, &entry, err, sizeof(err))) {
		fprintf(stderr, "nestvmm: --kernel %s: %s\n", o.kernel ? o.kernel : "(built-in)", err);
		code = EXIT_USAGE;
		goto out;
	}
	trace_on = o.trace;
	/* Before any temporary file exists: an interrupt from now on still cleans up. */
	if (run_install_signals()) {
		code = usage_error("cannot install signal handlers");
		goto out;
	}
	for (n_out = 0; n_out < o.n_outputs; n_out++) {
		if (!o.outputs[n_out].path && stdout_closed) {
			code = usage_error("standard output is closed: nothing would receive the verdict "
					   "(give --output FILE)");
			goto out;
		}
		if (output_open(&out[n_out], &o.outputs[n_out], err, sizeof(err))) {
			n_out++;
			code = usage_error(err);
			goto out;
		}
	}

	struct host_facts cpu = { 0 };
	host_probe_cpu("/", &cpu);
	vh = strcmp(o.arch, "auto") ? vendor_host_by_arch(o.arch) : vendor_host_by_cpu(cpu.cpu_vendor);
	if (!vh)
		vh = &vendor_host_amd;   /* unknown CPU vendor: host.nested says so */
	verdict_init(&v, vh->arch);
	host_probe_cpu("/", &v.host);
	select_apply(&o.tests, vh->id, included);
	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		v.stage[i].selected = included[i];
	v.require = o.require;
	v.verbose = o.verbose;
	v.migrate = o.migrate;
	v.strict = o.strict;
	/* --host-only: the host stages are the whole run; L1 and L2 are not selected. */
	for (int i = 0; o.host_only && i < NVM_STAGE_COUNT; i++)
		v.stage[i].selected = !strcmp(stage_level[i], "host");

	if ((kvm_fd = host_stages(&v, vh, &o, &supported)) >= 0 && !o.host_only) {
		l1_run(&v, kvm_fd, &supported, vh, &o, img, entry);
		explain_enable_skip(&v, vh);
	}
	if (kvm_fd >= 0)
		close(kvm_fd);
	/* The verdict records the signal that interrupted the run; a later one counts anew. */
	if (v.end == RUN_INTERRUPTED)
		run_signal_clear();
	verdict_finish(&v);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	v.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;

	code = o.bisect ? bisect_exit_code(&v) : v.end == RUN_INTERRUPTED ? 128 + v.signal : verdict_exit_code(&v);
	code = output_write_all(out, n_out, &v, code);
	n_out = 0;
	verdict_free(&v);
out:
	output_discard(out, n_out);
	if (img != l1_image)
		free(img);
	return code;
}
