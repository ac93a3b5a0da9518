#!/bin/bash
# Run one libFuzzer harness the way CI does:
#   run.sh HARNESS COMMITTED_CORPUS WORK_DIR SECONDS [extra libFuzzer flags]
# 1. replay every committed input once (the crash regressions live there too);
# 2. fuzz for SECONDS, new inputs going to WORK_DIR (never the source tree).
# A dictionary next to the harness source (NAME.dict) is used when present.
set -u
harness=$1 corpus=$2 work=$3 seconds=$4
shift 4
name=$(basename "$harness"); name=${name#fuzz_}
here=$(cd "$(dirname "$0")" && pwd)
dict=()
[ -f "$here/$name.dict" ] && dict=(-dict="$here/$name.dict")
mkdir -p "$work/new" "$work/artifacts"
[ -d "$corpus" ] && [ -n "$(ls -A "$corpus")" ] || { echo "no committed corpus in $corpus"; exit 1; }

common=(-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/artifacts/" -print_final_stats=1)
echo "== replaying $(ls "$corpus" | wc -l) committed inputs"
"$harness" "${common[@]}" "${dict[@]}" -runs=0 "$corpus" "$@" > "$work/replay.log" 2>&1
rc=$?
tail -n 3 "$work/replay.log"
[ $rc -eq 0 ] || { cat "$work/replay.log"; echo "FAIL: a committed input crashes $name"; exit 1; }

echo "== fuzzing $name for ${seconds}s"
"$harness" "${common[@]}" "${dict[@]}" -max_total_time="$seconds" "$work/new" "$corpus" "$@" \
	> "$work/fuzz.log" 2>&1
rc=$?
grep -E '^(Done|stat::number_of_executed_units)' "$work/fuzz.log"
if [ $rc -ne 0 ]; then
	grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/fuzz.log" | head -20
	echo "FAIL: $name crashed; the input is in $work/artifacts/ (see $work/fuzz.log)"
	exit 1
fi
echo "PASS: $name"
