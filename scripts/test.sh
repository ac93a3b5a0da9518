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

total_pass=0 total_fail=0
# phase NAME BUILD_DIR CTEST_ARGS...: run ctest, add its counts to the totals.
# A phase that ran no test, or whose ctest failed while its summary says
# nothing failed, counts as one failure.
phase() {
	local name=$1 dir=$2 log rc
	shift 2
	log=$(mktemp)
	echo "=== $name"
	set +e
	ctest --test-dir "$dir" --output-on-failure "$@" 2>&1 | tee "$log"
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
