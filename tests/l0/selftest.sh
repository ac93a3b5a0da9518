#!/usr/bin/env bash
# Self-test of scripts/l0 (the emulated-L0 runners), without nestvmm: a tiny
# static probe (tests/l0/kvmprobe.c) stands in for it and exits 0 when the L0's
# KVM offers nested virtualization, 4 when it does not.
#
# usage: tests/l0/selftest.sh [--offline] [--with-6.1] [--with-bochs]
#   (default)     offline checks + AMD/QEMU boots with the 6.12 kernel (~1-2 min)
#   --offline     only the checks that boot nothing (a few seconds)
#   --with-6.1    also an AMD boot with the 6.1 kernel
#   --with-bochs  also one Intel/Bochs boot with 6.12 (1-2 min more)
# Ends with the line "N passed, N failed"; exits 1 if anything failed.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
# shellcheck source=scripts/l0/lib.sh
source "$ROOT/scripts/l0/lib.sh"

OFFLINE=0
WITH_61=0
WITH_BOCHS=0
for arg in "$@"; do
    case $arg in
    --offline) OFFLINE=1 ;;
    --with-6.1) WITH_61=1 ;;
    --with-bochs) WITH_BOCHS=1 ;;
    -h | --help)
        sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "selftest: unknown option '$arg'" >&2
        exit 2
        ;;
    esac
done

PASSED=0
FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-l0-selftest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

pass() {
    PASSED=$((PASSED + 1))
    echo "PASS: $*"
}

fail() {
    FAILED=$((FAILED + 1))
    echo "FAIL: $*"
}

# check NAME CONDITION...: pass if the command CONDITION succeeds.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# expect_exit NAME CODE RUNNER ARGS...: run a runner script, compare its exit
# code; its output goes to $LAST_OUT, shown when the code is wrong.
expect_exit() {
    local name=$1 want=$2 got=0 start=$SECONDS
    shift 2
    LAST_OUT="$TMP/out.$((PASSED + FAILED))"
    "$@" >"$LAST_OUT" 2>&1 || got=$?
    if [[ $got == "$want" ]]; then
        pass "$name (exit $got, $((SECONDS - start))s)"
    else
        fail "$name: exit $got, wanted $want; last lines:"
        tail -n 15 "$LAST_OUT" | sed 's/^/    /'
    fi
}

file_has() { grep -q -- "$2" "$1" 2>/dev/null; }

# --- checks that boot nothing ---------------------------------------------------

offline_checks() {
    local names quoted

    # Kernel version names resolve to the newest generic amd64 image.
    names=$'linux-image-6.1.0-9-amd64\nlinux-image-6.1.0-10-amd64\nlinux-image-6.1.0-10-cloud-amd64
linux-image-6.12.9+deb12-amd64\nlinux-image-6.12.10+deb12-amd64\nlinux-image-6.12.10+deb12-amd64-unsigned
linux-image-6.12.11+deb12-rt-amd64-unsigned'
    check "6.1 resolves to the newest 6.1.0-N" \
        test "$(newest_kernel_package "$(kernel_package_regex 6.1)" <<<"$names")" = linux-image-6.1.0-10-amd64
    check "6.12 resolves to the newest, unsigned" \
        test "$(newest_kernel_package "$(kernel_package_regex 6.12)" <<<"$names")" = linux-image-6.12.10+deb12-amd64-unsigned

    # Arguments survive the trip through the plan file and busybox sh intact.
    # shellcheck disable=SC2016 # a literal $HOME is the point
    quoted=$(sh_quote a "b c" "it's" '$HOME' '*' "")
    check "run arguments keep spaces, quotes and globs" \
        test "$(busybox sh -c 'eval "set -- $1"; printf "[%s]" "$@"' _ "$quoted")" = "[a][b c][it's][\$HOME][*][]"

    # A serial log is split into per-run files, with base64 files decoded.
    printf '%s\r\n' 'noise' '@@nestvmm boot ok' '@@nestvmm run 1 begin: -x' 'hello' \
        'partial line @@nestvmm run 1 exit 3' '@@nestvmm run 1 file r.json begin base64' \
        "$(printf '{"a": 1}\n' | base64)" '@@nestvmm run 1 file end' '@@nestvmm run 2 begin: ' \
        '@@nestvmm run 2 exit 0' '@@nestvmm done' >"$TMP/serial.log"
    extract_results "$TMP/serial.log" "$TMP/results" 2>/dev/null
    check "results: run log" test "$(cat "$TMP/results/run-1.log")" = $'hello\npartial line '
    check "results: exit codes" test "$(cat "$TMP/results/run-1.exit" "$TMP/results/run-2.exit")" = $'3\n0'
    check "results: extracted file" test "$(cat "$TMP/results/run-1.r.json")" = '{"a": 1}'

    # Bad input fails fast with the setup-error code and one clear line.
    expect_exit "unknown option" 100 "$ROOT/scripts/l0/qemu-amd.sh" --frobnicate
    expect_exit "missing nestvmm" 100 "$ROOT/scripts/l0/qemu-amd.sh" --nestvmm "$TMP/nope"
    expect_exit "bogus kernel path" 100 "$ROOT/scripts/l0/qemu-amd.sh" --nestvmm "$PROBE" --kernel /nonexistent/bzImage
    expect_exit "bad --nested" 100 "$ROOT/scripts/l0/bochs-intel.sh" --nestvmm "$PROBE" --nested 2
    check "setup error is one line" test "$(grep -c 'l0: error:' "$LAST_OUT")" = 1
}

# --- boots ----------------------------------------------------------------------

amd_checks() {
    local kernel=$1 r="$TMP/results-$1"
    local amd=("$ROOT/scripts/l0/qemu-amd.sh" --kernel "$kernel" --nestvmm "$PROBE")

    expect_exit "amd $kernel nested=1" 0 "${amd[@]}" --nested 1
    # nested=1 then nested=0 in one boot: modules reloaded, first non-zero wins.
    expect_exit "amd $kernel nested=1,0 in one boot" 4 "${amd[@]}" --results "$r" \
        --nested 1 --run "--json /out/probe.json" --nested 0 --run ""
    check "amd $kernel: run 1 exit 0, run 2 exit 4" \
        test "$(cat "$r/run-1.exit" "$r/run-2.exit" 2>/dev/null)" = $'0\n4'
    check "amd $kernel: run 1 saw SVM in guest CPUID" file_has "$r/run-1.log" "svm=1"
    check "amd $kernel: run 1 JSON came back" file_has "$r/run-1.probe.json" '"nested_usable": true'
    check "amd $kernel: console.log kept" file_has "$r/console.log" '@@nestvmm done'
}

amd_failure_checks() {
    local amd=("$ROOT/scripts/l0/qemu-amd.sh" --kernel 6.12 --nestvmm "$PROBE")
    expect_exit "insmod refused -> modules failed" 102 "${amd[@]}" --append module_blacklist=kvm_amd
    expect_exit "no /init -> did not boot" 101 "${amd[@]}" --append rdinit=/nonexistent
    expect_exit "L0 powers off mid-run -> died" 104 "${amd[@]}" -- --poweroff
    expect_exit "timeout" 103 "${amd[@]}" --timeout 2
}

bochs_checks() {
    local r="$TMP/results-bochs"
    expect_exit "intel 6.12 nested=1 (bochs)" 0 "$ROOT/scripts/l0/bochs-intel.sh" \
        --kernel 6.12 --nestvmm "$PROBE" --results "$r" -- --json probe.json
    check "intel: saw VMX in guest CPUID" file_has "$r/run-1.log" "vmx=1"
    check "intel: JSON came back" file_has "$r/run-1.probe.json" '"kvm_intel_nested": "Y"'
}

main() {
    need_pkgs gcc libc6-dev busybox-static
    PROBE="$TMP/kvmprobe"
    gcc -static -O2 -Wall -Wextra -Werror -o "$PROBE" "$HERE/kvmprobe.c"

    offline_checks
    if [[ $OFFLINE == 0 ]]; then
        amd_checks 6.12
        amd_failure_checks
        [[ $WITH_61 == 0 ]] || amd_checks 6.1
        [[ $WITH_BOCHS == 0 ]] || bochs_checks
    fi
    echo "$PASSED passed, $FAILED failed"
    [[ $FAILED == 0 ]]
}

main
