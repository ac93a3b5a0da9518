// SPDX-License-Identifier: MIT
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "host.h"
#include "nestvmm/x86.h"

void host_probe_cpu(struct host_facts *h)
{
	unsigned int a, b, c, d;

	__cpuid(0, a, b, c, d);
	memcpy(h->cpu_vendor, &b, 4);
	memcpy(h->cpu_vendor + 4, &d, 4);
	memcpy(h->cpu_vendor + 8, &c, 4);
	h->cpu_vendor[12] = '\0';
	/* A CI runner is often a VM itself: CPUID.1:ECX[31] and leaf 4000_0000h say whose. */
	__cpuid(1, a, b, c, d);
	h->hypervisor[0] = '\0';
	if (c & CPUID_1_ECX_HYPERVISOR) {
		__cpuid(CPUID_LEAF_HV_BASE, a, b, c, d);
		memcpy(h->hypervisor, &b, 4);
		memcpy(h->hypervisor + 4, &c, 4);
		memcpy(h->hypervisor + 8, &d, 4);
		h->hypervisor[12] = '\0';
		for (int i = 0; i < 12; i++)
			if (h->hypervisor[i] && (h->hypervisor[i] < 0x20 || h->hypervisor[i] > 0x7e))
				h->hypervisor[i] = '?';
		if (!h->hypervisor[0])
			strcpy(h->hypervisor, "unknown");
	}
}

/*
 * A host file read whole, whatever its length (/proc files say size 0):
 * malloc'ed and NUL-terminated, or NULL. Capped at HOST_FILE_MAX bytes.
 */
#define HOST_FILE_MAX (16u << 20)

static char *read_under(const char *root, const char *path, size_t *len)
{
	char full[512];
	size_t cap = 4096, n = 0;
	char *buf = NULL, *bigger;
	ssize_t r;
	int fd;

	snprintf(full, sizeof(full), "%s/%s", root, path);
	if ((fd = open(full, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	for (;;) {
		if (n + 1 >= cap || !buf) {
			if (buf)
				cap *= 2;
			if (cap > HOST_FILE_MAX + 1 || !(bigger = realloc(buf, cap)))
				break;
			buf = bigger;
		}
		if ((r = read(fd, buf + n, cap - 1 - n)) < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	return buf;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * One "key<blanks>: value" line of /proc/cpuinfo, of any length and content:
 * true when the key is `key`, with the value (blanks before it skipped).
 */
static bool cpuinfo_field(const char *line, size_t len, const char *key, const char **val, size_t *vlen)
{
	const char *colon = memchr(line, ':', len);
	size_t klen;

	if (!colon)
		return false;
	for (klen = (size_t)(colon - line); klen && is_blank(line[klen - 1]); klen--)
		;
	if (klen != strlen(key) || memcmp(line, key, klen))
		return false;
	*val = colon + 1;
	*vlen = len - (size_t)(colon + 1 - line);
	while (*vlen && is_blank(**val))
		(*val)++, (*vlen)--;
	return true;
}

/* Is `flag` one of the blank-separated words of the value? */
static bool flag_listed(const char *flags, size_t len, const char *flag)
{
	size_t n = strlen(flag), i = 0;

	while (i < len) {
		size_t w;
		while (i < len && is_blank(flags[i]))
			i++;
		for (w = 0; i + w < len && !is_blank(flags[i + w]); w++)
			;
		if (w == n && !memcmp(flags + i, flag, n))
			return true;
		i += w;
	}
	return false;
}

void host_parse_cpuinfo(const char *text, size_t len, const struct vendor_host *vh,
			struct host_facts *h)
{
	bool have_model = false, have_flags = false;
	const char *p = text, *end = text + len, *val;
	size_t vlen;

	h->cpu_model[0] = h->cpu_flags[0] = '\0';
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!have_model && cpuinfo_field(p, l, "model name", &val, &vlen)) {
			have_model = true;
			snprintf(h->cpu_model, sizeof(h->cpu_model), "%.*s",
				 (int)(vlen < sizeof(h->cpu_model) ? vlen : sizeof(h->cpu_model)), val);
		} else if (!have_flags && cpuinfo_field(p, l, "flags", &val, &vlen)) {
			bool virt = flag_listed(val, vlen, vh->cpu_flag);
			bool paging = flag_listed(val, vlen, vh->paging_flag);
			have_flags = true;
			snprintf(h->cpu_flags, sizeof(h->cpu_flags), "%s%s%s", virt ? vh->cpu_flag : "",
				 paging ? " " : "", paging ? vh->paging_flag : "");
		}
		p += l + 1;
	}
}

static void probe_cpuinfo(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	size_t len;
	char *text = read_under(root, "proc/cpuinfo", &len);

	h->cpu_flags[0] = '\0';
	if (!text)
		return;
	host_parse_cpuinfo(text, len, vh, h);
	free(text);
}

int host_parse_nested(const char *text, size_t len)
{
	char c = len ? text[0] : '\0';

	return c == 'Y' || c == 'y' || c == '1' ? 1 : c == 'N' || c == 'n' || c == '0' ? 0 : -1;
}

static int read_nested(const char *root, const char *module)
{
	char path[256], *text;
	size_t len;
	int v;

	snprintf(path, sizeof(path), "sys/module/%s/parameters/nested", module);
	if (!(text = read_under(root, path, &len)))
		return -1;
	v = host_parse_nested(text, len);
	free(text);
	return v;
}

/* Which KVM backend: the vendor's own module, or another kvm_* (kvm_pvm, ...). */
static void probe_module(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	char path[512];
	DIR *d;
	struct dirent *e;

	h->kvm_module[0] = '\0';
	for (int i = 0; vendor_hosts[i]; i++) {
		snprintf(path, sizeof(path), "%s/sys/module/%s", root, vendor_hosts[i]->module);
		if ((d = opendir(path))) {
			closedir(d);
			snprintf(h->kvm_module, sizeof(h->kvm_module), "%s", vendor_hosts[i]->module);
			if (vendor_hosts[i] == vh)
				break;
		}
	}
	snprintf(path, sizeof(path), "%s/sys/module", root);
	if (!h->kvm_module[0] && (d = opendir(path))) {
		while ((e = readdir(d)))
			if (!strncmp(e->d_name, "kvm_", 4) && strlen(e->d_name) < sizeof(h->kvm_module)) {
				snprintf(h->kvm_module, sizeof(h->kvm_module), "%s", e->d_name);
				break;
			}
		closedir(d);
	}
	h->nested_param = h->kvm_module[0] ? read_nested(root, h->kvm_module) : -1;
}

void host_probe_files(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	probe_cpuinfo(root, vh, h);
	probe_module(root, vh, h);
}

void host_probe_kvm(int kvm_fd, const struct cpuid_table *supported,
		    const struct vendor_host *vh, struct host_facts *h)
{
	h->kvm_api_version = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	h->cap_nested_state = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NESTED_STATE);
	if (h->cap_nested_state < 0)
		h->cap_nested_state = 0;
	h->supported_cpuid_virt = vh->cpuid_offers(supported);
}

void host_explain_kvm_open(const char *device, int err, const char *root, const struct vendor_host *vh,
			   const struct host_facts *h, char *reason, size_t len)
{
	char path[512];
	DIR *d;
	bool kvm_loaded;

	snprintf(path, sizeof(path), "%s/sys/module/kvm", root);
	kvm_loaded = (d = opendir(path)) != NULL;
	if (d)
		closedir(d);
	if (err == EACCES || err == EPERM)
		snprintf(reason, len, "%s: %s: run as root or join the kvm group "
			 "(sudo usermod -aG kvm $USER, then log in again)", device, strerror(err));
	else if (err == ENOENT && !strstr(h->cpu_flags, vh->cpu_flag))
		snprintf(reason, len, "%s: %s, and the CPU flags lack \"%s\": enable %s in the "
			 "firmware (BIOS) setup%s", device, strerror(err), vh->cpu_flag, vh->firmware_setting,
			 h->hypervisor[0] ? ", or in the outer hypervisor's VM settings" : "");
	else if (err == ENOENT)
		snprintf(reason, len, "%s: %s: KVM is not loaded: modprobe %s%s", device, strerror(err),
			 vh->module, kvm_loaded ? "" : " (loads kvm too)");
	else
		snprintf(reason, len, "%s: %s", device, strerror(err));
}

#define ADD(...) (used += (size_t)snprintf(reason + used, used < rlen ? rlen - used : 0, __VA_ARGS__))

enum nvm_status host_check_nested(const struct host_facts *h, const struct vendor_host *vh,
				  bool strict, char *reason, size_t rlen, char *details, size_t dlen)
{
	size_t used = 0;
	bool own_module = !strcmp(h->kvm_module, vh->module);
	enum nvm_status missing = strict ? NVM_FAIL : NVM_SKIP;

	snprintf(details, dlen,
		 "cpu_vendor=%s\ncpu_flags=%s\nhypervisor=%s\nkvm_module=%s\nnested=%s\n"
		 "kvm_api_version=%d\nsupported_cpuid_%s=%s\nKVM_CAP_NESTED_STATE=%d\n",
		 h->cpu_vendor, h->cpu_flags[0] ? h->cpu_flags : "(none)",
		 h->hypervisor[0] ? h->hypervisor : "(none)", h->kvm_module[0] ? h->kvm_module : "(none)",
		 h->nested_param < 0 ? "(no such parameter)" : h->nested_param ? "1" : "0",
		 h->kvm_api_version, vh->cpu_flag, h->supported_cpuid_virt ? "yes" : "no",
		 h->cap_nested_state);

	if (strcmp(h->cpu_vendor, vh->cpu_vendor)) {
		snprintf(reason, rlen, "--arch %s needs a %s CPU; this host's is %s: KVM can offer %s "
			 "only on %s hardware", vh->arch, vh->cpu_vendor, h->cpu_vendor, vh->virt, vh->cpu_vendor);
		return missing;
	}
	if (h->supported_cpuid_virt && own_module && h->nested_param != 0) {
		snprintf(reason, rlen, "KVM offers %s to guests (%s nested=%s)", vh->virt, vh->module,
			 h->nested_param > 0 ? "1" : "?");
		return NVM_PASS;
	}
	if (h->supported_cpuid_virt) {
		snprintf(reason, rlen, "KVM's supported CPUID offers %s (backend %s)", vh->virt,
			 h->kvm_module[0] ? h->kvm_module : "unknown");
		return NVM_PASS;
	}

	/* Not offered: name each missing piece, most fundamental first, with its remedy. */
	ADD("no nested %s: KVM's supported CPUID lacks %s", vh->virt, vh->cpu_flag);
	if (!strstr(h->cpu_flags, vh->cpu_flag))
		ADD("; the host CPU flags lack \"%s\" (%s)", vh->cpu_flag,
		    h->hypervisor[0] ? "enable nested virtualization in the outer hypervisor "
				       "that runs this host" :
				       "enable it in the firmware setup");
	if (h->hypervisor[0])
		ADD("; this host is itself a VM under \"%s\"", h->hypervisor);
	if (!own_module && h->kvm_module[0])
		ADD("; the KVM backend is %s, not %s, and it offers no nesting "
		    "(load %s instead: modprobe -r %s && modprobe %s nested=1)",
		    h->kvm_module, vh->module, vh->module, h->kvm_module, vh->module);
	else if (h->nested_param == 0)
		ADD("; %s is loaded with nested=0: modprobe -r %s && modprobe %s nested=1 "
		    "(permanent: options %s nested=1 in /etc/modprobe.d/kvm.conf)",
		    vh->module, vh->module, vh->module, vh->module);
	if (!h->cap_nested_state)
		ADD("; KVM_CAP_NESTED_STATE=0");
	return missing;
}
