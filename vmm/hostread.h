/* SPDX-License-Identifier: MIT */
/*
 * What the host reports, read either live (root "/": the CPU, /dev/cpu/0/cpuid
 * and msr, the kernel log) or from a snapshot tree (a fixture in the tests, or files
 * collected on another machine). A snapshot never touches this machine:
 *
 *   ROOT/cpuid   CPUID leaves, lines as `cpuid -r -1` prints them:
 *                "   0x40000000 0x00: eax=0x40000001 ebx=0x4b4d564b ecx=... edx=..."
 *   ROOT/msr     MSRs of CPU 0, "0x3a 0x5" per line (address, value)
 *   ROOT/dmesg   the kernel log, as `dmesg` prints it
 *   ROOT/proc/..., ROOT/sys/...   the usual files
 */
#ifndef NESTVMM_HOSTREAD_H
#define NESTVMM_HOSTREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool hostread_live(const char *root);
/*
 * CPUID as the host's kernel sees it. Live: /dev/cpu/0/cpuid (the kernel
 * executes it; under a paravirtual hypervisor such as PVM user-mode CPUID
 * may report another layer), else the instruction. A leaf a snapshot lacks
 * reads as zeros. r[] is EAX, EBX, ECX, EDX.
 */
void hostread_cpuid(const char *root, uint32_t leaf, uint32_t subleaf, uint32_t r[4]);
/* CPUID executed here, in user mode (live only; zeros for a snapshot). */
void hostread_cpuid_user(const char *root, uint32_t leaf, uint32_t r[4]);
/* An MSR of CPU 0: 0, or -errno (ENOENT: no msr driver or not in the snapshot). */
int hostread_msr(const char *root, uint32_t msr, uint64_t *val);
/* The kernel log as text (malloc'd, NUL-terminated), or NULL with errno set. */
char *hostread_kernel_log(const char *root);
/* The first line of ROOT/path without its newline and trailing blanks; false if unreadable. */
bool hostread_line(const char *root, const char *path, char *buf, size_t len);

#endif
