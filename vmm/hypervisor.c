// SPDX-License-Identifier: MIT
/*
 * The outer-hypervisor table. Signatures: each hypervisor's own definition
 * (cited per row); DMI prefixes: systemd's src/basic/virt.c dmi_vendor_table
 * unless cited otherwise. Remedies: the vendors' guides named per row.
 */
#include <stdio.h>
#include <string.h>

#include "hostread.h"
#include "hypervisor.h"

/* What users of Hyper-V hit after exposing the extensions (Microsoft's nested-virtualization guide). */
#define HYPERV_NOTES \
	"with the VM off; also turn dynamic memory off (Set-VMMemory -VMName <vm> " \
	"-DynamicMemoryEnabled $false) and, for L2 networking, MAC address spoofing on " \
	"(Get-VMNetworkAdapter -VMName <vm> | Set-VMNetworkAdapter -MacAddressSpoofing On); " \
	"a host with virtualization-based security (Device Guard, VBS) cannot expose the " \
	"extensions; Microsoft's Get-NestedVirtStatus.ps1 checks the host"

const struct hypervisor hypervisors[] = {
	/* Linux include/uapi/linux/kvm_para.h KVM_SIGNATURE "KVMKVMKVM\0\0\0"; DMI: product_name "KVM". */
	{ "kvm", "KVM (QEMU/libvirt)", "KVMKVMKVM",
	  { "product_name=KVM", "sys_vendor=QEMU", "sys_vendor=Red Hat", "sys_vendor=OpenStack" }, NULL,
	  "svm vmx", "kvm-nested",
	  "on the outer host, modprobe -r {module} && modprobe {module} nested=1 (permanent: "
	  "options {module} nested=1 in /etc/modprobe.d/kvm.conf), and give this VM a CPU model "
	  "that passes {flag} through: libvirt <cpu mode='host-passthrough'/> or "
	  "<feature policy='require' name='{flag}'/>, QEMU -cpu host or -cpu qemu64,+{flag}",
	  "restart this VM after changing its CPU model; KVM tests L0 -> L1 -> L2, and Red Hat "
	  "does not support L3 guests", NULL },
	/* QEMU target/i386/cpu.c: "TCGTCGTCGTCG" under TCG. TCG emulates SVM, never VMX. */
	{ "qemu-tcg", "QEMU TCG (emulation, no KVM)", "TCGTCGTCGTCG", { NULL }, NULL,
	  "svm", "qemu-tcg-svm",
	  "start QEMU with -cpu max, or add +svm to its CPU model (-cpu qemu64,+svm)",
	  "TCG is slow: expect seconds per boot",
	  "QEMU's TCG emulates SVM but never VMX: run this VM under KVM instead "
	  "(-accel kvm -cpu host on a host with VMX and kvm_intel nested=1), or test SVM in a "
	  "TCG VM with an AMD CPU model (-cpu EPYC,+svm or -cpu max)" },
	/* Hyper-V TLFS: 4000_0000h "Microsoft Hv"; DMI: sys_vendor "Microsoft Corporation", product_name "Virtual Machine". */
	{ "hyperv", "Microsoft Hyper-V", "Microsoft Hv",
	  { "product_name=Virtual Machine", NULL }, NULL,
	  "svm vmx", "hyperv-expose-virtualization-extensions",
	  "Set-VMProcessor -VMName <vm> -ExposeVirtualizationExtensions $true on the Hyper-V host",
	  HYPERV_NOTES, NULL },
	/*
	 * Azure: Hyper-V underneath; its VMs carry chassis_asset_tag
	 * 7783-7084-3265-9085-8269-3286-77 (cloud-init's DataSourceAzure).
	 * GitHub-hosted runners are Azure VMs.
	 */
	{ "azure", "Microsoft Azure (Hyper-V)", NULL,
	  { "chassis_asset_tag=7783-7084-3265-9085-8269-3286-77", NULL }, "Microsoft Hv",
	  "svm vmx", "azure-nested-size",
	  "resize the VM to a size whose specification lists nested virtualization as supported "
	  "(e.g. the Dv5/Ev5 series), with security type Standard",
	  "confidential VMs (TDX, SEV-SNP) offer no nesting; on GitHub-hosted runners use a "
	  "larger Linux runner, whose /dev/kvm is usable", NULL },
	/* VMware KB 1009458 and Linux arch/x86/kernel/cpu/vmware.c: "VMwareVMware"; DMI "VMware, Inc.". */
	{ "vmware", "VMware (ESXi, Workstation, Fusion)", "VMwareVMware",
	  { "sys_vendor=VMware", "sys_vendor=VMW", NULL }, NULL,
	  "svm vmx", "vmware-vhv",
	  "vhv.enable = \"TRUE\" in the VM's .vmx (vSphere: Expose hardware assisted virtualization "
	  "to the guest OS; Workstation/Fusion: Virtualize Intel VT-x/EPT or AMD-V/RVI), VM off",
	  "ESXi 5.0 also needs vhv.allow = \"TRUE\" in /etc/vmware/config; add "
	  "hypervisor.cpuid.v0 = \"FALSE\" to hide VMware from a Hyper-V L1; an EVC cluster "
	  "baseline may mask the extension", NULL },
	/* Xen xen/include/public/arch-x86/cpuid.h XEN_CPUID_SIGNATURE; DMI sys_vendor "Xen", product_name "HVM domU". */
	{ "xen", "Xen (HVM)", "XenVMMXenVMM", { "sys_vendor=Xen", NULL }, NULL,
	  "svm vmx", "xen-nestedhvm",
	  "nestedhvm = 1 in this guest's xl config (with hap = 1), then shut it down and start it again",
	  "Xen calls nested HVM a tech preview", NULL },
	/*
	 * VirtualBox's GIM minimal provider: "VBoxVBoxVBox"; its paravirtualisation providers
	 * show KVM's or Hyper-V's signature instead (Linux guests default to KVM's), so DMI
	 * (sys_vendor "innotek GmbH", product_name "VirtualBox") decides.
	 */
	{ "virtualbox", "Oracle VirtualBox", "VBoxVBoxVBox",
	  { "sys_vendor=innotek GmbH", "product_name=VirtualBox", "sys_vendor=Oracle Corporation", NULL },
	  "KVMKVMKVM|Microsoft Hv",
	  "svm vmx", "virtualbox-nested-hw-virt",
	  "VBoxManage modifyvm <vm> --nested-hw-virt on, with the VM off",
	  "VirtualBox 6.0 added nested AMD-V, 6.1 nested VT-x; the host's own Hyper-V must be off", NULL },
	/*
	 * Parallels: "prl hyperv  " (dumps that print registers big-endian show " lrpepyh  vr");
	 * DMI sys_vendor "Parallels Software International Inc." / "Parallels International GmbH.".
	 */
	{ "parallels", "Parallels Desktop", "prl hyperv", { "sys_vendor=Parallels", NULL }, NULL,
	  "svm vmx", "parallels-nested",
	  "turn on Enable nested virtualization in the VM's Hardware > CPU & Memory > Advanced "
	  "settings, VM off", NULL, NULL },
	/* FreeBSD sys/amd64/vmm/x86.c bhyve_id "bhyve bhyve "; Linux arch/x86/kernel/cpu/bhyve.c; DMI "BHYVE". */
	{ "bhyve", "FreeBSD bhyve", "bhyve bhyve", { "sys_vendor=BHYVE", "bios_vendor=BHYVE", NULL }, NULL,
	  "", "bhyve-no-nesting", NULL, NULL,
	  "bhyve has no setting that passes {virt} to its guests: run nestvmm on the bare-metal "
	  "host, or in a VM of a hypervisor that nests (KVM, Hyper-V, VMware)" },
	/* Linux arch/x86/kernel/cpu/acrn.c: "ACRNACRNACRN". ACRN nests VMX only. */
	{ "acrn", "Project ACRN", "ACRNACRNACRN", { NULL }, NULL,
	  "vmx", "acrn-nested",
	  "build ACRN with nested virtualization enabled and enable it for this VM in the "
	  "scenario configuration (ACRN's Enable Nested Virtualization guide)", NULL,
	  "ACRN nests Intel VMX only; SVM cannot be passed to its guests" },
	/* QNX hypervisor: "QNXQVMBSQG" (systemd virt.c cpuid_vendor_table). */
	{ "qnx", "QNX Hypervisor", "QNXQVMBSQG", { NULL }, NULL,
	  "", "qnx-no-nesting", NULL, NULL,
	  "the QNX hypervisor does not pass {virt} to its guests: run nestvmm elsewhere" },
	/*
	 * Google Compute Engine: KVM underneath; DMI sys_vendor "Google", product_name
	 * "Google Compute Engine". Nested virtualization on Intel machine series only.
	 */
	{ "gce", "Google Compute Engine (KVM)", NULL,
	  { "product_name=Google Compute Engine", NULL }, "KVMKVMKVM",
	  "vmx", "gce-enable-nested-virtualization",
	  "create the instance with gcloud compute instances create <vm> "
	  "--enable-nested-virtualization on an Intel machine series (e.g. N2); for an existing "
	  "VM set advancedMachineFeatures.enableNestedVirtualization: true "
	  "(gcloud compute instances export/update-from-file), VM stopped",
	  "an organization policy (constraints/compute.disableNestedVirtualization) can forbid it",
	  "Compute Engine nests Intel VMX only: use an Intel machine series (e.g. N2) with "
	  "--enable-nested-virtualization" },
	/*
	 * Amazon EC2: Nitro is KVM-based ("KVMKVMKVM"), older instances Xen; DMI sys_vendor
	 * "Amazon EC2". EC2 CpuOptions NestedVirtualization: c8i, m8i, r8i (8th-generation Intel).
	 */
	{ "ec2", "Amazon EC2", NULL, { "sys_vendor=Amazon EC2", NULL }, "KVMKVMKVM|XenVMMXenVMM",
	  "vmx", "ec2-cpu-options-nested-virtualization",
	  "launch a c8i, m8i or r8i instance with --cpu-options NestedVirtualization=enabled "
	  "(existing instance, stopped: aws ec2 modify-instance-cpu-options --instance-id <id> "
	  "--nested-virtualization enabled), or use a *.metal instance",
	  "enabling it turns Virtual Secure Mode (VSM) off for the instance",
	  "EC2 nests Intel VMX only (c8i, m8i, r8i with NestedVirtualization=enabled), or use a "
	  "*.metal instance" },
	{ NULL, NULL, NULL, { NULL }, NULL, NULL, NULL, NULL, NULL, NULL },
};

/* A hypervisor bit with a signature nobody here knows. */
const struct hypervisor hypervisor_unknown = {
	"unknown", "an unrecognised hypervisor", NULL, { NULL }, NULL, "svm vmx", "outer-enable-nesting",
	"enable nested virtualization ({virt} passthrough) for this VM in the outer hypervisor's "
	"settings", NULL, NULL,
};

/* Signatures compare without the NULs and blanks vendors pad them with. */
static void sig_trim(const char *in, char *out, size_t len)
{
	size_t n = 0;

	while (*in == ' ')
		in++;
	for (; *in && n + 1 < len; in++)
		out[n++] = *in;
	while (n && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

const struct hypervisor *hypervisor_by_signature(const char *sig)
{
	char s[16];

	sig_trim(sig, s, sizeof(s));
	if (!s[0])
		return NULL;
	for (const struct hypervisor *h = hypervisors; h->id; h++)
		if (h->signature && !strcmp(h->signature, s))
			return h;
	return NULL;
}

const struct hypervisor *hypervisor_by_id(const char *id)
{
	for (const struct hypervisor *h = hypervisors; h->id; h++)
		if (!strcmp(h->id, id))
			return h;
	return !strcmp(id, hypervisor_unknown.id) ? &hypervisor_unknown : NULL;
}

void dmi_probe(const char *root, struct dmi_id *d)
{
	hostread_line(root, "sys/class/dmi/id/sys_vendor", d->sys_vendor, sizeof(d->sys_vendor));
	hostread_line(root, "sys/class/dmi/id/product_name", d->product_name, sizeof(d->product_name));
	hostread_line(root, "sys/class/dmi/id/bios_vendor", d->bios_vendor, sizeof(d->bios_vendor));
	hostread_line(root, "sys/class/dmi/id/chassis_asset_tag", d->chassis_asset_tag,
		      sizeof(d->chassis_asset_tag));
}

static const char *dmi_field(const struct dmi_id *d, const char *name, size_t n)
{
	static const struct { const char *name; size_t off; } fields[] = {
		{ "sys_vendor", offsetof(struct dmi_id, sys_vendor) },
		{ "product_name", offsetof(struct dmi_id, product_name) },
		{ "bios_vendor", offsetof(struct dmi_id, bios_vendor) },
		{ "chassis_asset_tag", offsetof(struct dmi_id, chassis_asset_tag) },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == n && !strncmp(fields[i].name, name, n))
			return (const char *)d + fields[i].off;
	return "";
}

/* Clouds first: their DMI is more specific than the hypervisor underneath. */
const struct hypervisor *hypervisor_by_dmi(const struct dmi_id *d)
{
	for (int pass = 0; pass < 2; pass++)
		for (const struct hypervisor *h = hypervisors; h->id; h++) {
			if ((pass == 0) != (h->signature == NULL))
				continue;
			for (int i = 0; i < 4 && h->dmi[i]; i++) {
				const char *eq = strchr(h->dmi[i], '=');
				const char *v = dmi_field(d, h->dmi[i], (size_t)(eq - h->dmi[i]));
				if (v[0] && !strncmp(v, eq + 1, strlen(eq + 1)))
					return h;
			}
		}
	return NULL;
}

/* Does the DMI-named row run under the hypervisor CPUID shows (a cloud on KVM)? */
static bool runs_on(const struct hypervisor *dmi, const struct hypervisor *cpuid)
{
	const char *p = dmi->runs_on;
	size_t n;

	if (!p || !cpuid->signature)
		return false;
	for (; *p; p += n + (p[n] == '|')) {
		n = strcspn(p, "|");
		if (strlen(cpuid->signature) == n && !strncmp(p, cpuid->signature, n))
			return true;
	}
	return false;
}

const struct hypervisor *hypervisor_identify(bool hv_bit, const char *sig0, const char *sig1,
					     const struct dmi_id *d, const char **via)
{
	const struct hypervisor *c = hv_bit ? hypervisor_by_signature(sig0) : NULL;
	const struct hypervisor *behind = hv_bit ? hypervisor_by_signature(sig1) : NULL;
	const struct hypervisor *m = hypervisor_by_dmi(d);

	*via = "cpuid";
	/* QEMU's Hyper-V enlightenments (and Xen's Viridian) put their own signature at 4000_0100h. */
	if (c && !strcmp(c->id, "hyperv") && behind) {
		c = behind;
		*via = "cpuid 0x40000100";
	}
	if (m && (!hv_bit || !c || c == m || runs_on(m, c))) {
		*via = !hv_bit ? "dmi" : c ? "cpuid+dmi" : "dmi (unknown CPUID signature)";
		return m;
	}
	if (c)
		return c;
	if (hv_bit)
		return &hypervisor_unknown;
	return NULL;
}

bool hypervisor_offers(const struct hypervisor *h, const struct vendor_host *vh)
{
	size_t n = strlen(vh->cpu_flag);

	for (const char *p = h->offers; (p = strstr(p, vh->cpu_flag)); p += n)
		if ((p == h->offers || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

void hypervisor_expand(const char *tmpl, const struct vendor_host *vh, char *out, size_t len)
{
	static const char *const keys[] = { "{module}", "{flag}", "{virt}", "{firmware}" };
	size_t used = 0;

	if (!len)
		return;
	out[0] = '\0';
	for (const char *p = tmpl; p && *p && used + 1 < len;) {
		const char *val = NULL;
		size_t k;
		for (k = 0; k < 4; k++)
			if (!strncmp(p, keys[k], strlen(keys[k]))) {
				val = k == 0 ? vh->module : k == 1 ? vh->cpu_flag : k == 2 ? vh->virt :
				      vh->firmware_setting;
				break;
			}
		if (val) {
			used += (size_t)snprintf(out + used, len - used, "%s", val);
			if (used >= len)
				used = len - 1;
			p += strlen(keys[k]);
		} else {
			out[used++] = *p++;
			out[used] = '\0';
		}
	}
}

/* The CPUID bit of vh's extension, as --cpu names it ("svm", "vmx"). */
static bool cpu_reports(const char *root, const struct vendor_host *vh)
{
	uint32_t r[4];

	for (const struct cpuid_feature *f = vh->features; f && f->name; f++)
		if (!strcmp(f->name, vh->cpu_flag)) {
			hostread_cpuid(root, f->leaf, f->subleaf, r);
			return r[f->reg] >> f->bit & 1;
		}
	return false;
}

void outer_probe(const char *root, const struct vendor_host *vh, struct host_facts *h)
{
	struct dmi_id d;
	uint32_t r[4];
	char path[128], v[8];

	h->cpu_has_virt = cpu_reports(root, vh);
	dmi_probe(root, &d);
	snprintf(h->dmi_vendor, sizeof(h->dmi_vendor), "%s", d.sys_vendor);
	snprintf(h->dmi_product, sizeof(h->dmi_product), "%s", d.product_name);
	h->outer = hypervisor_identify(h->hv_bit, h->hypervisor, h->hv_behind, &d, &h->outer_via);

	/* Hyper-V's interface (Hyper-V itself, or KVM/Xen imitating it): the leaves for nesting. */
	h->hv_leaves = false;
	h->hv_hints = h->hv_nested = 0;
	if (h->hv_bit && !strcmp(h->hypervisor, "Microsoft Hv")) {
		uint32_t max;
		hostread_cpuid(root, 0x40000000u, 0, r);
		max = r[0];
		h->hv_leaves = max >= HV_CPUID_ENLIGHTMENT_INFO;
		if (max >= HV_CPUID_ENLIGHTMENT_INFO) {
			hostread_cpuid(root, HV_CPUID_ENLIGHTMENT_INFO, 0, r);
			h->hv_hints = r[0];
		}
		if (max >= HV_CPUID_NESTED_FEATURES) {
			hostread_cpuid(root, HV_CPUID_NESTED_FEATURES, 0, r);
			h->hv_nested = r[0];
		}
	}
	/* kvm_intel's enlightened_vmcs reads Y only when KVM took the eVMCS into use. */
	snprintf(path, sizeof(path), "sys/module/%s/parameters/enlightened_vmcs", vh->module);
	h->evmcs_param = !hostread_line(root, path, v, sizeof(v)) ? -1 :
			 v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
}
