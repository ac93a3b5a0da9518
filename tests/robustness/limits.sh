#!/bin/bash
# SPDX-License-Identifier: MIT
# limits.sh NESTVMM SCRIPTED_GUEST CASE: signals and resource limits.
#   HUP        SIGHUP while L1 runs: handled like SIGTERM (verdict written, 129)
#   ALRM       a SIGALRM from another process is an interruption (142), not
#              "timed out" a few ms into the run
#   timeout    our own --timeout (setitimer) is still reported as a timeout
#   fsize      under RLIMIT_FSIZE the JSON output is too large: EFBIG is an
#              output error (exit 3, named), no SIGXFSZ death, no FILE.XXXXXX left
# The signal cases run L1's part with tests/robustness/scripted_guest (vmm/run.c
# without KVM: "block" is a KVM_RUN that returns only for a signal), so they
# run on any host; signals.sh covers SIGHUP with a real guest where KVM works.
. "$(dirname "$0")/lib.sh"
# json_ok passes an empty file (jq -e on no input exits 0): require content too.
json_whole() { [ -s "$1" ] && json_ok "$1"; }
nestvmm=$1 guest=$2 case=$3

# Run the scripted guest (L1 began l1.boot and blocks), send SIG after 0.3 s.
signal_run() {   # signal_run SIG TIMEOUT
	"$guest" --format json --timeout "$2" begin:l1.boot block > "$TMP/out" 2> "$TMP/err" &
	local pid=$! t0 t1
	sleep 0.3
	t0=$(date +%s.%N)
	kill -s "$1" $pid
	timeout 10 tail --pid=$pid -f /dev/null
	t1=$(date +%s.%N)
	wait $pid
	RC=$?
	WALL=$(echo "$t1 - $t0" | bc -l)
	echo "exit $RC, ${WALL}s after SIG$1"; cat "$TMP/err"
}

case $case in
HUP|ALRM)
	signal_run "$case" 60
	signo=$(kill -l "$case")
	check "exit 128+$signo (got $RC)" [ "$RC" = $((128 + signo)) ]
	check "stopped within 2 s (${WALL}s)" less_than "$WALL" 2
	check "a JSON verdict is written" json_whole "$TMP/out"
	check "run.end is interrupted (got $(jget "$TMP/out" .run.end 2>/dev/null))" \
		[ "$(jget "$TMP/out" .run.end 2>/dev/null)" = interrupted ]
	check "run.reason names SIG$case, not a timeout" \
		bash -c "jq -r .run.reason '$TMP/out' | grep -q 'interrupted by SIG$case in l1.boot'"
	check "l1.boot is skipped naming SIG$case" jq -e --arg s "SIG$case" \
		'.stages[] | select(.name == "l1.boot") | .status == "skip" and (.reason | contains($s))' "$TMP/out"
	check "JSON exit_code is the process's" [ "$(jget "$TMP/out" .exit_code 2>/dev/null)" = "$RC" ]
	;;
timeout)
	t0=$(date +%s.%N)
	"$guest" --format json --timeout 1 begin:l1.boot block > "$TMP/out" 2> "$TMP/err"
	RC=$?
	WALL=$(echo "$(date +%s.%N) - $t0" | bc -l)
	echo "exit $RC after ${WALL}s: $(jget "$TMP/out" .run.reason)"
	check "exit 1 (got $RC)" [ "$RC" = 1 ]
	check "run.end is timeout" [ "$(jget "$TMP/out" .run.end)" = timeout ]
	check "run.reason: timed out after 1 s in l1.boot" \
		bash -c "jq -r .run.reason '$TMP/out' | grep -q 'timed out after 1 s in l1.boot'"
	check "ran about 1 s (${WALL}s)" bash -c "[ \$(echo '$WALL >= 0.9 && $WALL < 5' | bc -l) = 1 ]"
	;;
fsize)
	# 1 KiB: the JSON verdict (about 2.6 KiB) does not fit; the text one goes
	# to a pipe, which the limit does not bind.
	( ulimit -f 1; exec "$nestvmm" --kvm-device /nonexistent --output "json:$TMP/v.json" \
		--output "ktap:$TMP/v.ktap" 2> "$TMP/err" ) | cat > "$TMP/out"
	RC=${PIPESTATUS[0]}
	echo "exit $RC: $(cat "$TMP/err")"; ls -la "$TMP"
	check "exit 3, not killed by SIGXFSZ (153) (got $RC)" [ "$RC" = 3 ]
	check "stderr names the file and EFBIG" grep -q "^nestvmm: --output $TMP/v.json: write: File too large$" "$TMP/err"
	check "no v.json (whole or not at all)" [ ! -e "$TMP/v.json" ]
	check "no temporary file left" [ "$(ls -A "$TMP" | grep -c '^v\.json\.')" = 0 ]
	check "the text verdict still reached standard output" grep -q '^result: SKIP' "$TMP/out"
	check "the ktap file (under 1 KiB? else also refused) is whole or absent" \
		bash -c "[ ! -e '$TMP/v.ktap' ] || tail -n 1 '$TMP/v.ktap' | grep -q '^# result: skip (exit code 3)'"
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish
