# Helpers for integration tests: run nestvmm, keep its output, assert on it.
# Each test script sources this, defines test_* functions, and calls run_tests.
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

fail() { echo "    FAIL: $*"; echo "    --- stdout:"; head -c 3000 "$out" | sed 's/^/    /'; echo "    --- stderr:"; head -c 2000 "$err" | sed 's/^/    /'; return 1; }
expect_rc() { [ "$rc" -eq "$1" ] || fail "exit code $rc, expected $1"; }
# stage NAME: its status in the JSON verdict on stdout
stage() { jq -r --arg n "$1" '.stages[] | select(.name == $n) | .status' "$out"; }
reason() { jq -r --arg n "$1" '.stages[] | select(.name == $n) | .reason' "$out"; }
expect_stage() { local s; s=$(stage "$1"); [ "$s" = "$2" ] || fail "stage $1 is '$s', expected '$2' (reason: $(reason "$1"))"; }
expect_reason() { reason "$1" | grep -qE -- "$2" || fail "reason of $1 does not match /$2/: $(reason "$1")"; }
expect_json() { jq -e . "$out" >/dev/null || fail "stdout is not valid JSON"; }
expect_err() { grep -qE -- "$1" "$err" || fail "stderr does not match /$1/"; }
expect_under() { [ "$(echo "$secs < $1" | bc)" = 1 ] || fail "took ${secs}s, expected under $1 s"; }

run_tests() {
	local t only=${1:-}
	for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
		[ -n "$only" ] && [ "$t" != "$only" ] && continue
		if ( $t ); then echo "ok   $t"; passed=$((passed + 1))
		else echo "FAIL $t"; failed=$((failed + 1)); fi
	done
	echo "$passed passed, $failed failed"
	[ "$failed" -eq 0 ]
}
