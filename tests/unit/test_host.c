// SPDX-License-Identifier: MIT
/* Host checks from fixture trees of /proc/cpuinfo and /sys/module. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "host.h"

static struct host_facts h;
static char reason[VERDICT_REASON_MAX], details[VERDICT_DETAILS_MAX];

/* Facts as on a host whose KVM answers: the file part from a fixture. */
static void probe(const char *fixture, const struct vendor_host *vh, const char *cpu_vendor,
		  bool supported, int nested_state)
{
	memset(&h, 0, sizeof(h));
	h.nested_param = -1;
	snprintf(h.cpu_vendor, sizeof(h.cpu_vendor), "%s", cpu_vendor);
	host_probe_files(fixture, vh, &h);
	h.kvm_api_version = 12;
	h.supported_cpuid_virt = supported;
	h.cap_nested_state = nested_state;
}

#define FIX(name) FIXTURES_DIR "/host/" name

Test(host, reads_cpuinfo_and_module)
{
	probe(FIX("amd-nested"), &vendor_host_amd, "AuthenticAMD", true, 1);
	cr_assert_str_eq(h.cpu_model, "AMD EPYC 7763 64-Core Processor");
	cr_assert_str_eq(h.cpu_flags, "svm npt");
	cr_assert_str_eq(h.kvm_module, "kvm_amd");
	cr_assert_eq(h.nested_param, 1);
}

/* The exact kernel and KVM build, so a bisect verdict names what it tested. */
Test(host, names_the_kernel_release_and_kvm_build)
{
	probe(FIX("amd-nested"), &vendor_host_amd, "AuthenticAMD", true, 1);
	cr_assert_str_eq(h.kernel_release, "6.12.117+deb12-amd64");
	cr_assert_str_eq(h.kvm_build, "kvm build-id=45ad088e31736597bd22bf6d taint=E; "
			 "kvm_amd build-id=4e95593d0347cbd6bb7e3af1 srcversion=1CE7516F57F4F99ED437008 taint=OE");
}

Test(host, kvm_build_without_sysfs_notes_says_unknown)
{
	probe(FIX("amd-nested-off"), &vendor_host_amd, "AuthenticAMD", false, 1);
	cr_assert_str_eq(h.kernel_release, "");
	cr_assert(strstr(h.kvm_build, "kvm_amd build-id=unknown"), "%s", h.kvm_build);
}

Test(host, nested_available_passes)
{
	probe(FIX("amd-nested"), &vendor_host_amd, "AuthenticAMD", true, 1);
	cr_assert_eq(host_check_nested(&h, &vendor_host_amd, false, reason, sizeof(reason),
				       details, sizeof(details)), NVM_PASS, "%s", reason);
	cr_assert(strstr(details, "kvm_module=kvm_amd"), "%s", details);
}

Test(host, nested_zero_names_the_remedy)
{
	probe(FIX("amd-nested-off"), &vendor_host_amd, "AuthenticAMD", false, 1);
	cr_assert_eq(h.nested_param, 0);
	cr_assert_eq(host_check_nested(&h, &vendor_host_amd, false, reason, sizeof(reason),
				       details, sizeof(details)), NVM_SKIP);
	cr_assert(strstr(reason, "nested=0"), "%s", reason);
	cr_assert(strstr(reason, "modprobe -r kvm_amd && modprobe kvm_amd nested=1"), "%s", reason);
	cr_assert(strstr(reason, "/etc/modprobe.d/kvm.conf"), "%s", reason);
}

Test(host, strict_turns_the_skip_into_a_failure)
{
	probe(FIX("amd-nested-off"), &vendor_host_amd, "AuthenticAMD", false, 1);
	cr_assert_eq(host_check_nested(&h, &vendor_host_amd, true, reason, sizeof(reason),
				       details, sizeof(details)), NVM_FAIL);
}

Test(host, other_backend_is_named)
{
	probe(FIX("pvm"), &vendor_host_amd, "AuthenticAMD", false, 0);
	cr_assert_str_eq(h.kvm_module, "kvm_pvm");
	cr_assert_eq(h.nested_param, -1);
	cr_assert_str_eq(h.cpu_flags, "");
	cr_assert_eq(host_check_nested(&h, &vendor_host_amd, false, reason, sizeof(reason),
				       details, sizeof(details)), NVM_SKIP, "%s", reason);
	cr_assert(strstr(reason, "backend is kvm_pvm"), "%s", reason);
	cr_assert(strstr(reason, "lack \"svm\""), "%s", reason);
	cr_assert(strstr(reason, "KVM_CAP_NESTED_STATE=0"), "%s", reason);
}

Test(host, intel_y_parameter)
{
	probe(FIX("intel-nested"), &vendor_host_intel, "GenuineIntel", true, 1);
	cr_assert_eq(h.nested_param, 1, "\"Y\" means on");
	cr_assert_str_eq(h.cpu_flags, "vmx ept");
	cr_assert_eq(host_check_nested(&h, &vendor_host_intel, false, reason, sizeof(reason),
				       details, sizeof(details)), NVM_PASS);
}

Test(host, wrong_vendor_is_a_skip_with_reason)
{
	probe(FIX("pvm"), &vendor_host_intel, "AuthenticAMD", false, 0);
	cr_assert_eq(host_check_nested(&h, &vendor_host_intel, false, reason, sizeof(reason),
				       details, sizeof(details)), NVM_SKIP);
	cr_assert(strstr(reason, "--arch intel needs a GenuineIntel CPU"), "%s", reason);
}

Test(host, kvm_open_errors_are_explained)
{
	probe(FIX("no-kvm"), &vendor_host_amd, "AuthenticAMD", false, 0);
	reason[0] = '\0';   /* each call must write its own reason */
	host_explain_kvm_open("/dev/kvm", ENOENT, FIX("no-kvm"), &vendor_host_amd, &h, reason, sizeof(reason));
	cr_assert(strstr(reason, "firmware"), "no svm flag: firmware setting: %s", reason);

	probe(FIX("amd-nested-off"), &vendor_host_amd, "AuthenticAMD", false, 0);
	reason[0] = '\0';   /* each call must write its own reason */
	host_explain_kvm_open("/dev/kvm", ENOENT, FIX("no-kvm"), &vendor_host_amd, &h, reason, sizeof(reason));
	cr_assert(strstr(reason, "modprobe kvm_amd"), "svm flag but no module: %s", reason);

	reason[0] = '\0';   /* each call must write its own reason */
	host_explain_kvm_open("/dev/kvm2", EACCES, FIX("amd-nested"), &vendor_host_amd, &h, reason, sizeof(reason));
	cr_assert(strstr(reason, "/dev/kvm2: Permission denied"), "names the device: %s", reason);
	cr_assert(strstr(reason, "kvm group"), "%s", reason);
}

Test(host, missing_files_leave_facts_unknown)
{
	probe("/nonexistent-root", &vendor_host_amd, "AuthenticAMD", false, 0);
	cr_assert_str_eq(h.kvm_module, "");
	cr_assert_eq(h.nested_param, -1);
	cr_assert_str_eq(h.cpu_model, "");
}
