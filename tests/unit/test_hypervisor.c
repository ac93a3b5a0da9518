// SPDX-License-Identifier: MIT
/*
 * The outer-hypervisor table, row by row, on host snapshots under
 * tests/fixtures/host/hv-* (each cites its sources in SOURCE): the name users
 * know, the exact setting, the remedy id JSON carries, and the CPU vendor's
 * part (TCG has no VMX, Compute Engine and EC2 nest Intel only).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "format.h"
#include "hypervisor.h"

static struct host_facts h;
static const struct vendor_host *vh;
static char reason[VERDICT_REASON_MAX], details[VERDICT_DETAILS_MAX];
static enum nvm_status st;

#define FIX(name) FIXTURES_DIR "/host/" name

/* The diagnosis of a snapshot: vendor from its CPUID, KVM's answer as given. */
static void diagnose(const char *fixture, bool supported)
{
	memset(&h, 0, sizeof(h));
	h.nested_param = h.evmcs_param = -1;
	host_probe_cpu(fixture, &h);
	vh = vendor_host_by_cpu(h.cpu_vendor);
	cr_assert(vh, "%s: CPUID vendor \"%s\"", fixture, h.cpu_vendor);
	host_probe_files(fixture, vh, &h);
	h.kvm_api_version = 12;
	h.supported_cpuid_virt = supported;
	h.cap_nested_state = supported;
	st = host_check_nested(&h, vh, false, reason, sizeof(reason), details, sizeof(details));
}

static void expect_row(const char *id, const char *via, const char *remedy_id, const char *setting)
{
	cr_assert(h.outer, "no outer hypervisor found: %s", reason);
	cr_assert_str_eq(h.outer->id, id, "%s", reason);
	cr_assert_str_eq(h.outer_via, via);
	cr_assert_eq(st, NVM_SKIP, "%s", reason);
	cr_assert(strstr(reason, h.outer->name), "names %s: %s", h.outer->name, reason);
	cr_assert(strstr(reason, setting), "exact setting \"%s\": %s", setting, reason);
	cr_assert_geq(h.n_missing, 1);
	cr_assert_str_eq(h.missing[0].piece, "outer-hypervisor");
	cr_assert_str_eq(h.missing[0].remedy_id, remedy_id);
	cr_assert(strstr(h.missing[0].remedy, setting), "%s", h.missing[0].remedy);
	cr_assert(strstr(reason, "L1 is L2 of the machine and its L2 is L3"), "%s", reason);
}

Test(hypervisor, kvm_names_nested_param_and_passthrough_model)
{
	diagnose(FIX("hv-kvm-intel"), false);
	expect_row("kvm", "cpuid+dmi", "kvm-nested", "modprobe -r kvm_intel && modprobe kvm_intel nested=1");
	cr_assert(strstr(reason, "options kvm_intel nested=1 in /etc/modprobe.d/kvm.conf"), "%s", reason);
	cr_assert(strstr(reason, "<cpu mode='host-passthrough'/>"), "%s", reason);
	cr_assert(strstr(reason, "<feature policy='require' name='vmx'/>"), "%s", reason);
	cr_assert(strstr(reason, "-cpu host or -cpu qemu64,+vmx"), "%s", reason);
}

/* This machine's kernel view, as measured: KVM (PVM) on AMD, no svm, kvm_pvm loaded. */
Test(hypervisor, this_machine_kvm_amd)
{
	diagnose(FIX("pvm"), false);
	expect_row("kvm", "cpuid", "kvm-nested", "modprobe -r kvm_amd && modprobe kvm_amd nested=1");
	cr_assert(strstr(reason, "<cpu mode='host-passthrough'/>"), "%s", reason);
	cr_assert(strstr(reason, "qemu64,+svm"), "%s", reason);
	cr_assert_str_eq(h.missing[1].piece, "kvm-backend", "kvm_pvm is the second piece");
	cr_assert_eq(h.fw_disabled, -1, "amd_pstate's CPPC \"disabled by the BIOS\" is not SVM: %s",
		     h.fw_evidence);
}

Test(hypervisor, kvm_behind_hyperv_interface_is_kvm)
{
	diagnose(FIX("hv-kvm-hyperv-iface"), false);
	cr_assert_str_eq(h.hypervisor, "Microsoft Hv");
	cr_assert_str_eq(h.hv_behind, "KVMKVMKVM");
	expect_row("kvm", "cpuid+dmi", "kvm-nested", "kvm_intel nested=1");
	cr_assert_null(strstr(reason, "Hyper-V recommends"), "KVM's imitation is not Hyper-V: %s", reason);
}

Test(hypervisor, tcg_has_svm_but_never_vmx)
{
	diagnose(FIX("hv-tcg-amd"), false);
	expect_row("qemu-tcg", "cpuid", "qemu-tcg-svm", "-cpu max");
	diagnose(FIX("hv-tcg-intel"), false);
	cr_assert_str_eq(h.outer->id, "qemu-tcg");
	cr_assert(strstr(reason, "never VMX"), "%s", reason);
	cr_assert(strstr(reason, "-accel kvm -cpu host"), "%s", reason);
	cr_assert_str_eq(h.missing[0].remedy_id, "qemu-tcg", "no TCG setting gives VMX");
}

Test(hypervisor, hyperv_expose_virtualization_extensions)
{
	diagnose(FIX("hv-hyperv-intel"), false);
	expect_row("hyperv", "cpuid+dmi", "hyperv-expose-virtualization-extensions",
		   "Set-VMProcessor -VMName <vm> -ExposeVirtualizationExtensions $true");
	cr_assert(strstr(details, "-DynamicMemoryEnabled $false"), "%s", details);
	cr_assert(strstr(details, "-MacAddressSpoofing On"), "%s", details);
	cr_assert(strstr(details, "virtualization-based security"), "%s", details);
	cr_assert(strstr(details, "Get-NestedVirtStatus.ps1"), "%s", details);
}

/* Azure F72s_v2 (Kelley's dump): VMX exposed, eVMCS recommended v1-1, direct flush, KVM uses it. */
Test(hypervisor, azure_nested_reports_enlightenments)
{
	diagnose(FIX("hv-azure-intel-nested"), true);
	cr_assert_eq(st, NVM_PASS, "%s", reason);
	cr_assert_str_eq(h.outer->id, "azure");
	cr_assert(h.hv_leaves);
	cr_assert_eq(h.hv_hints, 0x00064e24);
	cr_assert_eq(h.hv_nested, 0x000e0101);
	cr_assert(strstr(reason, "Microsoft Azure (Hyper-V)"), "%s", reason);
	cr_assert(strstr(reason, "Hyper-V recommends the enlightened VMCS (versions 1-1), direct flush "
			 "offered; KVM uses the enlightened VMCS (enlightened_vmcs=Y)"), "%s", reason);
	cr_assert(strstr(reason, "L1 is L2 of the machine and its L2 is L3"), "%s", reason);
}

/* Each nested-feature bit on its own: direct flush is bit 17, not its neighbours 18/19. */
Test(hypervisor, hyperv_bits_one_by_one)
{
	diagnose(FIX("hv-azure-intel-nested"), true);
	h.hv_nested = 0x00000101 | 1u << 18 | 1u << 19;
	host_check_nested(&h, vh, false, reason, sizeof(reason), details, sizeof(details));
	cr_assert(strstr(reason, "(versions 1-1), direct flush not offered"), "%s", reason);
	h.hv_nested = 0x00000201 | 1u << 17;
	h.hv_hints &= ~(1u << 14);
	h.evmcs_param = 0;
	host_check_nested(&h, vh, false, reason, sizeof(reason), details, sizeof(details));
	cr_assert(strstr(reason, "Hyper-V does not recommend the enlightened VMCS (versions 1-2), direct "
			 "flush offered; KVM does not use the enlightened VMCS (enlightened_vmcs=N)"), "%s", reason);
}

/* Azure TDX (Weimer's dump): no VMX, no eVMCS recommendation, no nested features. */
Test(hypervisor, azure_without_nesting)
{
	diagnose(FIX("hv-azure-tdx"), false);
	expect_row("azure", "cpuid+dmi", "azure-nested-size", "nested virtualization as supported");
	cr_assert(strstr(reason, "Hyper-V does not recommend the enlightened VMCS (versions 0-0), direct "
			 "flush not offered"), "%s", reason);
}

Test(hypervisor, vmware_vhv_enable)
{
	diagnose(FIX("hv-vmware-intel"), false);
	expect_row("vmware", "cpuid+dmi", "vmware-vhv", "vhv.enable = \"TRUE\"");
	cr_assert(strstr(reason, "Virtualize Intel VT-x/EPT or AMD-V/RVI"), "%s", reason);
	cr_assert(strstr(details, "vhv.allow = \"TRUE\" in /etc/vmware/config"), "%s", details);
	cr_assert(strstr(details, "hypervisor.cpuid.v0 = \"FALSE\""), "%s", details);
	cr_assert(strstr(details, "EVC"), "%s", details);
}

Test(hypervisor, xen_nestedhvm)
{
	diagnose(FIX("hv-xen-amd"), false);
	expect_row("xen", "cpuid+dmi", "xen-nestedhvm", "nestedhvm = 1");
}

Test(hypervisor, virtualbox_behind_kvm_interface_by_dmi)
{
	diagnose(FIX("hv-virtualbox-kvm-iface"), false);
	cr_assert_str_eq(h.hypervisor, "KVMKVMKVM");
	expect_row("virtualbox", "cpuid+dmi", "virtualbox-nested-hw-virt",
		   "VBoxManage modifyvm <vm> --nested-hw-virt on");
}

Test(hypervisor, hidden_hypervisor_found_by_dmi)
{
	diagnose(FIX("hv-virtualbox-hidden"), false);
	cr_assert_not(h.hv_bit);
	expect_row("virtualbox", "dmi", "virtualbox-nested-hw-virt", "--nested-hw-virt on");
	diagnose(FIX("hv-qemu-hidden"), false);
	cr_assert_not(h.hv_bit);
	expect_row("kvm", "dmi", "kvm-nested", "kvm_intel nested=1");
}

Test(hypervisor, parallels)
{
	diagnose(FIX("hv-parallels-intel"), false);
	expect_row("parallels", "cpuid+dmi", "parallels-nested", "Enable nested virtualization");
}

Test(hypervisor, bhyve_cannot_nest)
{
	diagnose(FIX("hv-bhyve-amd"), false);
	expect_row("bhyve", "cpuid+dmi", "bhyve", "bhyve has no setting that passes SVM");
}

Test(hypervisor, acrn_nests_vmx)
{
	diagnose(FIX("hv-acrn-intel"), false);
	expect_row("acrn", "cpuid", "acrn-nested", "nested virtualization enabled");
}

Test(hypervisor, gce_nests_intel_only)
{
	diagnose(FIX("hv-gce-intel"), false);
	expect_row("gce", "cpuid+dmi", "gce-enable-nested-virtualization", "--enable-nested-virtualization");
	diagnose(FIX("hv-gce-amd"), false);
	expect_row("gce", "cpuid+dmi", "gce", "Compute Engine nests Intel VMX only");
}

Test(hypervisor, ec2_cpu_options)
{
	diagnose(FIX("hv-ec2-intel"), false);
	expect_row("ec2", "cpuid+dmi", "ec2-cpu-options-nested-virtualization",
		   "--cpu-options NestedVirtualization=enabled");
}

Test(hypervisor, unknown_signature_gets_the_generic_row)
{
	diagnose(FIX("hv-unknown"), false);
	cr_assert_str_eq(h.hypervisor, "NoSuchHyperV");
	expect_row("unknown", "cpuid", "outer-enable-nesting", "enable nested virtualization (SVM passthrough)");
}

Test(hypervisor, bare_metal_has_no_outer)
{
	diagnose(FIX("fw-intel-enabled"), true);
	cr_assert_null(h.outer);
	cr_assert_eq(st, NVM_PASS, "%s", reason);
	cr_assert_null(strstr(reason, "L3"), "%s", reason);
}

/* Signatures compare without padding; every row's signature finds its row. */
Test(hypervisor, signatures)
{
	static const struct { const char *sig, *id; } cases[] = {
		{ "KVMKVMKVM\0\0\0", "kvm" }, { "TCGTCGTCGTCG", "qemu-tcg" }, { "Microsoft Hv", "hyperv" },
		{ "VMwareVMware", "vmware" }, { "XenVMMXenVMM", "xen" }, { "VBoxVBoxVBox", "virtualbox" },
		{ "prl hyperv  ", "parallels" }, { " prl hyperv ", "parallels" }, { "bhyve bhyve ", "bhyve" },
		{ "ACRNACRNACRN", "acrn" }, { "QNXQVMBSQG  ", "qnx" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct hypervisor *r = hypervisor_by_signature(cases[i].sig);
		cr_assert(r, "%s", cases[i].sig);
		cr_assert_str_eq(r->id, cases[i].id);
	}
	cr_assert_null(hypervisor_by_signature("KVMKVM"));
	cr_assert_null(hypervisor_by_signature(""));
	for (const struct hypervisor *r = hypervisors; r->id; r++) {
		cr_assert(r->signature || r->runs_on, "%s: found by CPUID or runs on one", r->id);
		cr_assert(r->setting || r->cannot, "%s: a remedy either way", r->id);
		cr_assert(r->offers[0] ? r->setting != NULL : r->cannot != NULL, "%s", r->id);
	}
}

Test(hypervisor, expand_templates)
{
	char out[128];

	hypervisor_expand("{module} nested=1, +{flag}, {virt}", &vendor_host_intel, out, sizeof(out));
	cr_assert_str_eq(out, "kvm_intel nested=1, +vmx, VMX");
	hypervisor_expand("modprobe {module} and more text", &vendor_host_amd, out, 12);
	cr_assert_str_eq(out, "modprobe kv", "cut to fit");
}

/* JSON carries the diagnosis as data: hypervisor id and name, each piece, remedy id and command. */
Test(hypervisor, json_carries_the_diagnosis)
{
	static struct verdict v;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	diagnose(FIX("hv-vmware-intel"), false);
	verdict_init(&v, "intel");
	v.host = h;
	verdict_set(&v, NVM_STAGE_HOST_NESTED, st, reason, details);
	verdict_finish(&v);
	cr_assert((f = open_memstream(&buf, &len)));
	format_json(&v, f);
	fclose(f);
	cr_assert(strstr(buf, "\"outer_hypervisor\": {\"id\": \"vmware\", \"name\": \"VMware (ESXi, "
			 "Workstation, Fusion)\", \"signature\": \"VMwareVMware\""), "%s", buf);
	cr_assert(strstr(buf, "\"found_by\": \"cpuid+dmi\", \"dmi_sys_vendor\": \"VMware, Inc.\""), "%s", buf);
	cr_assert(strstr(buf, "\"missing\": [{\"piece\": \"outer-hypervisor\", \"remedy_id\": \"vmware-vhv\", "
			 "\"remedy\": \"vhv.enable = \\\"TRUE\\\" in the VM's .vmx"), "%s", buf);
	cr_assert(strstr(buf, "\"firmware\": {\"disabled\": null"), "%s", buf);
	free(buf);

	diagnose(FIX("hv-azure-intel-nested"), true);
	v.host = h;
	cr_assert((f = open_memstream(&buf, &len)));
	format_json(&v, f);
	fclose(f);
	cr_assert(strstr(buf, "\"hyperv\": {\"enlightenment_info\": 413220, \"nested_features\": 917761, "
			 "\"evmcs_recommended\": true, \"evmcs_version_low\": 1, \"evmcs_version_high\": 1, "
			 "\"direct_flush\": true, \"kvm_uses_evmcs\": true}"), "%s", buf);
	cr_assert(strstr(buf, "\"missing\": []"), "%s", buf);
	free(buf);
	verdict_free(&v);
}
