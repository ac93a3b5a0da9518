// SPDX-License-Identifier: MIT
/*
 * Firmware switch for VMX/SVM, as kvm-ok reads it: the vendor MSR from a
 * snapshot's msr file (/dev/cpu/0/msr live), else KVM's kernel-log lines.
 * Snapshots: tests/fixtures/host/fw-* (sources in each SOURCE).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "firmware.h"
#include "host.h"
#include "hostread.h"

static struct host_facts h;
static const struct vendor_host *vh;
static char reason[VERDICT_REASON_MAX], details[VERDICT_DETAILS_MAX];

#define FIX(name) FIXTURES_DIR "/host/" name

static enum nvm_status diagnose(const char *fixture)
{
	memset(&h, 0, sizeof(h));
	h.nested_param = h.evmcs_param = -1;
	host_probe_cpu(fixture, &h);
	vh = vendor_host_by_cpu(h.cpu_vendor);
	cr_assert(vh, "%s", fixture);
	host_probe_files(fixture, vh, &h);
	h.kvm_api_version = -1;     /* KVM refuses to load when the firmware disabled it */
	return host_check_nested(&h, vh, false, reason, sizeof(reason), details, sizeof(details));
}

static void expect_firmware(const char *source, const char *evidence, const char *setting)
{
	cr_assert_eq(h.fw_disabled, 1, "%s", h.fw_evidence);
	cr_assert_str_eq(h.fw_source, source);
	cr_assert(strstr(h.fw_evidence, evidence), "%s", h.fw_evidence);
	cr_assert(strstr(reason, "disabled in the firmware"), "%s", reason);
	cr_assert(strstr(reason, setting), "names the setting %s: %s", setting, reason);
	cr_assert_str_eq(h.missing[0].piece, "firmware");
	cr_assert_str_eq(h.missing[0].remedy_id, "firmware-enable");
	cr_assert_null(h.outer, "bare metal");
}

Test(firmware, intel_msr_locked_without_vmx_outside_smx)
{
	diagnose(FIX("fw-intel-msr"));
	cr_assert(h.cpu_has_virt, "CPUID still reports VMX");
	cr_assert_str_eq(h.cpu_flags, "", "the kernel cleared the flag");
	expect_firmware("msr", "IA32_FEATURE_CONTROL (MSR 0x3a) = 0x1: IA32_FEATURE_CONTROL is locked "
			"(bit 0) with VMX outside SMX (bit 2) clear", "\"Intel Virtualization Technology\" (VT-x)");
}

Test(firmware, intel_msr_txt_only)
{
	diagnose(FIX("fw-intel-txt"));
	expect_firmware("msr", "VMX allowed only inside SMX (bit 1, Intel TXT)", "VT-x");
}

Test(firmware, intel_msr_enabled)
{
	cr_assert_eq(diagnose(FIX("fw-intel-enabled")), NVM_SKIP);
	cr_assert_eq(h.fw_disabled, 0, "%s", h.fw_evidence);
	cr_assert_str_eq(h.fw_source, "msr");
	cr_assert_null(strstr(reason, "firmware"), "%s", reason);
}

Test(firmware, amd_msr_svmdis)
{
	diagnose(FIX("fw-amd-msr"));
	cr_assert(h.cpu_has_virt);
	expect_firmware("msr", "VM_CR (MSR 0xc0010114) = 0x18: VM_CR.SVMDIS (bit 4) is set and "
			"VM_CR.LOCK (bit 3) holds it", "\"SVM Mode\" (AMD-V)");
}

Test(firmware, intel_log_feat_ctl)
{
	diagnose(FIX("fw-intel-log"));
	expect_firmware("kernel-log", "x86/cpu: VMX (outside TXT) disabled by BIOS", "VT-x");
}

Test(firmware, intel_log_before_5_16)
{
	diagnose(FIX("fw-intel-log-old"));
	expect_firmware("kernel-log", "kvm: disabled by bios", "VT-x");
}

Test(firmware, amd_log_kvm_amd)
{
	diagnose(FIX("fw-amd-log"));
	expect_firmware("kernel-log", "kvm_amd: SVM disabled (by BIOS) in MSR_VM_CR on CPU 3", "SVM Mode");
}

Test(firmware, amd_log_5_16_names_the_module)
{
	diagnose(FIX("fw-amd-log-516"));
	expect_firmware("kernel-log", "kvm: support for 'kvm_amd' disabled by bios", "SVM Mode");
}

/* Lines that say "disabled by BIOS" about something else do not count. */
Test(firmware, other_lines_do_not_count)
{
	char line[128];
	const char *log = "[0.1] amd_pstate: The CPPC feature is supported but currently disabled by the BIOS.\n"
			  "[0.2] x86/cpu: SGX disabled by BIOS.\n"
			  "[0.3] kvm: support for 'kvm_intel' disabled by bios\n";

	cr_assert_not(firmware_log_says_disabled(log, &vendor_host_amd, line, sizeof(line)),
		      "kvm_intel's line is not about SVM: %s", line);
	cr_assert(firmware_log_says_disabled(log, &vendor_host_intel, line, sizeof(line)));
	cr_assert_str_eq(line, "[0.3] kvm: support for 'kvm_intel' disabled by bios");
	cr_assert_not(firmware_log_says_disabled("", &vendor_host_intel, line, sizeof(line)));
	diagnose(FIX("pvm"));
	cr_assert_eq(h.fw_disabled, -1, "a log without KVM's line proves nothing: %s", h.fw_evidence);
}

/* The vendor decoders, bit by bit (SDM 24.7, APM 15.30.1). */
Test(firmware, msr_decoders)
{
	cr_assert_null(vendor_host_intel.fw_msr_disabled(0x0), "unlocked: KVM may still set it");
	cr_assert_null(vendor_host_intel.fw_msr_disabled(0x5));
	cr_assert_null(vendor_host_intel.fw_msr_disabled(0x7));
	cr_assert_not_null(vendor_host_intel.fw_msr_disabled(0x1));
	cr_assert_not_null(vendor_host_intel.fw_msr_disabled(0x3));
	cr_assert_null(vendor_host_amd.fw_msr_disabled(0x0));
	cr_assert_null(vendor_host_amd.fw_msr_disabled(0x8), "LOCK alone");
	cr_assert_not_null(vendor_host_amd.fw_msr_disabled(0x10));
	cr_assert_eq(vendor_host_intel.fw_msr, 0x3a);
	cr_assert_eq(vendor_host_amd.fw_msr, 0xc0010114);
}

/* Snapshot readers: absent leaves read as zeros, absent MSRs as ENOENT. */
Test(firmware, snapshot_readers)
{
	uint32_t r[4];
	uint64_t v;

	hostread_cpuid(FIX("fw-amd-msr"), 0x80000001, 0, r);
	cr_assert_eq(r[2], 1u << 2);
	/* Leaf 0Dh has subleaves in Kelley's Azure dump: 0 and 1 differ. */
	hostread_cpuid(FIX("hv-azure-intel-nested"), 0xd, 0, r);
	cr_assert_eq(r[0], 0x000000e7);
	hostread_cpuid(FIX("hv-azure-intel-nested"), 0xd, 1, r);
	cr_assert_eq(r[0], 0x0000000b);
	hostread_cpuid(FIX("fw-amd-msr"), 0x12345678, 0, r);
	cr_assert(!r[0] && !r[1] && !r[2] && !r[3]);
	hostread_cpuid(FIX("amd-nested"), 0, 0, r);
	cr_assert(!r[1], "a snapshot without a cpuid file never reads this machine's CPU");
	cr_assert_eq(hostread_msr(FIX("fw-amd-msr"), 0xc0010114, &v), 0);
	cr_assert_eq(v, 0x18);
	cr_assert_lt(hostread_msr(FIX("fw-amd-msr"), 0x3a, &v), 0);
	cr_assert_lt(hostread_msr(FIX("amd-nested"), 0x3a, &v), 0);
	cr_assert_not(hostread_live(FIX("amd-nested")));
	cr_assert(hostread_live("/"));
}
