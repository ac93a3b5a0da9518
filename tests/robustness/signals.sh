#!/bin/bash
# SPDX-License-Identifier: MIT
# signals.sh NESTVMM SIGNAL: SIGINT or SIGTERM while L1 spins
# (--hostile spin). nestvmm must stop promptly, still write the verdict so far
# (stdout and --output file), mark it interrupted, and exit 128+signo.
. "$(dirname "$0")/lib.sh"
nestvmm=$1 sig=$2
signo=$(kill -l "$sig")

"$nestvmm" --hostile spin --timeout 60 --format json --output "text:$TMP/v.txt" \
	> "$TMP/out" 2> "$TMP/err" &
pid=$!
# Wait until the vCPU exists (L1 is spinning), at most 10 s.
for _ in $(seq 100); do
	ls -l /proc/$pid/fd 2>/dev/null | grep -q kvm-vcpu && break
	sleep 0.1
done
check "L1 was running when the signal came" bash -c "ls -l /proc/$pid/fd | grep -q kvm-vcpu"
t0=$(date +%s.%N)
kill -s "$sig" $pid
timeout 10 tail --pid=$pid -f /dev/null
t1=$(date +%s.%N)
wait $pid
RC=$?
WALL=$(echo "$t1 - $t0" | bc -l)
echo "exit $RC, ${WALL}s after SIG$sig"; cat "$TMP/err"

check "exit 128+$signo (got $RC)" [ "$RC" = $((128 + signo)) ]
check "stopped within 2 s of the signal (${WALL}s)" less_than "$WALL" 2
check "valid JSON on stdout" json_ok "$TMP/out"
check "run.end is interrupted" [ "$(jget "$TMP/out" .run.end)" = interrupted ]
check "run.interrupted is true" [ "$(jget "$TMP/out" .run.interrupted)" = true ]
check "run.reason names SIG$sig" contains "$(jget "$TMP/out" .run.reason)" "SIG$sig"
check "host stages kept (host.kvm passed)" jq -e '.stages[0].status == "pass"' "$TMP/out"
check "the stage due is skipped, not failed, naming the signal" jq -e --arg s "SIG$sig" \
	'.stages[] | select(.name == "l1.boot") | .status == "skip" and (.reason | contains($s))' "$TMP/out"
check "no stage pending" jq -e 'all(.stages[]; .status != "pending")' "$TMP/out"
check "--output file written too" grep -q "interrupted by SIG$sig" "$TMP/v.txt"
check "no temporary file left" [ "$(ls "$TMP" | grep -c 'v.txt.')" = 0 ]
check "JSON exit_code is the process's exit status ($RC)" [ "$(jget "$TMP/out" .exit_code)" = "$RC" ]
finish
