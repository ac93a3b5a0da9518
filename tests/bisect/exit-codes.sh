#!/bin/sh
# SPDX-License-Identifier: MIT
# nestvmm --bisect on real runs: the exit code is 0, 1 or 125 and agrees
# with the stages of the JSON verdict written by the same run (the rules of
# vmm/bisect.h, restated here from the outside); an interrupted run is 125
# where it would otherwise be 130.
#   NESTVMM=build/nestvmm exit-codes.sh
set -eu

dir=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-bisect.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail=0

# Expected code from the JSON: interrupted 125; l1.enable or later failed 1;
# anything else not passed 125; all passed 0.
expected() {
	python3 - "$1" <<'PY'
import json, sys
v = json.load(open(sys.argv[1]))
names = [s['name'] for s in v['stages']]
first = names.index('l1.enable')
if v['run']['interrupted']:
    print(125)
elif any(s['status'] == 'fail' for s in v['stages'][first:]):
    print(1)
elif any(s['status'] != 'pass' for s in v['stages']):
    print(125)
else:
    print(0)
PY
}

check() {
	name=$1
	shift
	rc=0
	"$NESTVMM" --bisect --format text --output "json:$dir/$name.json" "$@" > "$dir/$name.txt" || rc=$?
	want=$(expected "$dir/$name.json")
	if [ "$rc" = "$want" ]; then
		echo "exit-codes: $name: $rc ($(tail -n 1 "$dir/$name.txt"))"
	else
		echo "exit-codes: FAIL: $name: exit $rc, the verdict says $want"
		fail=1
	fi
}

check default
check expose --cpu +svm,+vmx
check hang --hostile spin --timeout 1
check triple-fault --hostile triple-fault

# Interrupted: SIGINT while L1 spins. Plain run 130, --bisect 125.
for mode in plain bisect; do
	flag=
	[ "$mode" = bisect ] && flag=--bisect
	rc=0
	"$NESTVMM" $flag --hostile spin --timeout 30 > "$dir/int.txt" &
	pid=$!
	sleep 1
	kill -INT "$pid"
	wait "$pid" || rc=$?
	want=130
	[ "$mode" = bisect ] && want=125
	if [ "$rc" = "$want" ]; then
		echo "exit-codes: interrupted ($mode): $rc"
	else
		echo "exit-codes: FAIL: interrupted ($mode): exit $rc, want $want"
		fail=1
	fi
done
exit $fail
