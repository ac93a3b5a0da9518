/* SPDX-License-Identifier: MIT */
/*
 * Is VMX/SVM switched off in the firmware? Checked as kvm-ok does: the
 * vendor's MSR (IA32_FEATURE_CONTROL, VM_CR) through /dev/cpu/0/msr when it
 * can be read, else KVM's "disabled by BIOS" lines in the kernel log.
 */
#ifndef NESTVMM_FIRMWARE_H
#define NESTVMM_FIRMWARE_H

#include "vendor.h"
#include "verdict.h"

/* Sets h->fw_*; reads the MSR only when CPUID reports the extension (h->cpu_has_virt). */
void firmware_probe(const char *root, const struct vendor_host *vh, struct host_facts *h);
/* The first line of log naming vh's extension as disabled by the firmware, copied to line; false if none. */
bool firmware_log_says_disabled(const char *log, const struct vendor_host *vh, char *line, size_t len);

#endif
