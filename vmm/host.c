// SPDX-License-Identifier: MIT
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

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

static FILE *open_under(const char *root, const char *path)
{
	char full[512];

	snprintf(full, sizeof(full), "%s/%s", root, path);
	return fopen(full, "r");
}

static bool flag_listed(const char *flags, const char *flag)
{
	size_t n = strlen(flag);

	for (const char *p = flags; (p = strstr(p, flag)); p += n)
		if ((p == flags || p[-1] == ' ' || p[-1] == '\t') && (p[n] == ' ' || p[n] == '\n' || !p[n]))
			return true;
	return false;
}

static void probe_cpuinfo(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	char line[8192];
	FILE *f = open_under(root, "proc/cpuinfo");
	bool have_flags = false;

	h->cpu_flags[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		if (!strncmp(line, "model name", 10) && !h->cpu_model[0]) {
			snprintf(h->cpu_model, sizeof(h->cpu_model), "%s", colon + 2);
			h->cpu_model[strcspn(h->cpu_model, "\n")] = '\0';
		} else if (!strncmp(line, "flags", 5) && !have_flags) {
			have_flags = true;
			snprintf(h->cpu_flags, sizeof(h->cpu_flags), "%s%s%s",
				 flag_listed(colon + 1, vh->cpu_flag) ? vh->cpu_flag : "",
				 flag_listed(colon + 1, vh->paging_flag) ? " " : "",
				 flag_listed(colon + 1, vh->paging_flag) ? vh->paging_flag : "");
		}
	}
	fclose(f);
}

static int read_nested(const char *root, const char *module)
{
	char path[256], v[8] = "";
	FILE *f;

	snprintf(path, sizeof(path), "sys/module/%s/parameters/nested", module);
	if (!(f = open_under(root, path)))
		return -1;
	if (!fgets(v, sizeof(v), f))
		v[0] = '\0';
	fclose(f);
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1' ? 1 : v[0] == 'N' || v[0] == 'n' || v[0] == '0' ? 0 : -1;
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

/* read_line ROOT PATH: the first line of a small sysfs/procfs file, or "". */
static void read_line(const char *root, const char *path, char *buf, size_t len)
{
	FILE *f = open_under(root, path);

	buf[0] = '\0';
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/*
 * The module's GNU build ID from /sys/module/M/notes/.note.gnu.build-id (an
 * ELF note: namesz, descsz, type, "GNU\0", then the ID) as hex, first 12 bytes.
 */
static void read_build_id(const char *root, const char *module, char *hex, size_t len)
{
	unsigned char note[64];
	char path[256];
	FILE *f;
	size_t n, namesz, descsz, off;

	hex[0] = '\0';
	snprintf(path, sizeof(path), "sys/module/%s/notes/.note.gnu.build-id", module);
	if (!(f = open_under(root, path)))
		return;
	n = fread(note, 1, sizeof(note), f);
	fclose(f);
	if (n < 16)
		return;
	namesz = note[0] | note[1] << 8;
	descsz = note[4] | note[5] << 8;
	off = 12 + ((namesz + 3) & ~(size_t)3);
	for (size_t i = 0; i < descsz && i < 12 && off + i < n && 2 * i + 3 <= len; i++)
		snprintf(hex + 2 * i, 3, "%02x", note[off + i]);
}

/*
 * Which kernel and which KVM build ran the test: a verdict from a custom or
 * bisected module must say exactly which one. srcversion and version exist
 * only for modules that declare them; the build ID and the taint flags ("E":
 * unsigned, "O": out of tree) always do.
 */
static void probe_build(const char *root, struct host_facts *h)
{
	static const char *const attrs[] = { "srcversion", "version", "taint" };
	const char *modules[2] = { "kvm", h->kvm_module };
	size_t used = 0;

	read_line(root, "proc/sys/kernel/osrelease", h->kernel_release, sizeof(h->kernel_release));
	h->kvm_build[0] = '\0';
	for (int i = 0; i < 2; i++) {
		char dir[128], id[32], val[64], path[512];
		DIR *d;

		if (!modules[i][0] || (i == 1 && !strcmp(modules[1], "kvm")))
			continue;
		snprintf(dir, sizeof(dir), "sys/module/%s", modules[i]);
		snprintf(path, sizeof(path), "%s/%s", root, dir);
		if (!(d = opendir(path)))
			continue;
		closedir(d);
		read_build_id(root, modules[i], id, sizeof(id));
		used += snprintf(h->kvm_build + used, sizeof(h->kvm_build) - used, "%s%s build-id=%s",
				 used ? "; " : "", modules[i], id[0] ? id : "unknown");
		for (int a = 0; a < 3 && used < sizeof(h->kvm_build); a++) {
			snprintf(path, sizeof(path), "%s/%s", dir, attrs[a]);
			read_line(root, path, val, sizeof(val));
			if (val[0] && used < sizeof(h->kvm_build))
				used += snprintf(h->kvm_build + used, sizeof(h->kvm_build) - used, " %s=%s",
						 attrs[a], val);
		}
		if (used >= sizeof(h->kvm_build))
			break;
	}
}

void host_probe_files(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	probe_cpuinfo(root, vh, h);
	probe_module(root, vh, h);
	probe_build(root, h);
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
