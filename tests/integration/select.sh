#!/usr/bin/env bash
# The test registry from the outside: --list, --tests, --require. None of
# these needs a working /dev/kvm: selection shapes the verdict whatever runs.
. "$(dirname "$0")/lib.sh"

# Every name in the registry header, in order: the list the VMM must show.
registry=$(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, *"[^"]+"' arch/include/nestvmm/stages.h |
	sed -E 's/.*"([^"]+)"/\1/')
no_kvm="--kvm-device /nonexistent/kvm --format json"
names_are() {
	local got
	got=$(jq -r '[.stages[].name] | join(" ")' "$out")
	[ "$got" = "$*" ] || fail "stages in the verdict: got '$got', want '$*'"
}

test_list_shows_every_test_and_feature() {
	nv --list && expect_rc 0 || return 1
	local n
	for n in $registry; do
		grep -qE "^$n +(host|l1|l2) +(any|amd|intel) " "$out" || fail "--list lacks $n" || return 1
	done
	[ "$(grep -cE '^(host|l1|l2)\.' "$out")" = "$(echo "$registry" | wc -l)" ] ||
		fail "--list shows another number of tests than the registry has" || return 1
	grep -qE '^  nrips +AMD next-RIP' "$out" || fail "--list lacks the features"
}

test_list_json_carries_the_same() {
	nv --list --format json && expect_rc 0 && expect_json || return 1
	[ "$(jq -r '[.tests[].name] | join(" ")' "$out")" = "$(echo $registry)" ] ||
		fail "JSON names differ from the registry" || return 1
	jq -e '.tests[] | select(.name == "l2.nested-paging") |
		.requires == ["nested-paging"] and .needs == "l1.enable" and .level == "l2"' "$out" >/dev/null ||
		fail "l2.nested-paging's row is wrong"
}

test_list_follows_tests() {
	nv --list --tests 'l2.bench.*' && expect_rc 0 || return 1
	grep -q '^l2.bench.round-trip ' "$out" || fail "the selected test is missing" || return 1
	grep -q '^l2.run ' "$out" && fail "l2.run was not selected" || return 0
}

test_selected_tests_and_prerequisites_only() {
	nv $no_kvm --tests l2.run
	expect_rc 4 && names_are host.kvm host.nested l1.boot l1.cpuid l1.enable l2.run
}

# Everything but the excluded, of the tests for the vendor run (--arch amd:
# the registry's Intel-only tests are never in an AMD verdict).
test_exclusions_start_from_everything() {
	local amd
	amd=$(grep -oE '^[[:space:]]*X\([A-Z0-9_]+, *"[^"]+", *"[^"]+", *NVM_[A-Z]+' \
		arch/include/nestvmm/stages.h | grep -v 'NVM_INTEL$' | sed -E 's/.*X\([A-Z0-9_]+, *"([^"]+)".*/\1/')
	[ -n "$amd" ] || { fail "no AMD or vendor-neutral test found in the registry"; return 1; }
	nv $no_kvm --arch amd --tests '-l2.bench.*,-l2.nested-paging'
	expect_rc 4 && names_are $(echo "$amd" | grep -vE '^(l2\.bench\..*|l2\.nested-paging)$')
}

test_unknown_pattern_is_a_usage_error() {
	nv $no_kvm --tests 'l2.run,l3.*'
	expect_rc 2 && expect_err '"l3\.\*" matches no test' && [ ! -s "$out" ] || fail "stdout not empty"
}

test_unknown_feature_is_a_usage_error() {
	nv $no_kvm --require npt
	expect_rc 2 && expect_err 'unknown feature "npt"'
}

test_ktap_and_junit_count_only_the_selection() {
	nv --kvm-device /nonexistent/kvm --format ktap --tests l1.boot
	expect_rc 4 && grep -q '^1\.\.2$' "$out" || fail "KTAP plan is not 2 levels" || return 1
	grep -q 'l1.cpuid' "$out" && fail "KTAP shows an unselected test" || true
	nv --kvm-device /nonexistent/kvm --format junit --tests l1.boot
	grep -q '<testsuites name="nestvmm" tests="3"' "$out" || fail "JUnit does not count 3 tests"
}

run_tests "$@"
