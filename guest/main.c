// SPDX-License-Identifier: MIT
/*
 * The L1 test kernel's runner: boot, read the run's configuration, then run
 * the selected tests of the registry (nestvmm/stages.h) in order, reporting
 * each. A test whose prerequisite did not pass is not run (the VMM, which
 * owns the same registry, reports it skipped and says why); a test whose
 * required L0 features are missing is reported skipped as unsupported. Each
 * test gets a fresh arena: its pages are released and zeroed after it.
 */
#include "l1.h"
#include "nested.h"
#include "test.h"
#include "vendor.h"

void cpu_init(void);
void config_read(u64 fdt_gpa);
struct fault ud2_safe(void);
void hostile_act(const char *mode);
void hostile_in_test(const char *mode);

typedef enum nvm_status (*test_fn)(struct stage_result *r);

static const struct l1_test {
	test_fn run;
	int needs;
	u8 vendor;
	u32 requires;
} tests[NVM_STAGE_COUNT] = {
#define NVM_TEST_ROW(id, name, level, vendor, needs, requires, purpose) \
	{ nvm_test_##id, needs, vendor, requires },
	NVM_STAGES(NVM_TEST_ROW)
#undef NVM_TEST_ROW
};

static const char *const feature_names[NVM_FEATURE_COUNT] = {
#define NVM_FEATURE_NAME(id, name, what) name,
	NVM_FEATURES(NVM_FEATURE_NAME)
#undef NVM_FEATURE_NAME
};

static enum nvm_status status[NVM_STAGE_COUNT];
static const struct vendor_guest *vendor;

/* One result buffer: tests run one at a time, and L1's stack stays small. */
static struct stage_result result;

static enum nvm_status stage_set(struct stage_result *r, enum nvm_status s,
				 const char *fmt, va_list ap)
{
	r->status = s;
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	return s;
}

#define DEFINE_STAGE_SETTER(fn, st)                                         \
	enum nvm_status fn(struct stage_result *r, const char *fmt, ...)    \
	{                                                                   \
		va_list ap;                                                 \
		va_start(ap, fmt);                                          \
		stage_set(r, st, fmt, ap);                                  \
		va_end(ap);                                                 \
		return st;                                                  \
	}
DEFINE_STAGE_SETTER(stage_pass, NVM_PASS)
DEFINE_STAGE_SETTER(stage_fail, NVM_FAIL)
DEFINE_STAGE_SETTER(stage_skip, NVM_SKIP)

void stage_detail(struct stage_result *r, const char *fmt, ...)
{
	va_list ap;
	size_t room = sizeof(r->details) - r->details_len;

	if (room < 2)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(r->details + r->details_len, room, fmt, ap);
	va_end(ap);
	r->details_len += (size_t)n < room - 1 ? (size_t)n : room - 1;
	if (r->details_len < sizeof(r->details) - 1) {
		r->details[r->details_len++] = '\n';
		r->details[r->details_len] = '\0';
	}
}

/* "unsupported: the L0 offers no nrips, vgif": the missing features by their --require names. */
static enum nvm_status skip_unsupported(struct stage_result *r, u32 missing)
{
	size_t len = (size_t)snprintf(r->reason, sizeof(r->reason), "unsupported: the L0 offers no");
	const char *sep = " ";

	for (int f = 0; f < NVM_FEATURE_COUNT; f++)
		if ((missing & (1u << f)) && len < sizeof(r->reason)) {
			len += (size_t)snprintf(r->reason + len, sizeof(r->reason) - len, "%s%s", sep,
						feature_names[f]);
			sep = ", ";
		}
	r->status = NVM_SKIP;
	return NVM_SKIP;
}

static void test_run(int id)
{
	const struct l1_test *t = &tests[id];
	u32 missing = 0;
	/* What the CPU offers L1, and what the VMM can do for it (device tree). */
	u32 have = nested_features | (l1_cfg.nested_state ? NVM_REQ(NESTED_STATE) : 0);

	if (!l1_cfg.selected[id] || (t->vendor != NVM_ANY && t->vendor != vendor->id))
		return;
	if (t->needs != NVM_STAGE_NONE && status[t->needs] != NVM_PASS) {
		status[id] = NVM_SKIP;
		return;
	}
	chan_send(NVM_MSG_STAGE_BEGIN, (u32)id, 0, 0, 0, 0);
	result.reason[0] = result.details[0] = '\0';
	result.details_len = 0;
	if (t->requires & ~have) {
		missing = t->requires & ~have;
		status[id] = skip_unsupported(&result, missing);
	} else {
		u64 mark = arena_mark();
		if (l1_cfg.migrate)
			nested_sync_after_exits();
		if (l1_cfg.hostile[0] && id >= NVM_STAGE_L2_RUN)
			hostile_in_test(l1_cfg.hostile);
		status[id] = t->run(&result);
		if (nested && nested->test_end)
			nested->test_end();
		arena_release(mark);
	}
	u64 v[NVM_MSG_VALS] = { status[id], missing };
	chan_send(NVM_MSG_STAGE_END, (u32)id, v, result.reason, result.details, 0);
}

/* host.* are the VMM's stages: L1 never runs them. */
NVM_TEST(HOST_KVM) { return stage_fail(r, "host.kvm is run by the VMM"); }
NVM_TEST(HOST_NESTED) { return stage_fail(r, "host.nested is run by the VMM"); }

/* l1.boot: we run in 64-bit mode on our own GDT and IDT, and exceptions come back. */
NVM_TEST(L1_BOOT)
{
	u64 efer = rdmsr(MSR_EFER), cr0 = read_cr0(), cr4 = read_cr4();
	struct fault ud = ud2_safe();

	stage_detail(r, "CR0=0x%lx CR4=0x%lx EFER=0x%lx CS=0x%x", cr0, cr4, efer, read_cs());
	TRACE("L1 runs with CR0=0x%lx CR4=0x%lx EFER=0x%lx (LMA=%d): long mode", cr0, cr4, efer,
	      !!(efer & EFER_LMA));
	TRACE("L1 executed UD2 on purpose: its own IDT delivered %s", ud.faulted ?
	      exception_name(ud.vector) : "nothing");
	if (!(efer & EFER_LMA) || !(cr0 & CR0_PG))
		return stage_fail(r, "not in long mode: EFER.LMA=%d CR0.PG=%d",
				  !!(efer & EFER_LMA), !!(cr0 & CR0_PG));
	if (!ud.faulted || ud.vector != X86_VEC_UD)
		return stage_fail(r, "own IDT did not deliver the test #UD (got %s)",
				  ud.faulted ? exception_name(ud.vector) : "nothing");
	return stage_pass(r, "64-bit mode, own GDT/IDT, exceptions delivered");
}

/*
 * l1.cpuid: L1 sees exactly the CPUID values the VMM put in its table. The
 * details also list some leaves raw, as L1 read them, whatever the table says
 * (NVM_CPUID_SEEN_LEAVES), so that tests can check --cpu and
 * --hide-hypervisor against what L1 saw, not against the VMM's own table.
 */
NVM_TEST(L1_CPUID)
{
	static const char reg_name[4][4] = { "EAX", "EBX", "ECX", "EDX" };
	static const u32 seen[] = NVM_CPUID_SEEN_LEAVES;
	unsigned int bad = 0;

	for (u32 i = 0; i < sizeof(seen) / sizeof(seen[0]); i++) {
		u32 got[4];

		cpuid(seen[i], 0, got);
		stage_detail(r, "seen CPUID.%xH.0 EAX=0x%08x EBX=0x%08x ECX=0x%08x EDX=0x%08x",
			     seen[i], got[0], got[1], got[2], got[3]);
	}
	for (u32 i = 0; i < l1_cfg.n_cpuid; i++) {
		const struct l1_cpuid_expect *e = &l1_cfg.cpuid[i];
		u32 got[4];

		cpuid(e->leaf, e->subleaf, got);
		TRACE("L1 CPUID.%xH.%u: EAX=0x%x EBX=0x%x ECX=0x%x EDX=0x%x", e->leaf, e->subleaf,
		      got[0], got[1], got[2], got[3]);
		for (int k = 0; k < 4; k++)
			if (got[k] != e->reg[k]) {
				stage_detail(r, "CPUID.%xH.%u:%s=0x%x expected 0x%x",
					     e->leaf, e->subleaf, reg_name[k], got[k], e->reg[k]);
				bad++;
			}
	}
	if (bad)
		return stage_fail(r, "%u CPUID register(s) differ from the VMM's table", bad);
	return stage_pass(r, "%u CPUID leaves match the VMM's table", l1_cfg.n_cpuid);
}

NVM_TEST(L1_ENABLE) { return vendor->enable(r); }

static const struct vendor_guest *const vendors[] = { &vendor_guest_amd, &vendor_guest_intel };

void l1_main(u64 fdt_gpa)
{
	cpu_init();
	chan_init();
	config_read(fdt_gpa);
	for (unsigned int i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++)
		if (!strcmp(l1_cfg.vendor, vendors[i]->arch))
			vendor = vendors[i];
	GUEST_ASSERT(vendor, "unknown vendor \"%s\" in the device tree", l1_cfg.vendor);
	status[NVM_STAGE_HOST_KVM] = NVM_PASS;   /* we are running */
	TRACE("L1 loaded its GDT/IDT and read the device tree: vendor %s, %lu MiB RAM, "
	      "%u round trips", l1_cfg.vendor, l1_mem_size() >> 20, l1_cfg.iterations);
	if (l1_cfg.hostile[0])
		hostile_act(l1_cfg.hostile);

	for (int id = NVM_STAGE_FIRST_L1; id < NVM_STAGE_COUNT; id++)
		test_run(id);
	if (status[NVM_STAGE_L1_ENABLE] == NVM_PASS)
		vendor->disable();
	chan_send(NVM_MSG_DONE, 0, 0, 0, 0, 0);
	l1_halt();
}
