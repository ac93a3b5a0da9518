#!/usr/bin/env bash
# nestvmm on a /dev/kvm that runs L1 but offers no nesting (a kvm_pvm host, or,
# where this machine has no usable /dev/kvm, the QEMU TCG L0 of
# scripts/l0/userland.sh with kvm_amd nested=0): the outcome every user of such
# a host must get.
# Usage: NESTVMM=build/nestvmm tests/integration/native.sh [test_name]
. "$(dirname "$0")/lib.sh"

test_default_run_l1_passes_l2_skipped() {
	nv --format json
	expect_rc 4 && expect_json &&
	expect_stage host.kvm pass && expect_stage l1.boot pass && expect_stage l1.cpuid pass &&
	expect_stage host.nested skip && expect_reason host.nested "no nested SVM|no nested VMX" &&
	expect_stage l2.run skip && expect_reason l2.run "needs l1.enable" &&
	expect_stage l2.nested-paging skip
}

test_text_table_is_the_default() {
	NO_COLOR=1 nv
	expect_rc 4
	grep -qE '^  l1.boot +pass' "$out" && grep -q '^result: SKIP' "$out" || fail "no text table"
	! grep -q $'\033' "$out" || fail "colour escape codes when stdout is not a TTY"
}

test_forced_svm_bit_shows_the_gp() {
	nv --format json --arch amd --cpu +svm
	expect_rc 1 && expect_stage l1.enable fail && expect_reason l1.enable "#GP.*EFER.SVME" &&
	expect_stage l2.run skip && expect_reason l2.run "l1.enable, which failed"
}

test_forced_vmx_bit_reports_what_happened() {
	nv --format json --arch intel --cpu +vmx
	expect_rc 1 && expect_stage l1.enable fail &&
	expect_reason l1.enable "#GP|VMXON|CR4" && expect_reason host.nested "needs a GenuineIntel CPU"
}

test_wrong_vendor_is_a_skip() {
	nv --format json --arch intel
	expect_rc 4 && expect_stage host.nested skip && expect_reason host.nested "GenuineIntel" &&
	expect_stage l1.enable skip && expect_reason l1.enable "VMX"
}

test_strict_turns_missing_nesting_into_failure() {
	nv --format json --strict
	expect_rc 1 && expect_stage host.nested fail
}

# What L1 itself read (the "seen CPUID" lines of l1.cpuid), not the VMM's
# table: without --hide-hypervisor, CPUID.1:ECX[31] is set and leaf 4000_0000h
# holds KVM's signature; with it, neither.
test_hide_hypervisor_reaches_l1() {
	nv --format json
	expect_rc 4 && expect_stage l1.cpuid pass &&
	expect_seen_bit 1 ECX 31 1 && expect_seen_kvm_leaves yes
	nv --format json --hide-hypervisor
	expect_rc 4 && expect_stage l1.cpuid pass &&
	expect_seen_bit 1 ECX 31 0 && expect_seen_kvm_leaves no
}

# --cpu as L1 reads it: x2apic (CPUID.1:ECX[21]) is on by default here and svm
# (CPUID.8000_0001h:ECX[2]) off (no nesting); the overrides turn both around.
test_cpuid_overrides_reach_l1() {
	nv --format json --arch amd
	expect_rc 4 && expect_seen_bit 1 ECX 21 1 && expect_seen_bit 80000001 ECX 2 0
	nv --format json --arch amd --cpu -x2apic,+svm --trace
	expect_stage l1.cpuid pass && expect_seen_bit 1 ECX 21 0 && expect_seen_bit 80000001 ECX 2 1 &&
	expect_err "x2apic: CPUID.1H.0:ECX\[21\] cleared"
}

# L1 flips IA32_APIC_BASE.EN, which CPUID.1:EDX[9] mirrors: what it sees then
# differs from the VMM's table, and l1.cpuid must say so (and what differs).
test_l1_cpuid_fails_when_l1_sees_other_values() {
	local apic
	nv --format json
	apic=$(seen 1 EDX) || { fail "no 'seen CPUID.1H.0' line in a plain run"; return 1; }
	nv --format json --hostile toggle-apic
	expect_rc 1 && expect_stage l1.cpuid fail &&
	expect_reason l1.cpuid "1 CPUID register\(s\) differ from the VMM's table" &&
	expect_seen_bit 1 EDX 9 $(( ((apic >> 9) & 1) ^ 1 )) &&
	expect_stage l1.enable skip && expect_reason l1.enable "needs l1.cpuid"
	jq -e '.stages[] | select(.name == "l1.cpuid") | .details | test("CPUID.1H.0:EDX=0x[0-9a-f]+ expected")' \
		"$out" >/dev/null || fail "l1.cpuid's details do not name CPUID.1H.0:EDX"
}

test_json_to_output_file() {
	nv --format json --output "$WORK/v.json"
	expect_rc 4
	[ ! -s "$out" ] || fail "stdout should be empty with --output FILE"
	# Every test of the registry for this run's vendor, no more.
	local n
	n=$("$NESTVMM" --list --format json |
		jq --arg a "$(jq -r .arch "$WORK/v.json" 2>/dev/null)" '[.tests[] | select(.vendor == "any" or .vendor == $a)] | length')
	jq -e --argjson n "${n:-0}" '.stages | length == $n' "$WORK/v.json" >/dev/null ||
		fail "bad JSON file (not $n stages)"
	[ -z "$(ls "$WORK"/v.json.* 2>/dev/null)" ] || fail "temporary file left behind"
}

test_spinning_guest_is_stopped_by_timeout() {
	nv --format json --hostile spin --timeout 1
	expect_rc 1 && expect_under 3 && expect_stage l1.boot fail &&
	expect_reason l1.boot "timed out after 1 s" &&
	jq -e '.run.end == "timeout" and (.run.vcpu_state | test("RIP="))' "$out" >/dev/null ||
		fail "no timeout end or vCPU state"
}

test_triple_fault_is_reported() {
	nv --format json --hostile triple-fault
	expect_rc 1 && expect_reason l1.boot "triple-fault" &&
	{ jq -e '.run.end == "triple-fault"' "$out" >/dev/null || fail "run.end is not triple-fault"; }
}

test_malformed_kernel_is_exit_2() {
	printf 'not an elf at all' > "$WORK/bad.elf"
	nv --kernel "$WORK/bad.elf"
	expect_rc 2 && expect_err "bad.elf.*not an ELF file" && [ ! -s "$out" ] || fail "verdict printed"
}

test_missing_kernel_is_exit_2() {
	nv --kernel "$WORK/nope.elf"
	expect_rc 2 && expect_err "nope.elf: No such file"
}

test_missing_kvm_device_still_gives_a_verdict() {
	nv --format json --kvm-device "$WORK/kvm"
	expect_rc 4 && expect_json && expect_stage host.kvm skip && expect_reason host.kvm "No such file" &&
	expect_stage l1.boot skip
}

test_bad_options_are_exit_2() {
	local o
	for o in "--arch sparc" "--timeout 0" "--timeout 1x" "--mem 1" "--mem 99999" "--format xml" \
		 "--cpu +bogus" "--bogus" "--iterations -1" "extra"; do
		# shellcheck disable=SC2086
		nv $o
		[ "$rc" -eq 2 ] || fail "'$o' gave exit $rc" || return 1
		expect_err "Try 'nestvmm --help'" || return 1
	done
}

test_help_and_version() {
	nv --help
	expect_rc 0
	grep -q -- "--arch intel|amd|auto" "$out" || fail "help text"
	nv --version
	expect_rc 0
	grep -qE '^nestvmm [0-9]' "$out" || fail "version"
}

test_trace_narrates_the_run() {
	nv --trace
	expect_rc 4 && expect_err "^\[vmm\] opened /dev/kvm" && expect_err "KVM_SET_CPUID2" &&
	expect_err "^\[vmm\] L1 began stage l1.boot" && expect_err "^\[l1\] L1 CPUID.1H" && expect_err "^\[l1\] L1 executed UD2"
}

test_sigterm_writes_the_verdict() {
	"$NESTVMM" --format json --hostile spin --timeout 30 >"$WORK/out" 2>"$WORK/err" &
	local pid=$! ; out=$WORK/out err=$WORK/err
	sleep 0.3
	kill -TERM $pid
	wait $pid
	rc=$?
	expect_rc 143 && jq -e '.run.interrupted == true' "$out" >/dev/null || fail "not marked interrupted"
}

run_tests "$@"
