// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "firmware.h"
#include "host.h"
#include "hostread.h"
#include "hypervisor.h"
#include "nestvmm/x86.h"

/* EBX:ECX:EDX of a hypervisor leaf as text, unprintable bytes as '?'. */
static void hv_signature(const uint32_t r[4], char *sig)
{
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	sig[12] = '\0';
	for (int i = 0; i < 12; i++)
		if (sig[i] && (sig[i] < 0x20 || sig[i] > 0x7e))
			sig[i] = '?';
}

void host_probe_cpu(const char *root, struct host_facts *h)
{
	uint32_t r[4];

	hostread_cpuid(root, CPUID_LEAF_VENDOR, 0, r);
	memcpy(h->cpu_vendor, &r[1], 4);
	memcpy(h->cpu_vendor + 4, &r[3], 4);
	memcpy(h->cpu_vendor + 8, &r[2], 4);
	h->cpu_vendor[12] = '\0';
	/* A CI runner is often a VM itself: CPUID.1:ECX[31] and leaf 4000_0000h say whose. */
	hostread_cpuid(root, CPUID_LEAF_FEATURES, 0, r);
	h->hv_bit = r[2] & CPUID_1_ECX_HYPERVISOR;
	h->hypervisor[0] = h->hv_behind[0] = h->hv_user[0] = '\0';
	if (!h->hv_bit)
		return;
	hostread_cpuid(root, CPUID_LEAF_HV_BASE, 0, r);
	hv_signature(r, h->hypervisor);
	if (!h->hypervisor[0])
		strcpy(h->hypervisor, "unknown");
	/* QEMU with Hyper-V enlightenments keeps KVM's own leaves at 4000_0100h (QEMU docs, hyperv.rst). */
	hostread_cpuid(root, CPUID_LEAF_HV_BASE + 0x100, 0, r);
	hv_signature(r, h->hv_behind);
	/* Under PVM the kernel's CPUID is a hypercall; user mode sees the layer below. */
	hostread_cpuid_user(root, CPUID_LEAF_FEATURES, r);
	if (r[2] & CPUID_1_ECX_HYPERVISOR) {
		hostread_cpuid_user(root, CPUID_LEAF_HV_BASE, r);
		hv_signature(r, h->hv_user);
		if (!strcmp(h->hv_user, h->hypervisor))
			h->hv_user[0] = '\0';
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

/* read_line ROOT PATH: the first line of a small sysfs/procfs file, or "". */
static void read_line(const char *root, const char *path, char *buf, size_t len)
{
	size_t n = 0;
	char *text = read_under(root, path, &n);

	buf[0] = '\0';
	if (!text)
		return;
	snprintf(buf, len, "%.*s", (int)strcspn(text, "\n"), text);
	free(text);
}

/*
 * The module's GNU build ID from /sys/module/M/notes/.note.gnu.build-id (an
 * ELF note: namesz, descsz, type, "GNU\0", then the ID) as hex, first 12 bytes.
 */
static void read_build_id(const char *root, const char *module, char *hex, size_t len)
{
	unsigned char note[64];
	char path[256], *raw;
	size_t n = 0, namesz, descsz, off;

	hex[0] = '\0';
	snprintf(path, sizeof(path), "sys/module/%s/notes/.note.gnu.build-id", module);
	if (!(raw = read_under(root, path, &n)))
		return;
	if (n > sizeof(note))
		n = sizeof(note);
	memcpy(note, raw, n);
	free(raw);
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
	outer_probe(root, vh, h);
	firmware_probe(root, vh, h);
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
	else if (err == ENOENT && h->fw_disabled > 0)
		snprintf(reason, len, "%s: %s: %s is disabled in the firmware (%s): enable %s in the "
			 "firmware (BIOS/UEFI) setup", device, strerror(err), vh->virt, h->fw_evidence,
			 vh->firmware_setting);
	else if (err == ENOENT && !strstr(h->cpu_flags, vh->cpu_flag) && h->outer)
		snprintf(reason, len, "%s: %s, and the CPU flags lack \"%s\": this host is a VM under %s, "
			 "which does not pass %s to it (the setting is under host.nested)", device,
			 strerror(err), vh->cpu_flag, h->outer->name, vh->virt);
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
#define ADD_D(...) (dused += (size_t)snprintf(details + dused, dused < dlen ? dlen - dused : 0, __VA_ARGS__))

static void missing_add(struct host_facts *h, const char *piece, const char *remedy_id, const char *remedy)
{
	struct host_missing *m;

	if (h->n_missing >= HOST_MISSING_MAX)
		return;
	m = &h->missing[h->n_missing++];
	snprintf(m->piece, sizeof(m->piece), "%s", piece);
	snprintf(m->remedy_id, sizeof(m->remedy_id), "%s", remedy_id);
	snprintf(m->remedy, sizeof(m->remedy), "%s", remedy);
}

/* Hyper-V's nesting enlightenments in a few words, and whether KVM uses the enlightened VMCS. */
static void hyperv_summary(const struct host_facts *h, const struct vendor_host *vh, char *out, size_t len)
{
	bool rec = h->hv_hints & HV_ENLIGHTENED_VMCS_RECOMMENDED;

	snprintf(out, len, "Hyper-V %s the enlightened VMCS (versions %u-%u), direct flush %s; "
		 "KVM %s", rec ? "recommends" : "does not recommend",
		 HV_NESTED_EVMCS_VERSION_LOW(h->hv_nested), HV_NESTED_EVMCS_VERSION_HIGH(h->hv_nested),
		 h->hv_nested & HV_NESTED_DIRECT_FLUSH ? "offered" : "not offered",
		 h->evmcs_param > 0 ? "uses the enlightened VMCS (enlightened_vmcs=Y)" :
		 h->evmcs_param == 0 ? "does not use the enlightened VMCS (enlightened_vmcs=N)" :
		 !strcmp(vh->module, h->kvm_module) ? "has no enlightened VMCS here" :
		 "use of it unknown (vendor module not loaded)");
}

/* What the outer hypervisor must change, for this vendor: its setting, or why it cannot. */
static void outer_remedy(const struct host_facts *h, const struct vendor_host *vh, char *out, size_t len)
{
	const struct hypervisor *o = h->outer;

	hypervisor_expand(hypervisor_offers(o, vh) ? o->setting : o->cannot, vh, out, len);
}

enum nvm_status host_check_nested(struct host_facts *h, const struct vendor_host *vh,
				  bool strict, char *reason, size_t rlen, char *details, size_t dlen)
{
	size_t used = 0, dused = 0;
	bool own_module = !strcmp(h->kvm_module, vh->module);
	bool flag_missing = !strstr(h->cpu_flags, vh->cpu_flag);
	enum nvm_status missing = strict ? NVM_FAIL : NVM_SKIP;
	char fix[640], hv[256] = "", depth[200] = "";

	h->n_missing = 0;
	ADD_D("cpu_vendor=%s\ncpu_flags=%s\ncpuid_%s=%s\nhypervisor=%s\nkvm_module=%s\nnested=%s\n"
	      "kvm_api_version=%d\nsupported_cpuid_%s=%s\nKVM_CAP_NESTED_STATE=%d\n",
	      h->cpu_vendor, h->cpu_flags[0] ? h->cpu_flags : "(none)", vh->cpu_flag,
	      h->cpu_has_virt ? "yes" : "no", h->hypervisor[0] ? h->hypervisor : "(none)",
	      h->kvm_module[0] ? h->kvm_module : "(none)",
	      h->nested_param < 0 ? "(no such parameter)" : h->nested_param ? "1" : "0",
	      h->kvm_api_version, vh->cpu_flag, h->supported_cpuid_virt ? "yes" : "no",
	      h->cap_nested_state);
	if (h->outer) {
		ADD_D("outer_hypervisor=%s (%s, found by %s)\n", h->outer->name, h->outer->id, h->outer_via);
		if (h->hv_behind[0])
			ADD_D("hypervisor_0x40000100=%s\n", h->hv_behind);
		if (h->hv_user[0])
			ADD_D("hypervisor_user_mode=%s (CPUID outside the kernel sees another layer)\n", h->hv_user);
		if (h->dmi_vendor[0] || h->dmi_product[0])
			ADD_D("dmi=%s / %s\n", h->dmi_vendor, h->dmi_product);
		outer_remedy(h, vh, fix, sizeof(fix));
		ADD_D("outer_remedy=%s\n", fix);
		if (h->outer->notes) {
			hypervisor_expand(h->outer->notes, vh, fix, sizeof(fix));
			ADD_D("outer_notes=%s\n", fix);
		}
		snprintf(depth, sizeof(depth), "this host is itself a VM under %s: nestvmm's L1 is L2 of "
			 "the machine and its L2 is L3, a depth KVM's developers do not test", h->outer->name);
	}
	if (h->hv_leaves) {
		hyperv_summary(h, vh, hv, sizeof(hv));
		ADD_D("hyperv_enlightenment_info=0x%08x\nhyperv_nested_features=0x%08x\nhyperv: %s\n",
		      h->hv_hints, h->hv_nested, hv);
		/* The reason names them only under Hyper-V itself, not KVM imitating its interface. */
		if (!h->outer || strcmp(h->outer->signature ? h->outer->signature : h->outer->runs_on,
					"Microsoft Hv"))
			hv[0] = '\0';
	}
	ADD_D("firmware=%s%s%s%s\n", h->fw_disabled > 0 ? "disabled" : h->fw_disabled == 0 ? "enabled" :
	      "unknown", h->fw_source[0] ? " (" : "", h->fw_source, h->fw_source[0] ? ")" : "");
	if (h->fw_evidence[0])
		ADD_D("firmware_evidence=%s\n", h->fw_evidence);

	if (strcmp(h->cpu_vendor, vh->cpu_vendor)) {
		ADD("--arch %s needs a %s CPU; this host's is %s: KVM can offer %s only on %s hardware",
		    vh->arch, vh->cpu_vendor, h->cpu_vendor, vh->virt, vh->cpu_vendor);
		missing_add(h, "cpu-vendor", "arch-auto", "nestvmm --arch auto (test this CPU's own extension)");
		return missing;
	}
	if (h->supported_cpuid_virt) {
		if (own_module && h->nested_param != 0)
			ADD("KVM offers %s to guests (%s nested=%s)", vh->virt, vh->module,
			    h->nested_param > 0 ? "1" : "?");
		else
			ADD("KVM's supported CPUID offers %s (backend %s)", vh->virt,
			    h->kvm_module[0] ? h->kvm_module : "unknown");
		if (depth[0])
			ADD("; %s", depth);
		if (hv[0])
			ADD("; %s", hv);
		return NVM_PASS;
	}

	/* Not offered: name each missing piece, most fundamental first, with its remedy. */
	if (h->kvm_api_version < 0)
		ADD("no nested %s: no usable KVM here (see host.kvm)", vh->virt);
	else
		ADD("no nested %s: KVM's supported CPUID lacks %s", vh->virt, vh->cpu_flag);
	if (h->fw_disabled > 0) {
		snprintf(fix, sizeof(fix), "enable %s in the firmware (BIOS/UEFI) setup, then power the "
			 "machine off and on", vh->firmware_setting);
		ADD("; %s is disabled in the firmware (%s): %s", vh->virt, h->fw_evidence, fix);
		missing_add(h, "firmware", "firmware-enable", fix);
	} else if (flag_missing && h->outer) {
		outer_remedy(h, vh, fix, sizeof(fix));
		ADD("; the host CPU flags lack \"%s\": %s does not pass %s to this VM: %s", vh->cpu_flag,
		    h->outer->name, vh->virt, fix);
		missing_add(h, "outer-hypervisor", hypervisor_offers(h->outer, vh) ? h->outer->remedy_id :
			    h->outer->id, fix);
	} else if (flag_missing) {
		snprintf(fix, sizeof(fix), "enable %s in the firmware (BIOS/UEFI) setup", vh->firmware_setting);
		ADD("; the host CPU flags lack \"%s\" (%s: %s)", vh->cpu_flag,
		    h->cpu_has_virt ? "CPUID reports it, so the kernel found it switched off" :
				      "the CPU does not report it", fix);
		missing_add(h, "cpu-flag", "firmware-enable", fix);
	}
	if (!own_module && h->kvm_module[0]) {
		snprintf(fix, sizeof(fix), "modprobe -r %s && modprobe %s nested=1", h->kvm_module, vh->module);
		ADD("; the KVM backend is %s, not %s, and it offers no nesting (load %s instead: %s)",
		    h->kvm_module, vh->module, vh->module, fix);
		missing_add(h, "kvm-backend", "load-vendor-module", fix);
	} else if (h->nested_param == 0) {
		snprintf(fix, sizeof(fix), "modprobe -r %s && modprobe %s nested=1 (permanent: options %s "
			 "nested=1 in /etc/modprobe.d/kvm.conf)", vh->module, vh->module, vh->module);
		ADD("; %s is loaded with nested=0: %s", vh->module, fix);
		missing_add(h, "nested-param", "kvm-nested-param", fix);
	}
	if (!h->cap_nested_state && h->kvm_api_version >= 0)
		ADD("; KVM_CAP_NESTED_STATE=0");
	if (depth[0])
		ADD("; %s", depth);
	if (hv[0])
		ADD("; %s", hv);
	return missing;
}
