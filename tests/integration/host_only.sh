#!/usr/bin/env bash
# --host-only on this machine: the host diagnosis without a VM, fast, as data.
# Usage: NESTVMM=build/nestvmm tests/integration/host_only.sh [test_name]
. "$(dirname "$0")/lib.sh"

# host FIELD: a jq path under .host of the JSON verdict on stdout
host() { jq -r ".host$1" "$out"; }

test_host_only_selects_only_the_host_stages() {
	nv --host-only --format json
	{ [ "$rc" -eq 0 ] || [ "$rc" -eq 4 ]; } || { fail "exit code $rc, expected 0 or 4"; return 1; }
	expect_json &&
	# Tests not selected are absent from the verdict.
	[ "$(jq -r '[.stages[].name] | join(" ")' "$out")" = "host.kvm host.nested" ] ||
		{ fail "stages in the verdict are not exactly host.kvm host.nested"; return 1; }
	case $(stage host.nested) in
	pass|skip) ! reason host.nested | grep -q "^needs " || fail "host.nested was not diagnosed" ;;
	*) fail "host.nested is $(stage host.nested)" ;;
	esac
}

# Without --host-only the same run creates a VM (the control); with it, none.
test_host_only_creates_no_vm() {
	command -v strace >/dev/null || { echo "    strace missing (scripts/deps.sh installs it)"; return 1; }
	strace -f -qq -e trace=ioctl -o "$WORK/trace" "$NESTVMM" --host-only >"$WORK/out" 2>&1
	grep -q KVM_CREATE_VM "$WORK/trace" && { fail "--host-only created a VM"; return 1; }
	if [ -w /dev/kvm ]; then
		strace -f -qq -e trace=ioctl -o "$WORK/trace" "$NESTVMM" >"$WORK/out" 2>&1
		grep -q KVM_CREATE_VM "$WORK/trace" || fail "control: a full run made no KVM_CREATE_VM"
	else
		echo "    no usable /dev/kvm here: the control run cannot create a VM either"
	fi
}

test_host_only_takes_milliseconds() {
	nv --host-only --format json
	expect_under 0.5
}

# The diagnosis is data: each missing piece has an id, a remedy id and a command.
test_json_missing_pieces_are_data() {
	nv --host-only --format json
	jq -e '.host.missing | type == "array"' "$out" >/dev/null || fail "host.missing is not an array"
	jq -e '.host.firmware | has("disabled") and has("source") and has("evidence")' "$out" >/dev/null ||
		fail "host.firmware lacks its fields"
	if [ "$(stage host.nested)" = skip ]; then
		jq -e '.host.missing | length >= 1 and all(.piece != "" and .remedy_id != "" and .remedy != "")' \
			"$out" >/dev/null || fail "host.nested skipped but no missing piece with a remedy"
	fi
	if [ "$(host .hypervisor)" != "" ]; then
		jq -e '.host.outer_hypervisor.id != "" and .host.outer_hypervisor.name != ""' "$out" >/dev/null ||
			fail "a hypervisor signature but no outer_hypervisor"
	fi
}

# A VM under KVM without nesting (this machine): name KVM, the outer nested=1, a passthrough CPU model.
test_vm_under_kvm_names_the_outer_setting() {
	nv --host-only --format json
	if [ "$(host .outer_hypervisor.id)" != kvm ] || [ "$(stage host.nested)" != skip ]; then
		echo "    not a VM under KVM without nesting here ($(host .hypervisor)): nothing to check"
		return 0
	fi
	local m; m=$(host .kvm_module)
	expect_reason host.nested "KVM \(QEMU/libvirt\) does not pass (SVM|VMX) to this VM" &&
	expect_reason host.nested "modprobe (kvm_amd|kvm_intel) nested=1" &&
	expect_reason host.nested "host-passthrough" &&
	expect_reason host.nested "L1 is L2 of the machine and its L2 is L3" &&
	[ "$(jq -r '.host.missing[0].remedy_id' "$out")" = kvm-nested ] ||
		fail "first missing piece is not kvm-nested: $(jq -c .host.missing "$out")"
}

run_tests "$@"
