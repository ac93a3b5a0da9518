#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Which of the kernels I can install gets nested virtualization right? Boot
# each packaged Debian kernel as the emulated L0 (scripts/l0), run nestvmm in
# it, and write a matrix of kernels x tests: JSON, Markdown and one
# self-contained HTML page. --bisect-packages finds the first package whose
# outcome changed between two packages.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=scripts/l0/lib.sh
source "$HERE/l0/lib.sh"

readonly EXIT_USAGE=2 EXIT_SETUP=3

usage() {
	cat <<EOF
usage: scripts/kernel-matrix.sh --arch amd|intel [--kernels LIST|all] [--out DIR]
           [--bisect-packages GOOD BAD] [--nestvmm PATH] [--timeout S] [-- NESTVMM_ARGS...]

Run nestvmm under each listed packaged Debian kernel (an emulated L0 per
kernel: QEMU for amd, ~10 s each; Bochs for intel, 60-100 s each) and write
DIR/matrix.json, DIR/matrix.md and DIR/matrix.html (a colour grid; the
reason on hover or click), plus DIR/runs/PACKAGE/ with each L0's files.

  --arch amd|intel     vendor (required)
  --kernels LIST       comma-separated: linux-image-PKG names, or a series
                       (6.1, 6.12) meaning every generic amd64 image of it in
                       apt; "all" (default) is every 6.1 and 6.12 image
  --out DIR            where the matrix goes (default: kernel-matrix-ARCH)
  --bisect-packages GOOD BAD
                       instead of every kernel: binary-search the ordered
                       package list from GOOD to BAD (either order in time)
                       for the first package whose outcome is BAD's, and
                       name the tests whose outcome changed
  --nestvmm PATH       static nestvmm (default: build/nestvmm)
  --timeout S          per-boot limit given to the L0 runner
  -- NESTVMM_ARGS      arguments for every nestvmm run (default: --arch ARCH)

Packages are downloaded once into ~/.cache/nestvmm/kernels (~13 MB each kept).
Exit: 0 matrix written (whatever the results), 2 bad arguments, 3 setup failed.
With --bisect-packages: 0 when a first changed package was found, 1 when
GOOD and BAD have the same outcome (nothing to find).
EOF
}

say() { printf 'kernel-matrix: %s\n' "$*" >&2; }
die() {
	local code=$1
	shift
	printf 'kernel-matrix: error: %s\n' "$*" >&2
	exit "$code"
}
setup_error() { die "$EXIT_SETUP" "$@"; }
usage_error() { die "$EXIT_USAGE" "$@"; }

ARCH="" KERNELS=all OUT="" GOOD="" BAD="" NESTVMM_BIN="$ROOT/build/nestvmm" TIMEOUT=""
NESTVMM_ARGS=()
HAVE_ARGS=0

parse_args() {
	while [[ $# -gt 0 ]]; do
		case $1 in
		--arch | --kernels | --out | --nestvmm | --timeout)
			[[ $# -ge 2 ]] || usage_error "$1 needs a value (see --help)"
			;;
		--bisect-packages) [[ $# -ge 3 ]] || usage_error "--bisect-packages needs GOOD and BAD" ;;
		esac
		case $1 in
		--arch) ARCH=$2 ;;
		--kernels) KERNELS=$2 ;;
		--out) OUT=$2 ;;
		--nestvmm) NESTVMM_BIN=$2 ;;
		--timeout)
			[[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout takes whole seconds, not '$2'"
			TIMEOUT=$2
			;;
		--bisect-packages)
			GOOD=$2 BAD=$3
			shift
			;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			shift
			NESTVMM_ARGS=("$@")
			HAVE_ARGS=1
			break
			;;
		*) usage_error "unknown option '$1' (see --help)" ;;
		esac
		shift 2
	done
	# NESTVMM_L0_RUNNER: another runner with scripts/l0's interface (tests).
	case $ARCH in
	amd) RUNNER=${NESTVMM_L0_RUNNER:-$HERE/l0/qemu-amd.sh} ;;
	intel) RUNNER=${NESTVMM_L0_RUNNER:-$HERE/l0/bochs-intel.sh} ;;
	"") usage_error "--arch amd|intel is required" ;;
	*) usage_error "--arch must be amd or intel, not '$ARCH'" ;;
	esac
	[[ $HAVE_ARGS == 1 ]] || NESTVMM_ARGS=(--arch "$ARCH")
	OUT=${OUT:-kernel-matrix-$ARCH}
	[[ -x $NESTVMM_BIN ]] || usage_error "nestvmm binary not found: $NESTVMM_BIN (build it, or give --nestvmm)"
}

# --- which kernels --------------------------------------------------------------

# all_packages SERIES: every generic amd64 image of SERIES in apt, oldest
# first, the -unsigned twin preferred (same image, no signature).
all_packages() {
	local regex names
	regex=$(kernel_package_regex "$1")
	names=$(apt-cache pkgnames linux-image- | grep -E "$regex" | grep -Ev -- '-(cloud|rt)-' || true)
	[[ -n $names ]] || return 0
	# Names apt knows only from a reference (no candidate version) are not
	# downloadable: one apt-cache policy call keeps those that are.
	# shellcheck disable=SC2086 # one package name per word
	names=$(with_candidate $names)
	sed 's/-unsigned$//' <<<"$names" | sort -uV | while read -r base; do
		[[ -n $base ]] || continue
		if grep -qx -- "$base-unsigned" <<<"$names"; then
			echo "$base-unsigned"
		else
			echo "$base"
		fi
	done
}

# with_candidate PKG...: the packages that have a candidate version.
with_candidate() {
	apt-cache policy "$@" 2>/dev/null |
		awk '/^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
		     /^  Candidate:/ { if ($2 != "(none)") print name }'
}

has_candidate() {
	[[ -n $(apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p' | grep -v '(none)') ]]
}

expand_kernels() {
	local item
	PACKAGES=()
	[[ $KERNELS != all ]] || KERNELS=6.1,6.12
	for item in ${KERNELS//,/ }; do
		case $item in
		linux-image-*)
			has_candidate "$item" || usage_error "kernel package $item is not in apt"
			PACKAGES+=("$item")
			;;
		[0-9]*.[0-9]*)
			mapfile -t -O "${#PACKAGES[@]}" PACKAGES < <(all_packages "$item")
			;;
		*) usage_error "--kernels: '$item' is neither linux-image-PKG nor a series like 6.1" ;;
		esac
	done
	[[ ${#PACKAGES[@]} -gt 0 ]] || usage_error "--kernels $KERNELS matches no package in apt"
}

release_of() {
	local r=${1#linux-image-}
	echo "${r%-unsigned}"
}

# --- one kernel ------------------------------------------------------------------

# run_kernel PKG: one L0 boot; appends its row to rows.tsv and sets OUTCOME
# (the result and every stage's status, to compare packages).
run_kernel() {
	local pkg=$1 dir="$OUT/runs/$1" rc=0 start=$SECONDS args note="" verdict=""
	args=(--kernel "$pkg" --nestvmm "$NESTVMM_BIN" --results "$dir")
	[[ -z $TIMEOUT ]] || args+=(--timeout "$TIMEOUT")
	mkdir -p "$dir"
	say "$pkg: booting"
	"$RUNNER" "${args[@]}" -- "${NESTVMM_ARGS[@]}" --output json:/out/verdict.json \
		>"$dir/stdout.log" 2>"$dir/stderr.log" || rc=$?
	[[ -f $dir/run-1.verdict.json ]] && verdict=$(realpath "$dir/run-1.verdict.json")
	if [[ -z $verdict ]]; then
		note=$(grep -E '^l0: (error|TIMEOUT|L0|KVM)' "$dir/stderr.log" | tail -n 1 | sed 's/^l0: //' | tr '\t' ' ')
		note=${note:-"L0 runner exit $rc"}
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$pkg" "$(release_of "$pkg")" "$rc" "$verdict" "$note" \
		"$((SECONDS - start))" >>"$OUT/rows.tsv"
	if [[ -n $verdict ]]; then
		OUTCOME=$(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))
print(v["result"], " ".join(s["name"] + "=" + s["status"] for s in v["stages"]))' "$verdict")
	else
		OUTCOME="error $note"
	fi
	say "$pkg: $OUTCOME ($((SECONDS - start))s)"
}

# --- package bisection ----------------------------------------------------------------

# The outcome is "the first package like BAD": binary search over the
# packages between GOOD and BAD, assuming one change in between.
bisect_packages() {
	local lo hi mid i good_outcome bad_outcome changed summary
	for i in "${!PACKAGES[@]}"; do
		[[ ${PACKAGES[$i]} != "$GOOD" ]] || lo=$i
		[[ ${PACKAGES[$i]} != "$BAD" ]] || hi=$i
	done
	[[ -n ${lo:-} ]] || usage_error "--bisect-packages: $GOOD is not in the list (--kernels $KERNELS)"
	[[ -n ${hi:-} ]] || usage_error "--bisect-packages: $BAD is not in the list (--kernels $KERNELS)"
	[[ $lo != "$hi" ]] || usage_error "--bisect-packages: GOOD and BAD are the same package"
	# Search in list order; BAD may be older than GOOD (looking for a fix).
	local -a order=()
	if ((lo < hi)); then
		for ((i = lo; i <= hi; i++)); do order+=("${PACKAGES[$i]}"); done
	else
		for ((i = lo; i >= hi; i--)); do order+=("${PACKAGES[$i]}"); done
	fi
	local -A outcome=()
	run_kernel "${order[0]}"
	good_outcome=$OUTCOME
	outcome[0]=$OUTCOME
	run_kernel "${order[-1]}"
	bad_outcome=$OUTCOME
	outcome[$((${#order[@]} - 1))]=$OUTCOME
	if [[ $good_outcome == "$bad_outcome" ]]; then
		summary="$GOOD and $BAD have the same outcome ($good_outcome): nothing to bisect"
		BISECT_RC=1
	else
		lo=0 hi=$((${#order[@]} - 1))
		while ((hi - lo > 1)); do
			mid=$(((lo + hi) / 2))
			run_kernel "${order[$mid]}"
			outcome[$mid]=$OUTCOME
			if [[ $OUTCOME == "$bad_outcome" ]]; then hi=$mid; else lo=$mid; fi
		done
		changed=$(diff_outcomes "${outcome[$lo]}" "${outcome[$hi]}")
		summary="first package with ${BAD}'s outcome: ${order[$hi]} (the one before it, ${order[$lo]}, is like $GOOD); tests whose outcome changed: ${changed:-none (only the overall result)}; $((${#outcome[@]})) of ${#order[@]} packages booted"
		BISECT_RC=0
	fi
	say "$summary"
	BISECT_SUMMARY=$summary
	BISECT_FIRST=${order[$hi]:-}
}

# diff_outcomes A B: "test: a -> b" for each test whose status differs.
diff_outcomes() {
	python3 - "$1" "$2" <<'PY'
import sys
def parse(o):
    w = o.split()
    return dict(x.split("=", 1) for x in w[1:] if "=" in x), w[0]
a, ra = parse(sys.argv[1]); b, rb = parse(sys.argv[2])
out = [f"{t}: {a.get(t, 'missing')} -> {b.get(t, 'missing')}" for t in list(dict.fromkeys(list(a) + list(b))) if a.get(t) != b.get(t)]
print(", ".join(out))
PY
}

main() {
	local pkg start=$SECONDS
	parse_args "$@"
	need_pkgs python3
	expand_kernels
	mkdir -p "$OUT" || setup_error "cannot create $OUT"
	: >"$OUT/rows.tsv"
	BISECT_SUMMARY="" BISECT_RC=0 BISECT_FIRST=""
	if [[ -n $GOOD ]]; then
		bisect_packages
	else
		say "${#PACKAGES[@]} kernel(s): ${PACKAGES[*]}"
		for pkg in "${PACKAGES[@]}"; do
			run_kernel "$pkg"
		done
	fi
	python3 - "$OUT/meta.json" "$ARCH" "$BISECT_SUMMARY" "$BISECT_FIRST" "${NESTVMM_ARGS[@]}" <<'PY'
import json, sys
path, arch, summary, first, *args = sys.argv[1:]
meta = {"arch": arch, "nestvmm_args": args}
if summary:
    meta["bisect"] = {"summary": summary, "first": first}
json.dump(meta, open(path, "w"))
PY
	python3 "$HERE/matrix-report.py" "$OUT" || setup_error "matrix-report.py failed"
	say "matrix of $(wc -l <"$OUT/rows.tsv") kernel(s) in $((SECONDS - start))s: $OUT/matrix.html, matrix.md, matrix.json"
	exit "$BISECT_RC"
}

main "$@"
