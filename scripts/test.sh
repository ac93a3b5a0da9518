#!/usr/bin/env bash
# Install what the tests need, build, and run every test:
#   1. the normal build: unit tests (Criterion), native integration tests on this
#      machine's /dev/kvm, robustness tests, format/bisect tests, and the
#      emulated-L0 tests (QEMU for AMD, Bochs for Intel: minutes, not seconds);
#   2. an ASan+UBSan build of the host side: unit, integration and robustness tests
#      (the bisect.* tests check output formats and scripts, not memory: left out);
#   3. the libFuzzer harnesses, a few seconds each.
# Usage: scripts/test.sh [--quick]   (--quick: skip the emulated L0s and the fuzzers)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

quick=0
[ "${1:-}" = "--quick" ] && quick=1
need_pkgs "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"
[ $quick = 1 ] || need_pkgs "${L0_PKGS[@]}"

total_pass=0 total_fail=0 CTEST_RUNNER=()
# ctest_phase NAME BUILD_DIR CTEST_ARGS...: run ctest (through $CTEST_RUNNER if
# set), add its counts to the totals. A phase that ran no test (e.g. the L0
# died), or whose ctest failed while its summary says nothing failed, counts
# as one failure.
ctest_phase() {
	local name=$1 dir=$2 log rc
	shift 2
	log=$(mktemp)
	echo "=== $name"
	set +e
	"${CTEST_RUNNER[@]}" ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	local line pass fail
	line=$(grep -E 'tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1 || true)
	if [ -z "$line" ]; then
		echo "$name: ctest ran no test (exit $rc)" >&2
		total_fail=$((total_fail + 1))
	else
		fail=$(echo "$line" | sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/')
		pass=$(( $(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/') - fail ))
		if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
			echo "$name: ctest failed (exit $rc) although no test failed" >&2
			fail=1
		fi
		total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
	fi
	rm -f "$log"
}

# --- tests that need a usable /dev/kvm (ctest label "kvm") ---------------------
# When this machine's /dev/kvm works, everything runs natively. When it does
# not (no KVM module bound, e.g. a kvm-pvm guest), the tests labelled "kvm"
# run inside an emulated L0 instead: QEMU TCG with kvm_amd (nested=0, a host
# without nesting) and a Debian userland, the source and build trees shared at
# the same paths (scripts/l0/userland.sh). Their counts go into the totals.
# kvm_usable: /dev/kvm opens, speaks KVM API 12 and creates a VM.
kvm_usable() {
	python3 - <<'PY' 2>/dev/null
import fcntl, os
KVM_GET_API_VERSION, KVM_CREATE_VM = 0xAE00, 0xAE01
fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
assert fcntl.ioctl(fd, KVM_GET_API_VERSION) == 12
os.close(fcntl.ioctl(fd, KVM_CREATE_VM, 0))
PY
}
if kvm_usable; then
	KVM_WHERE=native
	echo "=== /dev/kvm is usable here: the tests labelled kvm run natively"
else
	KVM_WHERE=l0
	echo "=== no usable /dev/kvm here: the tests labelled kvm run in the QEMU TCG L0 (scripts/l0/userland.sh)"
fi
# phase NAME BUILD_DIR CTEST_ARGS...: ctest_phase natively, or, without a
# usable /dev/kvm, the tests not labelled kvm natively and the others in the L0.
phase() {
	local name=$1 dir=$2 env=() v listed
	shift 2
	if [ "$KVM_WHERE" = native ]; then
		ctest_phase "$name" "$dir" "$@"
		return
	fi
	ctest_phase "$name, natively, without the tests labelled kvm" "$dir" -LE kvm "$@"
	# A build without kvm tests (the fuzzers) boots no L0.
	listed=$(ctest --test-dir "$dir" -N -L kvm "$@")
	grep -q '^Total Tests: 0$' <<<"$listed" && return 0
	for v in ASAN_OPTIONS UBSAN_OPTIONS; do
		[ -z "${!v:-}" ] || env+=(--env "$v=${!v}")
	done
	CTEST_RUNNER=(scripts/l0/userland.sh --share "$PWD" "${env[@]}" --)
	ctest_phase "$name, the tests labelled kvm, in the QEMU TCG L0 (kvm_amd nested=0)" "$dir" -L kvm "$@"
	CTEST_RUNNER=()
}
# --- end of the kvm block ------------------------------------------------------

echo "=== build"
cmake -S . -B build -DNESTVMM_L0_TESTS=$((1 - quick)) >/dev/null
cmake --build build -j"$(nproc)"
phase "tests (normal build)" build

echo "=== build with ASan+UBSan"
cmake -S . -B build-asan -DNESTVMM_SANITIZE=ON -DNESTVMM_L0_TESTS=0 >/dev/null
cmake --build build-asan -j"$(nproc)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	phase "tests (ASan+UBSan)" build-asan -E '^bisect\.'

if [ $quick = 0 ]; then
	echo "=== build the fuzzers (clang)"
	CC=clang cmake -S . -B build-fuzz -DNESTVMM_FUZZ=ON -DNESTVMM_TESTS=OFF >/dev/null
	cmake --build build-fuzz -j"$(nproc)"
	phase "fuzzing (bounded)" build-fuzz
fi

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
