#!/usr/bin/env bash
# Real nesting, checked under an emulated L0: boot a Debian kernel under QEMU
# (AMD SVM) or Bochs (Intel VMX), load the KVM vendor module with nested=1 and
# then nested=0 in the same boot, run nestvmm several times inside, and assert
# each verdict. One boot per call: boots are the slow part (QEMU ~8 s, Bochs
# ~1-2 min).
# Usage: NESTVMM=build/nestvmm tests/l0/nested.sh amd|intel KERNEL (6.1, 6.12, ...)
. "$(dirname "$0")/../integration/lib.sh"
vendor=${1:?amd or intel} kernel=${2:?kernel version, e.g. 6.12}
cd "$(dirname "$0")/../.."
results=$WORK/results

# Each run writes its verdict to /out/v.json; it comes back as run-N.v.json.
json="--format json --output json:/out/v.json"
# --migrate under the QEMU L0: the tests whose failure under it is a named
# defect of the L0, not nestvmm's (docs/tests.md, "--migrate"), as
# "test|what its failure reason must match". The full --migrate run leaves them
# out; a run of their own checks they still fail for that reason, so a fixed
# L0 (or a new cause) shows here and they can come back into the full run.
#  - KVM: svm_get_segment() derives a segment's G bit from its limit, so
#    KVM_GET_SREGS/KVM_SET_SREGS lose the G bit VMLOAD put in FS.
#  - KVM: without NRIPS, a soft interrupt L1 injected into L2 that an L0 exit
#    interrupts (an NPF in the fresh VM) is re-injected by decoding an INTn at
#    L2's RIP, where there is none (L1 moved RIP past it): KVM drops it.
#  - 6.1 only, QEMU TCG: an L0 exit while the CPU delivers L1's V_IRQ leaves
#    EXITINTINFO type 3 (exception) instead of 0 (interrupt); KVM re-injects
#    vector 0x42 as an exception, which QEMU's VMRUN refuses (VMEXIT_INVALID).
migrate_known=("l2.insn.svm.vmload-vmsave|^VMSAVE after L2 ran: FS selector/attrib/limit/base 0x13/0x493/.*expected 0x13/0xc93/"
	       "l2.event.inject-softint|^after the injected INT 0x80 L2's handlers ran 0 times in all, expected 1")
[ "$kernel" = 6.1 ] && migrate_known+=("l2.irq.svm.virq|^expected L2's VMMCALL after STI, got other exit \\(exit 0xffffffff\\)")
known_names=$(printf '%s\n' "${migrate_known[@]}" | cut -d'|' -f1 | paste -sd,)
if [ "$vendor" = amd ]; then
	l0=scripts/l0/qemu-amd.sh virt=SVM module=kvm_amd flag=svm
	runs=(--nested 1 --run "--arch amd $json"
	      --run "--arch amd --cpu -npt $json"
	      --run "--arch amd --trace $json"
	      --run "--arch amd --hostile crash-in-test $json"
	      --run "--arch amd --hostile hang-in-test --timeout 3 $json"
	      --run "--arch amd --tests l2.run $json"
	      --run "--arch amd --cpu -npt --require nested-paging $json"
	      --nested 0 --run "--arch amd $json"
	      --run "--arch amd --cpu +svm $json"
	      --run "--arch amd --strict $json"
	      --run "--arch amd --hide-hypervisor $json"
	      --run "--arch amd --cpu -x2apic $json"
	      --run "--arch amd --hostile toggle-apic $json"
	      --nested 1 --run "--arch amd --migrate --tests l2.*,-${known_names//,/,-} $json"
	      --run "--arch amd --migrate --tests $known_names $json")
else
	# Bochs runs L1 and L2 slowly: give each nestvmm run room.
	l0=scripts/l0/bochs-intel.sh virt=VMX module=kvm_intel flag=vmx
	json="$json --timeout 120"
	runs=(--nested 1 --run "--arch intel $json"
	      --run "--arch intel --trace --iterations 4 $json"
	      --run "--arch intel --hostile crash-in-test --iterations 4 $json"
	      --run "--arch intel --tests l2.run $json"
	      --nested 0 --run "--arch intel $json"
	      --run "--arch intel --cpu +vmx $json"
	      --run "--arch intel --strict $json"
	      --run "--arch intel --hide-hypervisor $json"
	      --run "--arch intel --cpu -x2apic $json"
	      --run "--arch intel --hostile toggle-apic $json"
	      --nested 1 --run "--arch intel --migrate $json")
fi

echo "booting $kernel under $l0 with ${#runs[@]} arguments of runs..."
"$l0" --kernel "$kernel" --nestvmm "$NESTVMM" --results "$results" "${runs[@]}" \
	> "$WORK/console" 2> "$WORK/runner"
l0rc=$?
tail -n 5 "$WORK/runner"
if [ "$l0rc" -ge 100 ] && [ "$l0rc" -le 104 ]; then
	echo "the emulated L0 itself failed (exit $l0rc):"; tail -n 40 "$WORK/console"
	echo "0 passed, 1 failed"
	exit 1
fi

# use_run N: point lib.sh's $out/$rc/$err at run N's verdict, exit code and log.
use_run() {
	out=$results/run-$1.v.json err=$results/run-$1.log
	rc=$(cat "$results/run-$1.exit" 2>/dev/null || echo missing)
	[ -s "$out" ] || fail "run $1 left no verdict (exit $rc)"
}

# Every test passed, or was skipped as unsupported by this L0 (naming the
# missing features): what the emulated L0s lack (e.g. NRIPS under QEMU TCG)
# is no failure, anything else is.
all_pass() {
	jq -e 'all(.stages[]; .status == "pass" or
		(.status == "skip" and (.unsupported | length) > 0))' "$out" >/dev/null ||
		fail "not every stage passed: $(jq -r '[.stages[] | select(.status != "pass") |
			"\(.name) \(.status): \(.reason)"] | join("; ")' "$out" | cut -c1-600)"
}
cycles_reported() {
	jq -e --arg s "$1" '.stages[] | select(.name == $s) | .details |
		test("round_trip_cycles min=[0-9]+ median=[0-9]+ max=[0-9]+")' \
		"$out" >/dev/null || fail "$1 reports no round-trip cycles"
}
names_are() {
	local got
	got=$(jq -r '[.stages[].name] | join(" ")' "$out")
	[ "$got" = "$*" ] || fail "stages in the verdict: got '$got', want '$*'"
}
restarts_are() {
	local got
	got=$(jq -r '.run.restarts' "$out")
	[ "$got" = "$1" ] || fail "run.restarts: got '$got', want '$1'"
}

test_1_nested_on_every_stage_passes() {
	use_run 1 && expect_rc 0 && all_pass && expect_reason host.nested "offers $virt" &&
	cycles_reported l2.bench.round-trip
}

# A test that crashes L1 fails with the cause; a fresh L1 runs the rest, which pass.
expect_crash_recovered() {
	use_run "$1" && expect_rc 1 && expect_stage l2.run fail &&
	expect_reason l2.run "#UD.*in l2.run" && expect_stage l2.nested-paging pass &&
	expect_stage l2.bench.round-trip pass && restarts_are 1
}
# --tests: what is not selected is absent; prerequisites run.
expect_only_l2_run() {
	use_run "$1" && expect_rc 0 && all_pass &&
	names_are host.kvm host.nested l1.boot l1.cpuid l1.enable l2.run
}

if [ "$vendor" = amd ]; then
test_2_without_npt_nested_paging_is_unsupported_and_neutral() {
	use_run 2 && expect_rc 0 && expect_stage l2.run pass &&
	expect_stage l2.nested-paging skip && expect_reason l2.nested-paging "unsupported.*nested-paging" &&
	{ jq -e '.stages[] | select(.name == "l2.nested-paging") | .unsupported == ["nested-paging"]' \
		"$out" >/dev/null || fail "l2.nested-paging: unsupported is not [nested-paging]"; }
}
test_3_trace_narrates_vmrun() {
	use_run 3 && expect_rc 0 && expect_err "^\[l1\].*VMRUN" && expect_err "VMEXIT_VMMCALL" &&
	expect_err "VMEXIT_NPF"
}
test_3a_crash_in_a_test_costs_one_reboot() { expect_crash_recovered 4; }
test_3b_hang_in_a_test_times_out_alone() {
	use_run 5 && expect_rc 1 && expect_stage l2.run fail &&
	expect_reason l2.run "timed out after 3 s in l2.run" && expect_stage l2.nested-paging pass &&
	expect_stage l2.bench.round-trip pass && restarts_are 1
}
test_3c_tests_selects_with_prerequisites() { expect_only_l2_run 6; }
test_3d_require_makes_a_missing_feature_fail() {
	use_run 7 && expect_rc 1 && expect_stage l2.nested-paging fail &&
	expect_reason l2.nested-paging "required by --require: unsupported"
}
off=8
else
test_2_trace_narrates_vmlaunch() {
	use_run 2 && expect_rc 0 && expect_err "^\[l1\].*VMLAUNCH" && expect_err "VMCALL" &&
	expect_err "EPT"
}
test_2a_crash_in_a_test_costs_one_reboot() { expect_crash_recovered 3; }
test_2b_tests_selects_with_prerequisites() { expect_only_l2_run 4; }
off=5
fi

# The CPUID bit of the extension as L1 read it (l1.cpuid's "seen" lines).
virt_bit() {
	if [ "$vendor" = amd ]; then expect_seen_bit 80000001 ECX 2 "$1"
	else expect_seen_bit 1 ECX 5 "$1"; fi
}

test_4_nested_off_host_says_so() {
	use_run $off && expect_rc 4 && expect_stage host.nested skip &&
	expect_reason host.nested "nested=0" && expect_reason host.nested "modprobe -r $module" &&
	expect_stage l1.enable skip && expect_stage l2.run skip &&
	expect_reason l2.run "no nested $virt" && virt_bit 0
}

test_5_nested_off_forced_bit_is_refused_in_l1() {
	use_run $((off + 1)) && expect_rc 1 && expect_stage l1.enable fail && virt_bit 1 &&
	if [ "$vendor" = amd ]; then expect_reason l1.enable "#GP.*EFER.SVME"
	else expect_reason l1.enable "#GP|VMXON|VMX"; fi
}

test_6_nested_off_strict_fails() {
	use_run $((off + 2)) && expect_rc 1 && expect_stage host.nested fail
}

# --hide-hypervisor as L1 read it, against the plain run at nested=0: there
# CPUID.1:ECX[31] is set and leaf 4000_0000h holds KVM's signature; here neither.
test_7_hide_hypervisor_is_what_l1_sees() {
	use_run $off && expect_seen_bit 1 ECX 31 1 && expect_seen_kvm_leaves yes
	use_run $((off + 3)) && expect_rc 4 && expect_stage l1.cpuid pass &&
	expect_seen_bit 1 ECX 31 0 && expect_seen_kvm_leaves no
}

test_8_cpu_override_is_what_l1_sees() {
	use_run $off && expect_seen_bit 1 ECX 21 1
	use_run $((off + 4)) && expect_rc 4 && expect_stage l1.cpuid pass && expect_seen_bit 1 ECX 21 0
}

# L1 flips IA32_APIC_BASE.EN, which CPUID.1:EDX[9] mirrors: l1.cpuid must
# fail, and L1 saw the bit opposite to the plain run's.
test_9_l1_cpuid_fails_when_l1_sees_other_values() {
	local apic
	use_run $off && apic=$(seen 1 EDX) || { fail "no 'seen CPUID.1H.0' line in run $off"; return 1; }
	use_run $((off + 5)) && expect_rc 1 && expect_stage l1.cpuid fail &&
	expect_reason l1.cpuid "differ from the VMM's table" &&
	expect_seen_bit 1 EDX 9 $(( ((apic >> 9) & 1) ^ 1 )) && expect_stage l1.enable skip
}

# --migrate: a save/restore into a fresh VM after every exit; every test that
# ran L2 went through at least one, and the suite still passes (on AMD without
# the known L0 defects above, checked next).
test_10_migrate_at_every_exit_passes() {
	local n=$((off + 6)) low
	use_run $n && all_pass && expect_rc 0 || return 1
	jq -e '.run.migrations >= 100' "$out" >/dev/null ||
		{ fail "run.migrations is $(jq .run.migrations "$out"), expected 100 or more"; return 1; }
	# l2.insn.svm.faults never enters L2 (each VMRUN there faults in L1): no exit to sync at.
	low=$(jq -r '[.stages[] | select(.level == "l2" and .status == "pass" and .migrations == 0 and
		.name != "l2.insn.svm.faults") | .name] | join(" ")' "$out")
	[ -z "$low" ] || fail "passing l2 tests without a save/restore under --migrate: $low"
}

# The known L0 defects under --migrate still fail, each for its reason, after
# save/restores (a pass means the L0 was fixed: move the test back).
[ "$vendor" = amd ] &&
test_11_migrate_known_l0_defects_still_fail_for_their_reason() {
	local k name
	use_run $((off + 7)) && expect_rc 1 || return 1
	for k in "${migrate_known[@]}"; do
		name=${k%%|*}
		expect_stage "$name" fail && expect_reason "$name" "${k#*|}" || return 1
		jq -e --arg s "$name" '.stages[] | select(.name == $s) | .migrations > 0' "$out" \
			>/dev/null || fail "$name went through no save/restore"
	done
}

run_tests
