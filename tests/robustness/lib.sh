# SPDX-License-Identifier: MIT
# Helpers for the robustness tests (sourced). Every check that fails prints
# what it expected and what it got, and the test exits 1 at the end.
set -u
failures=0
TMP=$(mktemp -d /tmp/nestvmm-robust.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
chmod 755 "$TMP"

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }
check() {   # check DESCRIPTION COMMAND...
	local what=$1; shift
	if "$@"; then ok "$what"; else fail "$what"; fi
}
finish() {
	if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
	echo "all checks passed"; exit 0
}

# run_timed SECONDS_LIMIT CMD...: runs CMD with stdout -> $TMP/out, stderr -> $TMP/err;
# sets RC and WALL (seconds, float). A hard kill at SECONDS_LIMIT*2+5 keeps a hung
# nestvmm from hanging the test (that is a failure, RC=137 or 124).
run_timed() {
	local limit=$1; shift
	local t0 t1
	t0=$(date +%s.%N)
	timeout -s KILL $((limit * 2 + 5)) "$@" > "$TMP/out" 2> "$TMP/err"
	RC=$?
	t1=$(date +%s.%N)
	WALL=$(echo "$t1 - $t0" | bc -l)
}

# The JSON verdict in FILE is valid and internally consistent.
json_ok() {
	local f=$1
	jq -e 'type == "object" and (.stages | length) > 0 and (.run | type) == "object"' "$f" \
		> /dev/null 2>&1
}
jget() { jq -r "$2" "$1"; }
less_than() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }
contains() { case "$1" in *"$2"*) return 0 ;; *) return 1 ;; esac; }
