#!/usr/bin/env bash
# Benchmark: median wall time and peak RSS of a whole nestvmm run on its
# built-in guest, beside the floor (bench/floor.c: create a VM and a vCPU,
# run a guest to its first HLT). Targets on our machines: nestvmm median
# <= 10 ms and <= 5x the floor, peak RSS <= 16 MiB with the default --mem.
#
# Usage: scripts/bench.sh [BUILD_DIR] [RUNS] [-- NESTVMM ARGS]
set -euo pipefail
build=${1:-build}
runs=${2:-41}
shift $(( $# > 2 ? 2 : $# ))
[ "${1:-}" = "--" ] && shift
extra=("$@")

for bin in "$build/nestvmm" "$build/bench_floor"; do
	[ -x "$bin" ] || { echo "bench: $bin not found: build first (cmake --build $build)" >&2; exit 2; }
done
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

# median of the numbers on stdin
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# measure NAME CMD...: prints "median_ms peak_rss_kib" over $runs runs (first run is a warm-up).
measure() {
	local t0 t1 i rc times=() rss=()
	"$@" >/dev/null 2>&1 || true
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		/usr/bin/time -f %M -o "$tmp" "$@" >/dev/null 2>&1 && rc=0 || rc=$?
		t1=$(date +%s%N)
		times+=("$(( (t1 - t0) / 1000 ))")
		rss+=("$(tail -n 1 "$tmp")")
	done
	echo "$(printf '%s\n' "${times[@]}" | median) $(printf '%s\n' "${rss[@]}" | sort -n | tail -n 1) $rc"
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
read -r f_us f_rss _ < <(measure "$build/bench_floor")
read -r n_us n_rss n_rc < <(measure "$build/nestvmm" "${extra[@]}")

printf '%-28s %12s %14s\n' "program ($runs runs)" "median ms" "peak RSS MiB"
printf '%-28s %12.2f %14.2f\n' "floor (VM+vCPU to HLT)" "$(echo "$f_us / 1000" | bc -l)" "$(echo "$f_rss / 1024" | bc -l)"
printf '%-28s %12.2f %14.2f\n' "nestvmm ${extra[*]:-(default)}" "$(echo "$n_us / 1000" | bc -l)" "$(echo "$n_rss / 1024" | bc -l)"
printf '%-28s %12.2f\n' "ratio nestvmm/floor" "$(echo "$n_us / $f_us" | bc -l)"
echo "nestvmm exit code: $n_rc (targets: median <= 10 ms, <= 5x floor, peak RSS <= 16 MiB)"
