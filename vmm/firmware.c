// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "firmware.h"
#include "hostread.h"

/*
 * KVM's vendor-neutral lines: "kvm: disabled by bios" (arch/x86/kvm/x86.c
 * up to Linux 5.15) and "kvm: support for 'kvm_amd' disabled by bios"
 * (5.16 to 6.3). The vendor's own lines come from vh->fw_log.
 */
static const char *const kvm_fw_log[] = { "kvm: disabled by bios", "' disabled by bios", NULL };

static bool line_has(const char *line, size_t n, const char *pat)
{
	size_t m = strlen(pat);

	for (size_t i = 0; i + m <= n; i++)
		if (!strncasecmp(line + i, pat, m))
			return true;
	return false;
}

bool firmware_log_says_disabled(const char *log, const struct vendor_host *vh, char *line, size_t len)
{
	for (const char *p = log; p && *p;) {
		size_t n = strcspn(p, "\n");
		const char *const *lists[] = { vh->fw_log, kvm_fw_log };
		for (int l = 0; l < 2; l++)
			for (const char *const *pat = lists[l]; pat && *pat; pat++)
				if (line_has(p, n, *pat)) {
					/* "' disabled by bios" must name this vendor's module. */
					if (pat == &kvm_fw_log[1] && !line_has(p, n, vh->module))
						continue;
					snprintf(line, len, "%.*s", (int)n, p);
					return true;
				}
		p += n + (p[n] == '\n');
	}
	return false;
}

void firmware_probe(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	uint64_t val;
	int err = -ENODEV;
	char *log;
	const char *why;

	h->fw_disabled = -1;
	h->fw_source[0] = h->fw_evidence[0] = '\0';
	/* The MSR only means something on a CPU that has the extension. */
	if (h->cpu_has_virt && !(err = hostread_msr(root, vh->fw_msr, &val))) {
		why = vh->fw_msr_disabled(val);
		h->fw_disabled = why != NULL;
		snprintf(h->fw_source, sizeof(h->fw_source), "msr");
		snprintf(h->fw_evidence, sizeof(h->fw_evidence), "%s = 0x%llx%s%s", vh->fw_msr_name,
			 (unsigned long long)val, why ? ": " : "", why ? why : "");
		return;
	}
	/* No msr driver, no root, or a hypervisor that faults the read: ask the kernel log. */
	if (!(log = hostread_kernel_log(root))) {
		snprintf(h->fw_evidence, sizeof(h->fw_evidence), "%s%s%s; kernel log: %s",
			 h->cpu_has_virt ? vh->fw_msr_name : "no MSR check (CPUID lacks the extension)",
			 h->cpu_has_virt ? " unreadable: " : "", h->cpu_has_virt ? strerror(-err) : "",
			 errno ? strerror(errno) : "not available");
		return;
	}
	snprintf(h->fw_source, sizeof(h->fw_source), "kernel-log");
	if (firmware_log_says_disabled(log, vh, h->fw_evidence, sizeof(h->fw_evidence)))
		h->fw_disabled = 1;
	else
		snprintf(h->fw_evidence, sizeof(h->fw_evidence), "no \"disabled by BIOS\" line from KVM "
			 "in the kernel log");
	free(log);
}
