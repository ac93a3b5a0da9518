#!/bin/bash
# SPDX-License-Identifier: MIT
# hostile.sh NESTVMM MODE: L1 misbehaves (--hostile MODE); nestvmm must end the
# run within its timeout, exit with the documented code (1: a stage failed),
# write valid JSON whose run.end, run.reason and run.last_stage name what
# happened and where, and blame the stage that was due. Expectations are
# fixed per mode or taken from a plain run, never from the run under test.
. "$(dirname "$0")/lib.sh"
nestvmm=$1 mode=$2
T=3   # --timeout

run_timed $T "$nestvmm" --hostile "$mode" --timeout $T --format json
out=$TMP/out
echo "exit $RC after ${WALL}s"; cat "$TMP/err"
check "valid JSON on stdout" json_ok "$out"
json_ok "$out" || { cat "$out"; finish; }
end=$(jget "$out" .run.end) reason=$(jget "$out" .run.reason) last=$(jget "$out" .run.last_stage)
echo "run.end=$end last_stage='$last' reason: $reason"

# What each mode must produce: run.end, a phrase of run.reason, the last stage begun.
exp_rc=1 exp_last=""
case $mode in
spin)         exp_end=timeout;          exp_reason="timed out after $T s" ;;
triple-fault) exp_end=triple-fault;     exp_reason="triple-faulted" ;;
garbage)      exp_end=protocol-error;   exp_reason="message size 65535" ;;
flood)        exp_end=timeout;          exp_reason="timed out after $T s" ;;
dup-stage)    exp_end=protocol-error;   exp_reason="began stage 2 (l1.boot) twice"; exp_last=l1.boot ;;
bad-stage)    exp_end=protocol-error;   exp_reason="stage 99 (no such stage)" ;;
no-done)      exp_end=halted-early;     exp_reason="without reporting done" ;;
mmio)         exp_end=unexpected-exit;  exp_reason="at GPA 0xd0000000, outside RAM" ;;
bad-insn)     exp_end=kvm-internal-error; exp_reason="KVM_EXIT_INTERNAL_ERROR"
	# RDTSCP: an L0 that emulates it lets L1 carry on; then the run must be
	# the ordinary one: exit code, last stage and every stage's status as
	# in a run without --hostile (which must itself end done).
	if [ "$end" = done ]; then
		cp "$TMP/out" "$TMP/hostile.json"; cp "$TMP/err" "$TMP/hostile.err"
		h_rc=$RC h_wall=$WALL
		run_timed $T "$nestvmm" --timeout $T --format json
		cp "$TMP/out" "$TMP/plain.json"
		check "the plain run ends done" [ "$(jget "$TMP/plain.json" .run.end)" = done ]
		check "same stage statuses as the plain run" [ \
			"$(jq -c '[.stages[] | [.name, .status]]' "$TMP/hostile.json")" = \
			"$(jq -c '[.stages[] | [.name, .status]]' "$TMP/plain.json")" ]
		exp_end=done exp_reason="every stage" exp_rc=$RC exp_last=$(jget "$TMP/plain.json" .run.last_stage)
		cp "$TMP/hostile.json" "$TMP/out"; cp "$TMP/hostile.err" "$TMP/err"
		RC=$h_rc WALL=$h_wall
	fi ;;
toggle-apic)  exp_end=done;             exp_reason="every stage"; exp_last=l1.cpuid ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac

check "exit code $exp_rc (got $RC)" [ "$RC" = "$exp_rc" ]
check "JSON exit_code matches the process's ($RC)" [ "$(jget "$out" .exit_code)" = "$RC" ]
check "run.end is $exp_end (got $end)" [ "$end" = "$exp_end" ]
check "run.reason says \"$exp_reason\"" contains "$reason" "$exp_reason"
check "run.last_stage is '$exp_last' (got '$last')" [ "$last" = "$exp_last" ]
# Within the timeout + 2 s, + what starting and stopping a guest costs on this host
# (seconds under an emulated L0; measured only when needed: a triple-faulting L1
# ends the moment it starts).
slack=2 wall=$WALL
if ! less_than "$wall" $((T + 2)); then
	mkdir "$TMP/run" && mv "$TMP/out" "$TMP/err" "$TMP/run/"
	run_timed $T "$nestvmm" --hostile triple-fault --timeout $T
	slack=$(echo "2 + $WALL" | bc -l)
	mv "$TMP/run/out" "$TMP/run/err" "$TMP/"
fi
check "finished within --timeout $T + $slack s (${wall}s)" less_than "$wall" "$(echo "$T + $slack" | bc -l)"
WALL=$wall
if [ "$exp_end" = timeout ]; then
	check "ran until the timeout (${WALL}s >= $T)" less_than $((T - 1)).9 "$WALL"
fi
check "nothing on stderr" [ ! -s "$TMP/err" ]
check "not marked interrupted" [ "$(jget "$out" .run.interrupted)" = false ]
if [ "$mode" = toggle-apic ]; then
	# CPUID.1:EDX.APIC now differs from the table: l1.cpuid fails, naming it.
	check "l1.cpuid fails" [ "$(jq -r '.stages[] | select(.name == "l1.cpuid").status' "$out")" = fail ]
	check "l1.cpuid names CPUID.1H.0:EDX" jq -e \
		'.stages[] | select(.name == "l1.cpuid") | .details | test("CPUID.1H.0:EDX=0x[0-9a-f]+ expected")' "$out"
	check "l1.enable skipped for it" jq -e \
		'.stages[] | select(.name == "l1.enable") | .status == "skip" and (.reason | test("needs l1.cpuid"))' "$out"
fi
if [ "$exp_end" != done ]; then
	# The stage that was due takes the blame, with the run's reason; later ones are skipped.
	blamed=$(jq -r '[.stages[] | select(.status == "fail")][0].name' "$out")
	exp_blamed=$([ -z "$exp_last" ] && echo l1.boot || echo l1.cpuid)
	check "stage $exp_blamed fails (got $blamed)" [ "$blamed" = "$exp_blamed" ]
	check "its reason is the run's" [ "$(jq -r --arg n "$blamed" '.stages[] | select(.name == $n).reason' "$out")" = "$reason" ]
	check "every later stage skipped" jq -e --arg n "$blamed" \
		'[.stages[] | select(.level != "host")] | (map(.name) | index($n)) as $i | .[$i + 1:] | all(.status == "skip")' "$out"
	check "no stage left pending" jq -e 'all(.stages[]; .status != "pending")' "$out"
fi
if [ "$mode" = flood ]; then
	check "log kept bounded (<= 256 lines)" jq -e '(.log | length) <= 256' "$out"
	check "dropped lines counted" jq -e '.log_dropped > 0' "$out"
fi
# The same run in text: the reason is there too (no format hides it). A run
# that ended done has no run reason to show: its result line must match.
result=$(jget "$out" .result | tr a-z A-Z)
run_timed $T "$nestvmm" --hostile "$mode" --timeout $T
if [ "$exp_end" = done ]; then
	check "text verdict says result: $result" grep -q "^result: $result (" "$TMP/out"
else
	check "text verdict names the reason" grep -qF "$exp_reason" "$TMP/out"
fi
[ "$mode" != toggle-apic ] ||
	check "text verdict names l1.cpuid's failure" grep -qE "l1.cpuid +fail +1 CPUID register" "$TMP/out"
finish
