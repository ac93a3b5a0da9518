/* SPDX-License-Identifier: MIT */
/*
 * Host checks (stage host.*): what the CPU, the kernel and KVM offer, read
 * from files under a root ("/" normally; a fixture tree in the tests) and
 * from /dev/kvm, and the verdict on nesting with the remedy a user can type.
 */
#ifndef NESTVMM_HOST_H
#define NESTVMM_HOST_H

#include <stdbool.h>
#include <stddef.h>

#include "cpuid_table.h"
#include "vendor.h"
#include "verdict.h"

/* CPU vendor and hypervisor signatures from CPUID (hostread.h: live "/" or a snapshot root). */
void host_probe_cpu(const char *root, struct host_facts *h);
/*
 * /proc/cpuinfo model and flags, the loaded KVM module and its "nested",
 * the outer hypervisor (hypervisor.c) and the firmware switch (firmware.c).
 */
void host_probe_files(const char *root, const struct vendor_host *vh, struct host_facts *h);
/*
 * The parsers behind host_probe_files, on a file's text (any length, any
 * bytes): /proc/cpuinfo's first "model name" and "flags" lines, and a
 * module's "nested" parameter (1, 0, or -1 when unreadable).
 */
void host_parse_cpuinfo(const char *text, size_t len, const struct vendor_host *vh,
			struct host_facts *h);
int host_parse_nested(const char *text, size_t len);
/* The part of the facts that comes from KVM itself. */
void host_probe_kvm(int kvm_fd, const struct cpuid_table *supported,
		    const struct vendor_host *vh, struct host_facts *h);
/* Why /dev/kvm could not be opened, and what to do about it. */
void host_explain_kvm_open(const char *device, int err, const char *root, const struct vendor_host *vh,
			   const struct host_facts *h, char *reason, size_t len);
/*
 * The host.nested stage: pass when KVM offers nesting to L1, otherwise a
 * reason naming each missing piece and its remedy (also kept in
 * h->missing for JSON). Works without /dev/kvm too. Returns the status
 * (NVM_SKIP for missing support, NVM_FAIL under strict).
 */
enum nvm_status host_check_nested(struct host_facts *h, const struct vendor_host *vh,
				  bool strict, char *reason, size_t rlen, char *details, size_t dlen);

#endif
