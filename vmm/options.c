// SPDX-License-Identifier: MIT
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"
#include "vendor.h"

const char options_usage[] =
	"Usage: nestvmm [OPTION]...\n"
	"Boot a small L1 test kernel under this host's KVM and report, level by level,\n"
	"whether nested virtualization (Intel VMX / AMD SVM) works, and if not, why.\n"
	"\n"
	"  --arch intel|amd|auto   vendor extension to test (default: auto, the host CPU's)\n"
	"  --kernel FILE           boot FILE (static x86-64 ELF) instead of the built-in L1\n"
	"  --format FORMAT         verdict format on standard output (default: text):\n"
	"                          text   a table for people\n"
	"                          json   one object: stages, host facts, how the run ended\n"
	"                          ktap   KTAP version 1, one subtest per level (kunit.py parse)\n"
	"                          junit  JUnit XML, one testsuite per level (CI test reports)\n"
	"  --output FILE           write the --format verdict to FILE instead of standard output\n"
	"  --output FORMAT:FILE    also write the verdict as FORMAT to FILE; repeatable, so one\n"
	"                          run can feed a person, a CI system and a script:\n"
	"                          --output junit:report.xml --output ktap:run.ktap\n"
	"                          Files are written whole or not at all (temp file, rename),\n"
	"                          through symlinks; devices, FIFOs, /dev/stdout directly\n"
	"  --bisect                exit for `git bisect run`: 0 every stage passed, 1 a\n"
	"                          nesting stage (l1.enable onwards) failed, 125 nesting could\n"
	"                          not be tested (a stage skipped, KVM or L1 setup failed,\n"
	"                          interrupted)\n"
	"  --timeout SECONDS       stop a guest that runs longer (default: 10)\n"
	"  --mem MIB               guest RAM in MiB, 4-4096 (default: 16)\n"
	"  --cpu LIST              set or clear CPUID features for L1: +svm,-npt,x2apic\n"
	"                          (names: hypervisor x2apic pcid xsave pae apic nx pdpe1gb lm\n"
	"                          vmx svm npt lbrv nrips tsc-scale vmcb-clean flushbyasid\n"
	"                          decodeassists pause-filter vgif)\n"
	"  --hide-hypervisor       clear CPUID.1:ECX.hypervisor and hide leaves 0x40000000+\n"
	"  --host-only             only the host checks, no L1 booted: the diagnosis (outer\n"
	"                          hypervisor, firmware, KVM module, each missing piece with\n"
	"                          its remedy) in milliseconds, for CI preflight\n"
	"  --list                  list the tests (name, level, vendor, requirements, purpose)\n"
	"                          as text, or as JSON with --format json; nothing is run\n"
	"  --tests PATTERN[,...]   run only these tests: globs on the names --list shows,\n"
	"                          \"-PATTERN\" excludes (e.g. 'l2.*,-l2.bench.*'); repeatable.\n"
	"                          Tests not selected are absent from the verdict; the tests\n"
	"                          a selected one needs always run\n"
	"  --require FEATURE[,...] a test skipped because the L0 lacks one of these features\n"
	"                          fails instead (features: --list shows them)\n"
	"  --strict                missing host support and missing L0 features fail instead\n"
	"                          of being skipped\n"
	"  --verbose               text format: details of passing tests too\n"
	"  --migrate               stress: save the whole vCPU (nested state included) and\n"
	"                          restore it into a fresh VM at every exit that reaches\n"
	"                          nestvmm while L1 runs, as a live migration would; the\n"
	"                          verdict counts them per test\n"
	"  --iterations N          L2 round trips to measure, 1-1000 (default: 32)\n"
	"  --trace                 narrate every step on standard error\n"
	"  --kvm-device PATH       KVM device (default: /dev/kvm)\n"
	"  --hostile MODE          make L1 misbehave (robustness tests): spin triple-fault\n"
	"                          garbage flood dup-stage bad-stage no-done mmio bad-insn\n"
	"                          toggle-apic crash-in-test hang-in-test (the last two in\n"
	"                          the first l2 test)\n"
	"  --help, --version\n"
	"\n"
	"Exit status: 0 every stage passed; 1 a stage failed; 2 usage error or bad input;\n"
	"3 an output could not be written after the run (named on standard error);\n"
	"4 nothing failed but a stage was skipped (e.g. the host offers no nesting); a test\n"
	"skipped as \"unsupported\" (the L0 lacks a feature it requires) counts as passed\n"
	"unless --strict or --require names the feature;\n"
	"129/130/142/143 interrupted by SIGHUP/SIGINT/SIGALRM/SIGTERM (the verdict so far\n"
	"is still written).\n"
	"With --bisect: 0, 1 or 125 as above.\n";

enum {
	OPT_ARCH = 256, OPT_KERNEL, OPT_FORMAT, OPT_OUTPUT, OPT_TIMEOUT, OPT_MEM, OPT_CPU,
	OPT_HIDE_HV, OPT_STRICT, OPT_ITERATIONS, OPT_TRACE, OPT_KVM, OPT_HOSTILE, OPT_HELP, OPT_VERSION,
	OPT_BISECT, OPT_HOST_ONLY, OPT_LIST, OPT_TESTS, OPT_REQUIRE, OPT_VERBOSE, OPT_MIGRATE,
};

static const struct option long_opts[] = {
	{ "arch", required_argument, 0, OPT_ARCH },
	{ "kernel", required_argument, 0, OPT_KERNEL },
	{ "format", required_argument, 0, OPT_FORMAT },
	{ "output", required_argument, 0, OPT_OUTPUT },
	{ "timeout", required_argument, 0, OPT_TIMEOUT },
	{ "mem", required_argument, 0, OPT_MEM },
	{ "cpu", required_argument, 0, OPT_CPU },
	{ "hide-hypervisor", no_argument, 0, OPT_HIDE_HV },
	{ "strict", no_argument, 0, OPT_STRICT },
	{ "host-only", no_argument, 0, OPT_HOST_ONLY },
	{ "bisect", no_argument, 0, OPT_BISECT },
	{ "iterations", required_argument, 0, OPT_ITERATIONS },
	{ "trace", no_argument, 0, OPT_TRACE },
	{ "kvm-device", required_argument, 0, OPT_KVM },
	{ "hostile", required_argument, 0, OPT_HOSTILE },
	{ "list", no_argument, 0, OPT_LIST },
	{ "tests", required_argument, 0, OPT_TESTS },
	{ "require", required_argument, 0, OPT_REQUIRE },
	{ "verbose", no_argument, 0, OPT_VERBOSE },
	{ "migrate", no_argument, 0, OPT_MIGRATE },
	{ "help", no_argument, 0, OPT_HELP },
	{ "version", no_argument, 0, OPT_VERSION },
	{ 0, 0, 0, 0 },
};

static const char *const hostile_modes[] = {
	"spin", "triple-fault", "garbage", "flood", "dup-stage", "bad-stage", "no-done", "mmio",
	"bad-insn", "toggle-apic", "crash-in-test", "hang-in-test", NULL,
};

/* A whole decimal number in [min, max]: no sign, no suffix, no overflow. */
static int parse_uint(const char *opt, const char *s, unsigned long min, unsigned long max,
		      unsigned long *out, char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v < min || v > max) {
		snprintf(err, errlen, "%s: \"%s\" is not a whole number from %lu to %lu", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int add_output(struct options *o, const char *arg, char *err, size_t errlen)
{
	const char *colon = strchr(arg, ':');
	char name[16];
	int f = -1;

	if (colon && (size_t)(colon - arg) < sizeof(name)) {
		memcpy(name, arg, (size_t)(colon - arg));
		name[colon - arg] = '\0';
		f = format_by_name(name);
	}
	if (f < 0) {                        /* plain FILE: the main output goes there */
		if (!*arg) {
			snprintf(err, errlen, "--output: empty file name");
			return -1;
		}
		o->outputs[0].path = arg;
		return 0;
	}
	if (!colon[1]) {
		snprintf(err, errlen, "--output %s: no file name after \"%s:\"", arg, name);
		return -1;
	}
	if (o->n_outputs >= OPTIONS_OUTPUT_MAX) {
		snprintf(err, errlen, "--output: at most %d outputs", OPTIONS_OUTPUT_MAX - 1);
		return -1;
	}
	o->outputs[o->n_outputs++] = (struct output){ (enum format)f, colon + 1 };
	return 0;
}

int options_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
	unsigned long n;
	int c, f;

	memset(o, 0, sizeof(*o));
	o->arch = "auto";
	o->kvm_device = "/dev/kvm";
	o->n_outputs = 1;
	o->outputs[0] = (struct output){ FORMAT_TEXT, NULL };
	o->timeout_s = 10;
	o->mem_size = 16ull << 20;
	o->iterations = 32;
	optind = 0;     /* 0, not 1: glibc then also forgets a half-read "-xyz" of an earlier parse */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_ARCH:
			if (strcmp(optarg, "auto") && !vendor_host_by_arch(optarg)) {
				snprintf(err, errlen, "--arch: \"%s\" is not intel, amd or auto", optarg);
				return -1;
			}
			o->arch = optarg;
			break;
		case OPT_KERNEL:
			o->kernel = optarg;
			break;
		case OPT_FORMAT:
			if ((f = format_by_name(optarg)) < 0) {
				snprintf(err, errlen, "--format: unknown format \"%s\" (" FORMAT_NAMES ")", optarg);
				return -1;
			}
			o->outputs[0].format = (enum format)f;
			break;
		case OPT_OUTPUT:
			if (add_output(o, optarg, err, errlen))
				return -1;
			break;
		case OPT_TIMEOUT:
			if (parse_uint("--timeout", optarg, 1, 86400, &n, err, errlen))
				return -1;
			o->timeout_s = (unsigned int)n;
			break;
		case OPT_MEM:
			if (parse_uint("--mem", optarg, 4, 4096, &n, err, errlen))
				return -1;
			o->mem_size = (uint64_t)n << 20;
			break;
		case OPT_CPU:
			if (cpuid_parse_overrides(optarg, &o->cpu, err, errlen))
				return -1;
			break;
		case OPT_HIDE_HV:
			o->hide_hypervisor = true;
			break;
		case OPT_STRICT:
			o->strict = true;
			break;
		case OPT_BISECT:
			o->bisect = true;
			break;
		case OPT_HOST_ONLY:
			o->host_only = true;
			break;
		case OPT_ITERATIONS:
			if (parse_uint("--iterations", optarg, 1, 1000, &n, err, errlen))
				return -1;
			o->iterations = (unsigned int)n;
			break;
		case OPT_TRACE:
			o->trace = true;
			break;
		case OPT_KVM:
			o->kvm_device = optarg;
			break;
		case OPT_HOSTILE:
			for (int i = 0; hostile_modes[i]; i++)
				if (!strcmp(optarg, hostile_modes[i]))
					o->hostile = hostile_modes[i];
			if (!o->hostile) {
				snprintf(err, errlen, "--hostile: unknown mode \"%s\"", optarg);
				return -1;
			}
			break;
		case OPT_LIST:
			o->list = true;
			break;
		case OPT_TESTS:
			if (select_parse(&o->tests, optarg, err, errlen))
				return -1;
			break;
		case OPT_REQUIRE:
			if (select_parse_features(optarg, &o->require, err, errlen))
				return -1;
			break;
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_MIGRATE:
			o->migrate = true;
			break;
		case OPT_HELP:
			o->help = true;
			break;
		case OPT_VERSION:
			o->version = true;
			break;
		case ':':
			snprintf(err, errlen, "%s: needs an argument", argv[optind - 1]);
			return -1;
		default:
			/* Inside a cluster ("-xyz") optind has not moved on: name the letter. */
			if (optopt > 0 && optopt < 256)
				snprintf(err, errlen, "unknown option \"-%c\"", optopt);
			else
				snprintf(err, errlen, "unknown option \"%s\"", argv[optind - 1]);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind]);
		return -1;
	}
	return 0;
}
