#!/bin/bash
# SPDX-License-Identifier: MIT
# protocol.sh SCRIPTED_GUEST CASE: rules the VMM enforces on L1's reports
# (vmm/protocol.c), and guest/host text that must not forge text output.
# L1 is tests/robustness/scripted_guest: vmm/run.c, the verdict and the
# formats as in nestvmm, each message from the command line, no KVM.
#   pass-after-fail   l1.enable reported passed although l1.cpuid failed
#   l2-after-skip     l2.run begun and passed although l1.enable was skipped
#   after-done        a stage begun, a stage ended, or DONE again after DONE
#   newline           guest text with newlines: no extra line in the text table
#                     or in --trace (no forged "result: PASS")
#   escapes           escape sequences and controls from the guest and from the
#                     host's CPU model never reach the text output or --trace
. "$(dirname "$0")/lib.sh"
guest=$1 case=$2
json_whole() { [ -s "$1" ] && json_ok "$1"; }
ok_stages=(begin:l1.boot end:l1.boot:pass:ok begin:l1.cpuid end:l1.cpuid:pass:ok)
# l2_all_pass: begin and pass for every l2 test of the registry, in order.
l2_all_pass() {
	grep -oE '^[[:space:]]*X\([A-Z0-9_]+, *"l2\.[^"]+"' \
		"$(dirname "$0")/../../arch/include/nestvmm/stages.h" | sed -E 's/.*"([^"]+)"/\1/' |
		while read -r t; do printf 'begin:%s end:%s:pass:ok ' "$t" "$t"; done
}

# A violation ends the run as a protocol error naming the rule.
violation() {   # violation RULE-PHRASE STEP...
	local rule=$1; shift
	"$guest" --format json "$@" > "$TMP/out" 2> "$TMP/err"
	RC=$?
	echo "exit $RC: $(jget "$TMP/out" .run.reason 2>/dev/null)"
	check "exit 1 (got $RC)" [ "$RC" = 1 ]
	check "valid JSON verdict" json_whole "$TMP/out"
	check "run.end is protocol-error" [ "$(jget "$TMP/out" .run.end)" = protocol-error ]
	check "run.reason names the rule: \"$rule\"" contains "$(jget "$TMP/out" .run.reason)" "$rule"
	check "no stage the rule forbids passed" jq -e \
		'[.stages[] | select(.level != "host")] | all(.status != "pass" or (.reason | test("forged") | not))' "$TMP/out"
	check "no stage pending" jq -e 'all(.stages[]; .status != "pending")' "$TMP/out"
}

case $case in
pass-after-fail)
	violation "a stage runs only after the stage it needs passed; L1 began l1.enable, but l1.cpuid failed" \
		begin:l1.boot end:l1.boot:pass:ok begin:l1.cpuid end:l1.cpuid:fail:bad \
		begin:l1.enable end:l1.enable:pass:forged done
	check "l1.cpuid stays failed" jq -e '.stages[] | select(.name == "l1.cpuid") | .status == "fail"' "$TMP/out"
	check "l1.enable is not passed" jq -e '.stages[] | select(.name == "l1.enable") | .status != "pass"' "$TMP/out"
	;;
l2-after-skip)
	violation "L1 began l2.run, but l1.enable was skipped" \
		"${ok_stages[@]}" begin:l1.enable end:l1.enable:skip:no-svm \
		begin:l2.run end:l2.run:pass:forged done
	check "l2.run is not passed" jq -e '.stages[] | select(.name == "l2.run") | .status != "pass"' "$TMP/out"
	# The honest order still passes: a stage after its prerequisite passed.
	"$guest" --format json "${ok_stages[@]}" begin:l1.enable end:l1.enable:pass:ok \
		$(l2_all_pass) done > "$TMP/good" 2>&1
	RC=$?
	check "the same stages in order, each prerequisite passed: exit 0 (got $RC)" [ "$RC" = 0 ]
	# And an honest skip: l1.enable skipped, L2 not reported, DONE.
	"$guest" --format json "${ok_stages[@]}" begin:l1.enable end:l1.enable:skip:no-svm done > "$TMP/skip" 2>&1
	RC=$?
	check "l1.enable skipped, L2 not reported: exit 4 (got $RC)" [ "$RC" = 4 ]
	check "l1.enable skipped, L2 not reported: the run is done" [ "$(jget "$TMP/skip" .run.end)" = done ]
	;;
after-done)
	violation "no stage results after DONE; L1 sent a begin of l1.cpuid" \
		begin:l1.boot end:l1.boot:pass:ok done begin:l1.cpuid end:l1.cpuid:pass:forged
	violation "no stage results after DONE; L1 sent DONE again" \
		begin:l1.boot end:l1.boot:pass:ok done done
	# Log lines after DONE are fine.
	"$guest" --format json begin:l1.boot end:l1.boot:pass:ok done log:bye > "$TMP/out" 2>&1
	check "a log line after DONE is no violation" [ "$(jget "$TMP/out" .run.end)" = done ]
	;;
newline)
	forged=$'ok\nresult: PASS'
	"$guest" --trace begin:l1.boot "end:l1.boot:fail:$forged" $'log:hello\n[vmm] L1 ended stage l1.cpuid: pass' \
		done > "$TMP/out" 2> "$TMP/err"
	cat "$TMP/out" "$TMP/err"
	check "text: one result line (got $(grep -c '^result:' "$TMP/out"))" [ "$(grep -c '^result:' "$TMP/out")" = 1 ]
	check "text: it is the real one (FAIL)" grep -q '^result: FAIL ' "$TMP/out"
	# One line per test of the registry (arch/include/nestvmm/stages.h), no more.
	n=$(grep -cE '^[[:space:]]*X\([A-Z0-9_]+, *"' "$(dirname "$0")/../../arch/include/nestvmm/stages.h")
	check "text: one line per stage ($n)" \
		[ "$(grep -c '^  [a-z0-9.-]* *\(pass\|fail\|skip\) ' "$TMP/out")" = "$n" ]
	check "text: the newline is shown as \\n" grep -qF 'ok\nresult: PASS' "$TMP/out"
	check "trace: every line starts with [vmm] or [l1]" [ -z "$(grep -v '^\[\(vmm\|l1\)\] ' "$TMP/err")" ]
	check "trace: no forged [vmm] line from the guest" \
		[ "$(grep -c '^\[vmm\] L1 ended stage l1.cpuid' "$TMP/err")" = 0 ]
	check "trace: the guest's newline is shown as \\n" grep -qF '[l1] hello\n[vmm]' "$TMP/err"
	;;
escapes)
	esc=$'\e[2J\e[31mRED\e]0;title\a'
	SCRIPTED_CPU_MODEL=$'AMD EPYC \e[2J\e[1;31mpwned\x9b1m' "$guest" --trace begin:l1.boot \
		"end:l1.boot:fail:$esc"$'\x1f'"details $esc" "log:$esc" done > "$TMP/out" 2> "$TMP/err"
	cat -v "$TMP/out" "$TMP/err"
	check "text: no ESC, BEL or C1 byte" bash -c "! LC_ALL=C grep -q \$'[\\x1b\\x07\\x9b]' '$TMP/out'"
	check "trace: no ESC, BEL or C1 byte" bash -c "! LC_ALL=C grep -q \$'[\\x1b\\x07\\x9b]' '$TMP/err'"
	check "text: the CPU model's ESC is shown as \\x1b" grep -qF 'AMD EPYC \x1b[2J' "$TMP/out"
	for f in json ktap junit; do
		SCRIPTED_CPU_MODEL=$'AMD \e[2J' "$guest" --format $f begin:l1.boot "end:l1.boot:fail:$esc" \
			done > "$TMP/v.$f" 2>&1
		check "$f: no raw ESC either" bash -c "! LC_ALL=C grep -q \$'\\x1b' '$TMP/v.$f'"
	done
	check "json: still valid" json_whole "$TMP/v.json"
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish
