# Helpers for integration tests: run nestvmm, keep its output, assert on it.
# Each test script sources this, defines test_* functions, and calls run_tests.
# Every check reports through fail(), which marks the test failed: a test
# fails if any of its checks failed, whatever its last command returns.
set -u
NESTVMM=${NESTVMM:?set NESTVMM to the nestvmm binary}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
passed=0 failed=0

# nv ARGS...: run nestvmm; sets $rc, $out (stdout file), $err (stderr file), $secs.
nv() {
	local t0 t1
	out=$WORK/out err=$WORK/err
	t0=$(date +%s.%N)
	"$NESTVMM" "$@" >"$out" 2>"$err"
	rc=$?
	t1=$(date +%s.%N)
	secs=$(echo "$t1 - $t0" | bc)
}

fail() {
	test_failed=1
	echo "    FAIL: $*"
	echo "    --- stdout:"; head -c 3000 "${out:-/dev/null}" 2>/dev/null | sed 's/^/    /'; echo
	echo "    --- stderr:"; head -c 2000 "${err:-/dev/null}" 2>/dev/null | sed 's/^/    /'; echo
	return 1
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1"; }
# stage NAME: its status in the JSON verdict on stdout
stage() { jq -r --arg n "$1" '.stages[] | select(.name == $n) | .status' "$out"; }
reason() { jq -r --arg n "$1" '.stages[] | select(.name == $n) | .reason' "$out"; }
expect_stage() { local s; s=$(stage "$1"); [ "$s" = "$2" ] || fail "stage $1 is '$s', expected '$2' (reason: $(reason "$1"))"; }
expect_reason() { reason "$1" | grep -qE -- "$2" || fail "reason of $1 does not match /$2/: $(reason "$1")"; }
expect_json() { jq -e . "$out" >/dev/null || fail "stdout is not valid JSON"; }
expect_err() { grep -qE -- "$1" "$err" || fail "stderr does not match /$1/"; }
expect_under() { [ "$(echo "$secs < $1" | bc)" = 1 ] || fail "took ${secs}s, expected under $1 s"; }

# seen LEAF REG: register REG (EAX..EDX) of CPUID leaf LEAF (hex as L1 prints it,
# e.g. 1, 40000000, 8000000a) as L1 itself read it: l1.cpuid's details carry a
# line "seen CPUID.<leaf>H.0 EAX=0x... EBX=0x... ECX=0x... EDX=0x..." per leaf.
# Prints the value in decimal; fails when the line is missing.
seen() {
	local v
	v=$(jq -r '.stages[] | select(.name == "l1.cpuid") | .details // ""' "$out" 2>/dev/null |
		sed -nE "s/^seen CPUID\.$1H\.0 EAX=0x([0-9a-f]{8}) EBX=0x([0-9a-f]{8}) ECX=0x([0-9a-f]{8}) EDX=0x([0-9a-f]{8})\$/\1 \2 \3 \4/p" |
		head -n 1)
	[ -n "$v" ] || return 1
	set -- $v "$2"
	case $5 in EAX) v=$1 ;; EBX) v=$2 ;; ECX) v=$3 ;; EDX) v=$4 ;; *) return 1 ;; esac
	echo $((16#$v))
}
# expect_seen_bit LEAF REG BIT 0|1: L1 read that bit of CPUID with that value.
expect_seen_bit() {
	local v
	v=$(seen "$1" "$2") || { fail "l1.cpuid's details have no 'seen CPUID.$1H.0' line"; return 1; }
	[ $(( (v >> $3) & 1 )) -eq "$4" ] ||
		fail "L1 saw CPUID.$1H:$2[$3]=$(( (v >> $3) & 1 )), expected $4 ($2=$(printf 0x%08x "$v"))"
}
# expect_seen_kvm_leaves yes|no: L1 read KVM's signature "KVMKVMKVM\0\0\0" in
# CPUID.40000000H:EBX,ECX,EDX (yes), or anything else (no: the leaf is hidden).
expect_seen_kvm_leaves() {
	local b c d sig
	b=$(seen 40000000 EBX) && c=$(seen 40000000 ECX) && d=$(seen 40000000 EDX) ||
		{ fail "l1.cpuid's details have no 'seen CPUID.40000000H.0' line"; return 1; }
	sig=no
	[ "$b" -eq $((0x4b4d564b)) ] && [ "$c" -eq $((0x564b4d56)) ] && [ "$d" -eq $((0x4d)) ] && sig=yes
	[ "$sig" = "$1" ] || fail "KVM's signature in CPUID.40000000H as L1 saw it: $sig, expected $1"
}

run_tests() {
	local t only=${1:-}
	for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
		[ -n "$only" ] && [ "$t" != "$only" ] && continue
		# The test's status and every fail() in it count (both in its subshell).
		if ( test_failed=0; $t; rc_=$?; [ "$rc_" -eq 0 ] && [ "$test_failed" -eq 0 ] ); then
			echo "ok   $t"; passed=$((passed + 1))
		else echo "FAIL $t"; failed=$((failed + 1)); fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
