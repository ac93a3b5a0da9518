// SPDX-License-Identifier: MIT
#define _GNU_SOURCE             /* sigabbrev_np */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "channel.h"
#include "migrate.h"
#include "step_events.h"
#include "nestvmm/x86.h"
#include "protocol.h"
#include "run.h"
#include "trace.h"

static const char *const exc_names[32] = X86_EXCEPTION_NAMES;

/* The signal handler's only link to the vCPU: set immediate_exit, remember the signal. */
static struct kvm_run *volatile signal_run;
static volatile sig_atomic_t signal_caught;
static volatile sig_atomic_t alarm_is_timer;    /* the last SIGALRM came from our own timer */

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	/* setitimer's SIGALRM comes from the kernel (SI_KERNEL); kill(1) sends SI_USER. */
	if (sig == SIGALRM)
		alarm_is_timer = si->si_code == SI_KERNEL;
	signal_caught = sig;
	if (signal_run)
		signal_run->immediate_exit = 1;
}

int run_install_signals(void)
{
	static const int sigs[] = { SIGALRM, SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;   /* no SA_RESTART: KVM_RUN must return EINTR */
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL))
			return -1;
	return 0;
}

int run_signal_pending(void)
{
	return signal_caught;
}

void run_signal_clear(void)
{
	signal_caught = 0;
}

static void end(struct run_ctx *c, enum run_end how, const char *fmt, ...)
{
	va_list ap;

	c->v->end = how;
	va_start(ap, fmt);
	vsnprintf(c->v->end_reason, sizeof(c->v->end_reason), fmt, ap);
	va_end(ap);
	if (how != RUN_DONE && how != RUN_GUEST_ASSERT)
		vcpu_describe(c->vm, c->v->vcpu_state, sizeof(c->v->vcpu_state));
}

/* "in l1.enable", "after l1.cpuid" or "before the first stage": where L1 was. */
static const char *in_stage(const struct run_ctx *c)
{
	static char where[64];

	if (c->open_stage >= 0)
		snprintf(where, sizeof(where), "in %s", stage_name[c->open_stage]);
	else if (c->v->last_stage >= 0)
		snprintf(where, sizeof(where), "after %s", stage_name[c->v->last_stage]);
	else
		snprintf(where, sizeof(where), "before the first stage");
	return where;
}

static bool is_l1_stage(uint32_t id)
{
	return id >= NVM_STAGE_FIRST_L1 && id < NVM_STAGE_COUNT;
}

/* The VMM's protocol rules (protocol.h); false when m breaks one, which ends the run. */
static bool protocol_allows(struct run_ctx *c, const struct chan_msg *m)
{
	enum nvm_status st[NVM_STAGE_COUNT];
	int stage = is_l1_stage(m->arg) ? (int)m->arg : -1;
	char why[256];

	for (int i = 0; i < NVM_STAGE_COUNT; i++)
		st[i] = c->v->stage[i].status;
	if (!protocol_check(m->type, stage, stage >= 0 ? stage_needs[stage] : NVM_STAGE_NONE,
			    (enum nvm_status)m->val[0], st, c->done, why, sizeof(why)))
		return true;
	end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: %s", in_stage(c), why);
	return false;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Each test has the whole --timeout: the timer starts again at every begin. */
static void timer_arm(unsigned int seconds)
{
	struct itimerval timer = { .it_value = { .tv_sec = seconds } };

	setitimer(ITIMER_REAL, &timer, NULL);
}

/* "GUEST_MODE|GIF_SET": the KVM_STATE_NESTED_* flags by name. */
static const char *nested_flag_names(uint16_t f)
{
	static const char *const names[] = { "GUEST_MODE", "RUN_PENDING", "EVMCS", "MTF_PENDING" };
	static char buf[96];
	size_t n = 0;

	buf[0] = '\0';
	for (int b = 0; b < 16; b++) {
		const char *name = b < 4 ? names[b] : b == 8 ? "GIF_SET" : NULL;
		if (!(f & (1u << b)))
			continue;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", n ? "|" : "", name ? name : "?");
		if (n >= sizeof(buf))
			break;
	}
	return n ? buf : "none";
}

static void trace_migrate(const struct run_ctx *c, enum step_action action,
			  const struct migrate_info *mi, double ms)
{
	bool svm = mi->format == KVM_STATE_NESTED_FORMAT_SVM;

	TRACE("save/restore %u in %s: into a fresh VM in %.1f ms; KVM_GET_NESTED_STATE: format %s, "
	      "flags 0x%x (%s), size %u", c->steps, stage_name[c->open_stage], ms,
	      svm ? "SVM" : "VMX", mi->flags, nested_flag_names(mi->flags), mi->size);
	if (svm && !(mi->flags & KVM_STATE_NESTED_GUEST_MODE))
		TRACE("  hdr.svm: vmcb_pa=0x%lx; not in guest mode: no vmcb12 data, only GIF travels",
		      mi->pa);
	else if (svm)
		TRACE("  hdr.svm: vmcb_pa=0x%lx; blob: vmcb12 N_CR3=0x%lx, vmcb01 save CR3=0x%lx "
		      "RIP=0x%lx (L1's, restored at #VMEXIT), L2 RIP=0x%lx", mi->pa, mi->ncr3,
		      mi->l1_cr3, mi->l1_rip, mi->l2_rip);
	else
		TRACE("  hdr.vmx: vmxon_pa=0x%lx vmcs12_pa=0x%lx smm.flags=0x%x flags=0x%x "
		      "preemption_timer_deadline=0x%lx; blob: vmcs12 EPT_POINTER=0x%lx HOST_CR3=0x%lx "
		      "HOST_RIP=0x%lx GUEST_RIP=0x%lx", mi->vmxon_pa, mi->pa, mi->vmx_smm_flags,
		      mi->vmx_flags, mi->vmx_preemption_deadline, mi->ncr3, mi->l1_cr3, mi->l1_rip,
		      mi->l2_rip);
	TRACE("  %s: restored in the order %s", step_action_name[action],
	      mi->order ? mi->order : "?");
	TRACE("  carried: regs, %s, %s, XCRs, debug registers, %u MSRs (%u refused by KVM_GET_MSRS, "
	      "%u by KVM_SET_MSRS), vCPU events, MP state, nested state; no LAPIC (no in-kernel "
	      "irqchip); RAM: the same host memory in the new memslot", mi->sregs2 ? "sregs2" : "sregs",
	      mi->xsave2 ? "XSAVE2" : "XSAVE/FPU", mi->msrs, mi->msrs_refused_get, mi->msrs_refused_set);
}

_Static_assert((int)STEP_MIGRATE == (int)MIGRATE_ORDER_QEMU &&
	       (int)STEP_MIGRATE_NESTED_LAST == (int)MIGRATE_ORDER_NESTED_LAST &&
	       (int)STEP_MIGRATE_NESTED_BEFORE_MSRS == (int)MIGRATE_ORDER_NESTED_BEFORE_MSRS,
	       "each migrate action is its restore order");

/* A migrate-after-vmrun hook (step_singlestep.c) said how the run ends (0: it goes on): end it, false. */
static char ss_why[384];
static bool ss_go_on(struct run_ctx *c, enum run_end how, const char *why)
{
	if (how)
		end(c, how, "%s%s %s", how == RUN_PROTOCOL_ERROR ? "L1 broke the wire protocol: " : "",
		    why, in_stage(c));
	return !how;
}

/*
 * The signal handler sets immediate_exit in the vCPU's kvm_run: keep it off
 * a kvm_run that goes away (a migration), and point it at the current one,
 * passing on a signal that came meanwhile.
 */
static void signal_detach(void)
{
	signal_run = NULL;
}

static void signal_attach(struct run_ctx *c)
{
	signal_run = c->vm->run;
	if (signal_caught)
		c->vm->run->immediate_exit = 1;
}

int run_migrate(struct run_ctx *c, enum migrate_order order, struct migrate_info *mi, char *err)
{
	int rc;

	signal_detach();
	rc = vm_migrate(c->vm, order, mi, err);
	signal_attach(c);
	return rc;
}

/*
 * NVM_MSG_STEP: check it (protocol_step), perform the action, and write the
 * reply into the message's val[] in guest RAM before the vCPU runs again.
 */
static bool handle_step(struct run_ctx *c, const struct chan_msg *m)
{
	struct migrate_info mi;
	enum step_action action;
	char why[384], err[KVM_ERR_MAX];
	double t0;
	int rc;

	if (protocol_step(m->arg, m->str[0], c->open_stage, c->done, &action, why, sizeof(why))) {
		end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: %s", in_stage(c), why);
		return false;
	}
	/* Not now: at L1's next VMRUN (step_singlestep.c). */
	if (action == STEP_MIGRATE_AFTER_VMRUN)
		return ss_go_on(c, step_singlestep_arm(c, why, sizeof(why)), why);
	bool events = action == STEP_MIGRATE_EVENTS || action == STEP_MIGRATE_EVENTS_INJECTED;
	uint64_t reply[NVM_MSG_VALS] = { 0 };

	t0 = now();
	/* The migrate actions are the restore orders, in the same sequence (protocol.h). */
	if (events) {
		signal_detach();
		rc = step_events(c->vm, action == STEP_MIGRATE_EVENTS_INJECTED, reply, &mi, err);
		signal_attach(c);
	} else {
		rc = run_migrate(c, (enum migrate_order)action, &mi, err);
	}
	if (rc) {
		end(c, RUN_KVM_ERROR, "host step %s (save/restore %u) %s failed: %s",
		    step_action_name[action], c->steps + 1, in_stage(c), err);
		return false;
	}
	c->steps++;
	if (trace_on)
		trace_migrate(c, action, &mi, (now() - t0) * 1e3);

	reply[NVM_STEP_SEQ] = c->steps;
	if (!events) {
		reply[NVM_STEP_FLAGS] = mi.flags, reply[NVM_STEP_SIZE] = mi.size;
		reply[NVM_STEP_PA] = mi.pa, reply[NVM_STEP_NCR3] = mi.ncr3;
		reply[NVM_STEP_L1_CR3] = mi.l1_cr3, reply[NVM_STEP_VMXON_PA] = mi.vmxon_pa;
	}
	/* chan_decode checked that the whole header lies in RAM. */
	memcpy(c->vm->mem + c->msg_gpa + offsetof(struct nvm_msg, val[NVM_STEP_SEQ]),
	       &reply[NVM_STEP_SEQ], (NVM_MSG_VALS - NVM_STEP_SEQ) * sizeof(reply[0]));
	return true;
}

/*
 * --migrate: after an exit that reached the VMM (the run goes on), save the
 * whole vCPU and restore it into a fresh VM, as a live migration would at
 * that moment: in L1, or in L2 when L1 let an I/O through. Counted for the
 * open test. False when the save/restore failed, which ends the run.
 */
static bool migrate_after_exit(struct run_ctx *c)
{
	struct migrate_info mi;
	char err[KVM_ERR_MAX];
	double t0 = now();
	int rc;

	rc = run_migrate(c, MIGRATE_ORDER_QEMU, &mi, err);
	if (rc) {
		end(c, RUN_KVM_ERROR, "--migrate: save/restore %lu %s failed: %s", c->v->migrations + 1,
		    in_stage(c), err);
		return false;
	}
	c->v->migrations++;
	if (c->open_stage >= 0)
		c->v->stage[c->open_stage].migrations++;
	TRACE("--migrate: save/restore %lu %s into a fresh VM in %.1f ms (nested state flags 0x%x, "
	      "size %u)", c->v->migrations, in_stage(c), (now() - t0) * 1e3, mi.flags, mi.size);
	return true;
}

/* Apply one decoded message; false when it ends the run. */
static bool handle_msg(struct run_ctx *c, const struct chan_msg *m)
{
	struct verdict *v = c->v;

	if (!protocol_allows(c, m))
		return false;
	switch (m->type) {
	case NVM_MSG_LOG:
		if (trace_on)
			trace_text("l1", m->str[0]);
		verdict_add_log(v, m->str[0]);
		return true;
	case NVM_MSG_STAGE_BEGIN:
		if (!is_l1_stage(m->arg) || c->open_stage >= 0 || v->stage[m->arg].begun ||
		    (int)m->arg <= v->last_stage || !v->stage[m->arg].selected) {
			end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol: began stage %u (%s) %s",
			    m->arg, is_l1_stage(m->arg) ? stage_name[m->arg] : "no such stage",
			    !is_l1_stage(m->arg) ? "that does not exist" :
			    c->open_stage >= 0 ? "while another was open" :
			    !v->stage[m->arg].selected ? "that this run did not select" :
			    "twice or out of order");
			return false;
		}
		v->stage[m->arg].begun = true;
		/*
		 * A BEGIN that waited in the ring was sent after L1 last resumed:
		 * that moment is when the test started, within L1's own overhead.
		 */
		v->stage[m->arg].begun_at = c->resumed_at;
		c->open_stage = v->last_stage = (int)m->arg;
		c->steps = 0;
		timer_arm(c->timeout_s);
		TRACE("L1 began stage %s", stage_name[m->arg]);
		return true;
	case NVM_MSG_STAGE_END:
		if (c->open_stage < 0 || m->arg != (uint32_t)c->open_stage || m->val[0] >= NVM_STATUS_MAX) {
			end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol: ended stage %u with status "
			    "%lu, but the open stage is %d", m->arg, m->val[0], c->open_stage);
			return false;
		}
		/* val[1]: the missing features of an "unsupported" skip, and only of a skip. */
		if (m->val[1] >> NVM_FEATURE_COUNT || (m->val[1] && m->val[0] != NVM_SKIP)) {
			end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol: ended stage %s with status "
			    "%lu and unsupported-feature mask 0x%lx (only a skip names missing features, "
			    "of %d known)", stage_name[m->arg], m->val[0], m->val[1], NVM_FEATURE_COUNT);
			return false;
		}
		if (!ss_go_on(c, step_singlestep_stage_end(c, (enum nvm_status)m->val[0], ss_why,
							   sizeof(ss_why)), ss_why))
			return false;
		/*
		 * A prerequisite run again after a restart keeps its first result,
		 * unless it did not pass this time: then that is what counts.
		 */
		if (v->stage[m->arg].status != NVM_PENDING && m->val[0] == NVM_PASS) {
			c->open_stage = -1;
			return true;
		}
		verdict_set(v, m->arg, (enum nvm_status)m->val[0], m->str[0], m->str[1]);
		v->stage[m->arg].unsupported = (uint32_t)m->val[1];
		v->stage[m->arg].seconds = now() - v->stage[m->arg].begun_at;
		c->open_stage = -1;
		TRACE("L1 ended stage %s: %s: %s", stage_name[m->arg],
		      status_name((enum nvm_status)m->val[0]), m->str[0]);
		return true;
	case NVM_MSG_FAIL:
		end(c, RUN_GUEST_ASSERT, "L1 assertion failed at %s:%u %s: %s", m->str[0], m->arg,
		    in_stage(c), m->str[1]);
		return false;
	case NVM_MSG_EXCEPTION:
		end(c, RUN_GUEST_EXCEPTION, "L1 took %s (vector %u) %s: error code 0x%lx%s, "
		    "RIP=0x%lx CS=0x%lx RFLAGS=0x%lx RSP=0x%lx CR2=0x%lx",
		    m->arg < 32 ? exc_names[m->arg] : "an interrupt", m->arg, in_stage(c),
		    m->val[NVM_EXC_ERROR_CODE], m->val[NVM_EXC_HAS_ERROR_CODE] ? "" : " (none pushed)",
		    m->val[NVM_EXC_RIP], m->val[NVM_EXC_CS], m->val[NVM_EXC_RFLAGS],
		    m->val[NVM_EXC_RSP], m->val[NVM_EXC_CR2]);
		return false;
	case NVM_MSG_DONE:
		c->done = 1;
		return true;
	case NVM_MSG_STEP:
		return handle_step(c, m);
	}
	return true;
}

/* Decode and apply every message waiting in L1's ring; false when that ends the run. */
static bool ring_drain(struct run_ctx *c)
{
	static struct chan_msg msg;
	uint64_t data_gpa;
	uint32_t used, off = 0;
	char err[320];

	if (chan_ring_open(c->vm->mem, c->vm->mem_size, c->ring_gpa, &data_gpa, &used, err,
			   sizeof(err)) < 0) {
		end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: %s", in_stage(c), err);
		return false;
	}
	while (off < used) {
		if (chan_ring_next(c->vm->mem + data_gpa, used, &off, &msg, err, sizeof(err)) < 0) {
			end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: %s", in_stage(c), err);
			return false;
		}
		c->v->messages++;
		/* A host step waits for the VMM's reply in its own buffer: never batched. */
		if (msg.type == NVM_MSG_STEP) {
			end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: a host step came "
			    "through the message ring; it must be sent alone on port 0x%x, where the "
			    "VMM writes its reply", in_stage(c), NVM_PORT_MSG);
			return false;
		}
		if (!handle_msg(c, &msg))
			return false;
	}
	/* Consumed: L1 appends from the start again. */
	memset(c->vm->mem + c->ring_gpa + offsetof(struct nvm_ring, used), 0, sizeof(uint32_t));
	return true;
}

/*
 * Before the VMM judges a run that stopped without an OUT (halt, crash,
 * timeout, signal): what L1 left in its ring comes first, so the verdict
 * knows which test was open and what it said.
 */
static bool ring_drain_pending(struct run_ctx *c)
{
	return !c->ring_known || ring_drain(c);
}

/*
 * NVM_PORT_ECHO (nestvmm/wire.h): OUT stores into the latch, IN reads it,
 * for string I/O each element in turn. false: not the echo port (or an
 * access that leaves it).
 */
static bool handle_echo(struct run_ctx *c)
{
	static uint8_t latch[NVM_PORT_ECHO_LEN];
	struct kvm_run *r = c->vm->run;
	unsigned int off = r->io.port - NVM_PORT_ECHO, size = r->io.size;
	uint8_t *data;

	/* kvm_run is checked like any guest input: sizes 1, 2, 4, data inside the page. */
	if (r->io.port < NVM_PORT_ECHO || (size != 1 && size != 2 && size != 4) ||
	    off + size > NVM_PORT_ECHO_LEN || !r->io.count || r->io.count > 4096 / size ||
	    (size_t)size * r->io.count > c->vm->run_size ||
	    r->io.data_offset > c->vm->run_size - (size_t)size * r->io.count)
		return false;
	data = (uint8_t *)r + r->io.data_offset;
	for (uint32_t i = 0; i < r->io.count; i++, data += size) {
		if (r->io.direction == KVM_EXIT_IO_OUT)
			memcpy(latch + off, data, size);
		else
			memcpy(data, latch + off, size);
	}
	return true;
}

static bool handle_io(struct run_ctx *c)
{
	struct kvm_run *r = c->vm->run;
	static struct chan_msg msg;
	char err[256];
	uint32_t gpa;

	if (handle_echo(c))
		return true;
	if ((r->io.port != NVM_PORT_MSG && r->io.port != NVM_PORT_RING) ||
	    r->io.direction != KVM_EXIT_IO_OUT || r->io.size != 4 ||
	    r->io.count != 1 || r->io.data_offset > c->vm->run_size - 4) {
		end(c, RUN_UNEXPECTED_EXIT, "L1 accessed I/O port 0x%x (%s, %u bytes x %u) %s; "
		    "the ports are 0x%x and 0x%x (OUT dword) and the echo latch 0x%x-0x%x",
		    r->io.port, r->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", r->io.size,
		    r->io.count, in_stage(c), NVM_PORT_MSG, NVM_PORT_RING, NVM_PORT_ECHO,
		    NVM_PORT_ECHO + NVM_PORT_ECHO_LEN - 1);
		return false;
	}
	memcpy(&gpa, (uint8_t *)r + r->io.data_offset, 4);
	if (r->io.port == NVM_PORT_RING) {
		if (c->ring_known && gpa != c->ring_gpa) {
			end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: it moved its "
			    "message ring from 0x%lx to 0x%x", in_stage(c), c->ring_gpa, gpa);
			return false;
		}
		c->ring_known = true;
		c->ring_gpa = gpa;
		c->v->message_exits++;
		return ring_drain(c);
	}
	/* A single message: whatever the ring holds was sent before it. */
	if (!ring_drain_pending(c))
		return false;
	c->v->message_exits++;
	if (chan_decode(c->vm->mem, c->vm->mem_size, gpa, &msg, err, sizeof(err)) < 0) {
		end(c, RUN_PROTOCOL_ERROR, "L1 broke the wire protocol %s: %s", in_stage(c), err);
		return false;
	}
	c->v->messages++;
	c->msg_gpa = gpa;
	return handle_msg(c, &msg);
}

static const char *internal_error_name(uint32_t sub)
{
	static const char *const names[] = {
		"?", "instruction emulation failed", "exception while delivering an exception",
		"event delivery failed", "unexpected exit reason", "event delivery (no EPT info)",
	};
	return sub < sizeof(names) / sizeof(names[0]) ? names[sub] : "unknown suberror";
}

/* One KVM exit; false when the run is over. */
static bool handle_exit(struct run_ctx *c)
{
	struct kvm_run *r = c->vm->run;

	if (r->exit_reason == KVM_EXIT_IO)
		return handle_io(c);
	if (!ring_drain_pending(c))
		return false;
	/* One of L1's instructions, single-stepped for a migrate-after-vmrun. */
	if (r->exit_reason == KVM_EXIT_DEBUG && c->ss.armed)
		return ss_go_on(c, step_singlestep_exit(c, ss_why, sizeof(ss_why)), ss_why);
	switch (r->exit_reason) {
	case KVM_EXIT_SET_TPR:
		/* MOV to CR8 (L1's, or L2's that L1 passes through) without an
		 * in-kernel local APIC: KVM only tells userspace; nothing to do. */
		return true;
	case KVM_EXIT_HLT:
		if (c->done)
			end(c, RUN_DONE, "L1 reported every stage and halted");
		else
			end(c, RUN_HALTED_EARLY, "L1 halted %s without reporting done", in_stage(c));
		return false;
	case KVM_EXIT_MMIO:
		end(c, RUN_UNEXPECTED_EXIT, "L1 %s %u bytes at GPA 0x%llx, outside RAM (0x%lx bytes), %s",
		    r->mmio.is_write ? "wrote" : "read", r->mmio.len, r->mmio.phys_addr,
		    c->vm->mem_size, in_stage(c));
		return false;
	case KVM_EXIT_SHUTDOWN:
		end(c, RUN_SHUTDOWN, "L1 triple-faulted (KVM_EXIT_SHUTDOWN) %s", in_stage(c));
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		end(c, RUN_INTERNAL_ERROR, "KVM could not run L1 %s: KVM_EXIT_INTERNAL_ERROR, "
		    "suberror %u (%s)%s", in_stage(c), r->internal.suberror,
		    internal_error_name(r->internal.suberror),
		    r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
		    ": the L0 cannot emulate an instruction L1 ran" : "");
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		end(c, RUN_FAIL_ENTRY, "VM entry to L1 failed %s: KVM_EXIT_FAIL_ENTRY, hardware "
		    "reason 0x%llx", in_stage(c), r->fail_entry.hardware_entry_failure_reason);
		return false;
	default:
		end(c, RUN_UNEXPECTED_EXIT, "unexpected KVM exit reason %u %s", r->exit_reason,
		    in_stage(c));
		return false;
	}
}

void run_vcpu(struct run_ctx *c)
{
	char err[KVM_ERR_MAX];

	c->open_stage = -1;
	memset(&c->ss, 0, sizeof(c->ss));
	signal_attach(c);                       /* and a signal before we got here */
	timer_arm(c->timeout_s);
	for (;;) {
		c->resumed_at = now();
		/* migrate-after-vmrun: single-step L1 in KVM_RUN only (step_singlestep.c). */
		if (c->ss.armed && !ss_go_on(c, step_singlestep_debug(c, true, ss_why, sizeof(ss_why)), ss_why))
			break;
		if (kvm_ioctl(c->vm->vcpu_fd, KVM_RUN, 0, "KVM_RUN", err) < 0) {
			int e = errno, sig = signal_caught;
			bool timed_out = e == EINTR && sig == SIGALRM && alarm_is_timer;

			if (e == EINTR && !sig)
				continue;
			if (timed_out)
				signal_caught = 0;   /* our own timer, consumed: a fresh L1 may follow */
			/* What L1 said before the timer or signal stopped it counts first. */
			if (!ring_drain_pending(c))
				break;
			if (timed_out) {
				end(c, RUN_TIMEOUT, "timed out after %u s %s (--timeout)", c->timeout_s,
				    in_stage(c));
			} else if (e == EINTR) {
				c->v->signal = sig;
				end(c, RUN_INTERRUPTED, "interrupted by SIG%s %s", sigabbrev_np(sig),
				    in_stage(c));
			} else {
				end(c, RUN_KVM_ERROR, "%s %s", err, in_stage(c));
			}
			break;
		}
		if (c->ss.armed && !ss_go_on(c, step_singlestep_debug(c, false, ss_why, sizeof(ss_why)), ss_why))
			break;
		if (!handle_exit(c))
			break;
		if (c->migrate && c->vm->run->exit_reason == KVM_EXIT_IO && !migrate_after_exit(c))
			break;
	}
	timer_arm(0);
	signal_run = NULL;
}
