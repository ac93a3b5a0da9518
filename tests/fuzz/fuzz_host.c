// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: the host-file parsers (vmm/host.c). Input: one byte
 * (bit 0: AMD or Intel vendor tables), then a file's bytes, parsed
 *   1. as /proc/cpuinfo text by host_parse_cpuinfo(), from an exact-size
 *      heap copy (a read one byte past the end is an ASan report);
 *   2. as a module's "nested" parameter by host_parse_nested();
 *   3. as files of a fixture tree: ROOT/proc/cpuinfo and
 *      ROOT/sys/module/<vendor module>/parameters/nested, read by
 *      host_probe_files() as nestvmm reads "/";
 * then host_check_nested() and the text format render the facts.
 * Checked besides ASan/UBSan: the model is text of the input (no stale
 * bytes) on one line, the flags are only the vendor's names, nested is
 * -1/0/1, and the text verdict carries no control byte but newlines.
 */
#define _GNU_SOURCE             /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "format.h"
#include "host.h"
#include "vendor.h"
#include "verdict.h"

static char root[64];

static void write_file(const char *rel, const uint8_t *data, size_t size)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (!(f = fopen(path, "w")) || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
}

static const char *const tree_files[] = {
	"proc/cpuinfo", "sys/module/kvm_amd/parameters/nested", "sys/module/kvm_intel/parameters/nested",
};

/* At exit: the tree goes, deepest first (libFuzzer ends with exit()). */
static void remove_tree(void)
{
	static const char *const dirs[] = {
		"sys/module/kvm_intel/parameters", "sys/module/kvm_intel", "sys/module/kvm_amd/parameters",
		"sys/module/kvm_amd", "sys/module/kvm", "sys/module", "sys", "proc", "",
	};
	char path[256];

	for (size_t i = 0; i < sizeof(tree_files) / sizeof(tree_files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, tree_files[i]);
		unlink(path);
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		rmdir(path);
	}
}

static void make_tree(void)
{
	static const char *const dirs[] = {
		"proc", "sys", "sys/module", "sys/module/kvm",
		"sys/module/kvm_amd", "sys/module/kvm_amd/parameters",
		"sys/module/kvm_intel", "sys/module/kvm_intel/parameters",
	};
	char path[256];

	strcpy(root, "/tmp/fuzz_host.XXXXXX");
	if (!mkdtemp(root))
		abort();
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		if (mkdir(path, 0755))
			abort();
	}
	atexit(remove_tree);
}

static void check_facts(const struct host_facts *h, const struct vendor_host *vh,
			const uint8_t *data, size_t size)
{
	char want[3][64];
	size_t ml = strnlen(h->cpu_model, sizeof(h->cpu_model));

	if (ml == sizeof(h->cpu_model) || strchr(h->cpu_model, '\n'))
		abort();                /* NUL-terminated, one line */
	if (ml && !memmem(data, size, h->cpu_model, ml))
		abort();                /* the model comes from this input, not stale bytes */
	snprintf(want[0], 64, "%s", vh->cpu_flag);
	snprintf(want[1], 64, "%s %s", vh->cpu_flag, vh->paging_flag);
	snprintf(want[2], 64, " %s", vh->paging_flag);
	if (h->cpu_flags[0] && strcmp(h->cpu_flags, want[0]) && strcmp(h->cpu_flags, want[1]) &&
	    strcmp(h->cpu_flags, want[2]))
		abort();                /* only the vendor's flag names */
	if (h->nested_param < -1 || h->nested_param > 1)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct verdict v;
	const struct vendor_host *vh;
	char reason[VERDICT_REASON_MAX], details[VERDICT_DETAILS_MAX];
	char *copy, *out = NULL;
	size_t out_len = 0;
	int nested;

	if (size < 1)
		return 0;
	if (!root[0])
		make_tree();
	vh = data[0] & 1 ? &vendor_host_intel : &vendor_host_amd;
	data++, size--;

	/* 1, 2: the parsers on an exact-size copy (no NUL after it). */
	if (!(copy = malloc(size ? size : 1)))
		abort();
	memcpy(copy, data, size);
	verdict_init(&v, vh->arch);
	host_parse_cpuinfo(copy, size, vh, &v.host);
	check_facts(&v.host, vh, data, size);
	nested = host_parse_nested(copy, size);
	if (nested < -1 || nested > 1)
		abort();
	free(copy);

	/* 3: the same bytes as a fixture tree, read the way nestvmm reads "/". */
	char nested_rel[128];
	snprintf(nested_rel, sizeof(nested_rel), "sys/module/%s/parameters/nested", vh->module);
	write_file("proc/cpuinfo", data, size);
	write_file(nested_rel, data, size < 8 ? size : 8);
	verdict_init(&v, vh->arch);
	strcpy(v.host.cpu_vendor, vh->cpu_vendor);
	host_probe_files(root, vh, &v.host);
	check_facts(&v.host, vh, data, size);

	/* The facts rendered: a reason, and text with no control byte but newlines. */
	v.host.supported_cpuid_virt = size & 1;
	enum nvm_status st = host_check_nested(&v.host, vh, false, reason, sizeof(reason), details,
					       sizeof(details));
	if (!reason[0] || st >= NVM_STATUS_MAX)
		abort();
	verdict_set(&v, NVM_STAGE_HOST_NESTED, st, reason, details);
	verdict_finish(&v);
	FILE *f = open_memstream(&out, &out_len);
	if (!f)
		abort();
	format_text(&v, f, false);
	fclose(f);
	for (size_t i = 0; i < out_len; i++)
		if (((unsigned char)out[i] < 0x20 && out[i] != '\n') || out[i] == 0x7f)
			abort();
	free(out);
	verdict_free(&v);
	return 0;
}
