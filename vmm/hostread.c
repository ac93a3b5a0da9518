// SPDX-License-Identifier: MIT
#define _GNU_SOURCE             /* sched_getcpu */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <unistd.h>

#include "hostread.h"

/* klogctl(2) actions (SYSLOG_ACTION_* in the kernel). */
#define KLOG_READ_ALL     3
#define KLOG_SIZE_BUFFER 10
#define KLOG_MAX        (16u << 20)

bool hostread_live(const char *root)
{
	return !strcmp(root, "/");
}

static FILE *open_under(const char *root, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", root, path);
	return fopen(full, "r");
}

/*
 * /dev/cpu/N/<what> of the CPU we run on: the driver then executes CPUID or
 * RDMSR right here instead of waiting for an IPI to another (maybe
 * descheduled) vCPU. Any CPU answers the same for the leaves and MSRs read.
 */
static int open_cpu_dev(const char *what)
{
	char path[64];
	int cpu = sched_getcpu();

	snprintf(path, sizeof(path), "/dev/cpu/%d/%s", cpu < 0 ? 0 : cpu, what);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* A snapshot's CPUID: the `cpuid -r -1` line for leaf.subleaf, or zeros. */
static void snapshot_cpuid(const char *root, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	char line[256];
	unsigned int l, s, a, b, c, d;
	FILE *f = open_under(root, "cpuid");

	memset(r, 0, 4 * sizeof(r[0]));
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " 0x%x 0x%x: eax=0x%x ebx=0x%x ecx=0x%x edx=0x%x", &l, &s, &a, &b, &c, &d) == 6 &&
		    l == leaf && s == subleaf) {
			r[0] = a, r[1] = b, r[2] = c, r[3] = d;
			break;
		}
	fclose(f);
}

void hostread_cpuid(const char *root, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	int fd;

	if (!hostread_live(root)) {
		snapshot_cpuid(root, leaf, subleaf, r);
		return;
	}
	/* The cpuid driver takes the leaf in the low and the subleaf in the high half of the offset. */
	if ((fd = open_cpu_dev("cpuid")) >= 0) {
		ssize_t n = pread(fd, r, 16, (off_t)((uint64_t)subleaf << 32 | leaf));
		close(fd);
		if (n == 16)
			return;
	}
	__cpuid_count(leaf, subleaf, r[0], r[1], r[2], r[3]);
}

void hostread_cpuid_user(const char *root, uint32_t leaf, uint32_t r[4])
{
	memset(r, 0, 4 * sizeof(r[0]));
	if (hostread_live(root))
		__cpuid_count(leaf, 0, r[0], r[1], r[2], r[3]);
}

int hostread_msr(const char *root, uint32_t msr, uint64_t *val)
{
	char line[128];
	unsigned long long a, v;
	FILE *f;
	int fd, err;

	if (!hostread_live(root)) {
		if (!(f = open_under(root, "msr")))
			return -ENOENT;
		err = -ENOENT;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " %llx %llx", &a, &v) == 2 && a == msr) {
				*val = v;
				err = 0;
				break;
			}
		fclose(f);
		return err;
	}
	/* The msr driver: the offset is the MSR's address; EIO when RDMSR faults. */
	if ((fd = open_cpu_dev("msr")) < 0)
		return -errno;
	err = pread(fd, val, 8, msr) == 8 ? 0 : -(errno ? errno : EIO);
	close(fd);
	return err;
}

static char *read_all(FILE *f)
{
	size_t cap = 1 << 16, len = 0, n;
	char *buf = malloc(cap + 1), *p;

	while (buf && (n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap && cap < KLOG_MAX) {
			if (!(p = realloc(buf, 2 * cap + 1))) {
				free(buf);
				return NULL;
			}
			buf = p, cap *= 2;
		} else if (len == cap) {
			break;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

char *hostread_kernel_log(const char *root)
{
	FILE *f;
	char *buf;
	int size, n;

	if (!hostread_live(root)) {
		if (!(f = open_under(root, "dmesg")))
			return NULL;
		buf = read_all(f);
		fclose(f);
		return buf;
	}
	/* The kernel's ring buffer, as dmesg reads it (needs CAP_SYSLOG when dmesg_restrict=1). */
	if ((size = klogctl(KLOG_SIZE_BUFFER, NULL, 0)) <= 0)
		return NULL;
	if ((unsigned int)size > KLOG_MAX)
		size = KLOG_MAX;
	if (!(buf = malloc((size_t)size + 1)))
		return NULL;
	if ((n = klogctl(KLOG_READ_ALL, buf, size)) < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

bool hostread_line(const char *root, const char *path, char *buf, size_t len)
{
	FILE *f = open_under(root, path);
	size_t n;

	buf[0] = '\0';
	if (!f)
		return false;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	for (n = strlen(buf); n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'); n--)
		buf[n - 1] = '\0';
	return true;
}
