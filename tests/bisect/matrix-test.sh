#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/kernel-matrix.sh with a fake L0 runner (no emulator): the package
# list from apt, the three outputs, the HTML page rendered by headless
# Chromium (Debian's) and its screenshot's pixels, and --bisect-packages.
#   matrix-test.sh args|outputs|browser|bisect
# The fake runner: kernels 6.1.0-53 and later fail l2.run; 6.1.0-50 fails to
# boot (runner exit 101, no verdict); the others pass.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../scripts/kernel-matrix.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-matrix.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0

cat >"$work/l0" <<'SH'
#!/bin/bash
# Fake scripts/l0 runner: --kernel PKG --nestvmm P --results DIR -- ARGS
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) pkg=$2; shift 2 ;;
	--results) dir=$2; shift 2 ;;
	--) shift; echo "$*" > "$dir/args"; break ;;
	*) shift 2 ;;
	esac
done
abi=$(echo "$pkg" | sed -n 's/^linux-image-6\.1\.0-\([0-9]*\)-.*/\1/p')
echo "fake $pkg" >> "$FAKE_LOG"
mkdir -p "$dir"
if [ "$abi" = 50 ]; then echo "l0: L0 kernel did not reach /init (emulator exit 0); try --verbose" >&2; exit 101; fi
run=pass; result=PASS; code=0; reason="32 round trips"
if [ -n "$abi" ] && [ "$abi" -ge 53 ]; then run=fail; result=FAIL; code=1; reason="round 1: L2 wrote 0x1 to memory and RAX=0x2 in the VMCB"; fi
np=pass; [ $run = fail ] && np=skip
cat > "$dir/run-1.verdict.json" <<EOF
{"tool": "nestvmm", "arch": "amd", "result": "$result", "exit_code": $code,
 "host": {"kernel_release": "${pkg#linux-image-}", "kvm_module": "kvm_amd", "kvm_build": "kvm build-id=00", "nested_param": 1},
 "stages": [{"name": "host.kvm", "status": "pass", "reason": "ok"},
            {"name": "l2.run", "status": "$run", "reason": "$reason"},
            {"name": "l2.nested-paging", "status": "$np", "reason": "needs l2.run"}]}
EOF
exit $code
SH
chmod +x "$work/l0"
printf '#!/bin/sh\nexit 0\n' >"$work/nestvmm"
chmod +x "$work/nestvmm"
export NESTVMM_L0_RUNNER=$work/l0 FAKE_LOG=$work/log

run() {
	local want=$1 name=$2 rc=0
	shift 2
	: >"$work/log"
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	if [[ $rc == "$want" ]]; then echo "ok: $name: exit $rc"; else
		echo "FAIL: $name: exit $rc, want $want"
		sed 's/^/    /' "$work/out" "$work/err" | tail -n 20
		fails=$((fails + 1))
	fi
}
expect() {
	if grep -qE -- "$2" "$3"; then echo "ok:   $1"; else
		echo "FAIL:   $1: no line matching '$2' in $3"
		sed 's/^/    /' "$3" | tail -n 20
		fails=$((fails + 1))
	fi
}
py_check() {  # py_check WHAT PYTHON_EXPR_ON_m (m = matrix.json)
	if python3 -c "import json,sys; m=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$3"; then
		echo "ok:   $1"
	else
		echo "FAIL:   $1 ($2)"
		fails=$((fails + 1))
	fi
}

m61=(--arch amd --nestvmm "$work/nestvmm" --kernels 6.1)
matrix61() {
	[[ -f $work/m/matrix.json ]] || run 0 "matrix over every 6.1 package" "$script" "${m61[@]}" --out "$work/m"
}

case ${1:-} in
args)
	run 0 help "$script" --help
	run 2 "no --arch" "$script" --nestvmm "$work/nestvmm"
	run 2 "bad --arch" "$script" --arch arm --nestvmm "$work/nestvmm"
	run 2 "unknown option" "$script" --arch amd --nestvmm "$work/nestvmm" --frob
	run 2 "bad --kernels item" "$script" --arch amd --nestvmm "$work/nestvmm" --kernels foo
	expect "names the bad item" "'foo' is neither" "$work/err"
	run 2 "unknown package" "$script" --arch amd --nestvmm "$work/nestvmm" --kernels linux-image-9.9.9-amd64
	run 2 "--bisect-packages with one value" "$script" --arch amd --nestvmm "$work/nestvmm" --bisect-packages x
	run 2 "missing nestvmm" "$script" --arch amd --nestvmm "$work/none"
	;;
outputs)
	matrix61
	n=$(grep -c . "$work/log")
	want=$(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -u | wc -l)
	[[ $n == "$want" && $n -ge 2 ]] && echo "ok:   one boot per 6.1 package in apt ($n)" ||
		{ echo "FAIL:   $n boots, apt has $want 6.1 images"; fails=$((fails + 1)); }
	expect "the -unsigned twin is preferred" '^fake linux-image-6\.1\.0-57-amd64-unsigned$' "$work/log"
	expect "packages in version order" '.' <(sed -n 's/^fake //p' "$work/log" | sort -cV && echo sorted)
	j=$work/m/matrix.json
	py_check "JSON: tests are the stages" 'm["tests"] == ["host.kvm", "l2.run", "l2.nested-paging"]' "$j"
	py_check "JSON: 6.1.0-47 passes" 'm["kernels"][0]["package"].startswith("linux-image-6.1.0-47") and m["kernels"][0]["result"] == "pass"' "$j"
	py_check "JSON: 6.1.0-57 fails l2.run with the reason" 'm["kernels"][-1]["tests"]["l2.run"] == {"status": "fail", "reason": "round 1: L2 wrote 0x1 to memory and RAX=0x2 in the VMCB"}' "$j"
	py_check "JSON: a kernel that did not boot is an error row with the runner's reason" \
		'[k for k in m["kernels"] if "6.1.0-50" in k["package"]][0]["tests"]["l2.run"]["status"] == "error" and "did not reach /init" in [k for k in m["kernels"] if "6.1.0-50" in k["package"]][0]["note"]' "$j"
	py_check "JSON: host facts carried" 'm["kernels"][0]["host"]["kernel_release"].startswith("6.1.0-47")' "$j"
	expect "nestvmm gets --arch amd and a JSON output" '^--arch amd --output json:/out/verdict.json$' \
		"$work/m/runs/linux-image-6.1.0-47-amd64-unsigned/args"
	expect "Markdown: a table row per kernel" '^\| linux-image-6\.1\.0-57-amd64-unsigned \| 6\.1\.0-57-amd64 \| fail \| pass \| fail \| skip \|$' "$work/m/matrix.md"
	expect "Markdown: the reasons" '^- \*\*linux-image-6\.1\.0-57-amd64-unsigned\*\* `l2\.run` fail: round 1' "$work/m/matrix.md"
	expect "HTML: the reason on hover (title)" 'title="linux-image-6\.1\.0-57-amd64-unsigned / l2\.run: fail: round 1: L2 wrote' "$work/m/matrix.html"
	if grep -qE '<(script|link|img)[^>]+(src|href)=' "$work/m/matrix.html"; then
		echo "FAIL:   HTML loads something from elsewhere"; fails=$((fails + 1))
	else echo "ok:   HTML is self-contained"; fi
	;;
browser)
	matrix61
	command -v chromium >/dev/null || { echo "FAIL: chromium is not installed (apt-get install chromium)"; exit 1; }
	page=$work/m/matrix.html
	last=$(($(grep -c . "$work/m/rows.tsv") - 1))
	chrome() {
		timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run \
			--disable-sync --disable-component-update --user-data-dir="$work/profile.$1" --hide-scrollbars \
			"${@:2}" 2>"$work/chromium.$1.err"
	}
	# The screenshot: the colours must be where the cells are.
	chrome shot --window-size=1400,900 --screenshot="$work/shot.png" "file://$page#c$last-1" >/dev/null ||
		{ echo "FAIL: chromium --screenshot failed:"; tail -n 5 "$work/chromium.shot.err"; exit 1; }
	python3 "$here/png_colours.py" "$work/shot.png" >"$work/colours" ||
		{ echo "FAIL: cannot read the screenshot"; exit 1; }
	cat "$work/colours"
	for c in pass:1b7f3b fail:c62828 skip:f2b705 error:6a1b9a; do
		expect "screenshot shows ${c%%:*} cells (#${c#*:})" "^${c#*:} [0-9]{3,} " "$work/colours"
	done
	# Bands of rows per colour: the legend first, then table rows. Rows are in
	# version order: pass fills the first (6.1.0-47) row, fail begins with
	# 6.1.0-53, the 7th row, so the table's fail band starts lower.
	top_pass=$(awk '$1 == "1b7f3b" { split($4, b, "-"); print b[1] }' "$work/colours")
	top_fail=$(awk '$1 == "c62828" { split($4, b, "-"); print b[1] }' "$work/colours")
	bands_fail=$(awk '$1 == "c62828" { print NF - 2 }' "$work/colours")
	[[ -n $top_pass && -n $top_fail && $top_pass -lt $top_fail ]] &&
		echo "ok:   the table's pass cells begin above its fail cells (y $top_pass < $top_fail)" ||
		{ echo "FAIL:   table pass cells from y=$top_pass, fail cells from y=$top_fail"; fails=$((fails + 1)); }
	# Each table row is its own band (cell borders separate them).
	nfail=$(python3 -c 'import json,sys; print(sum(k["result"] == "fail" for k in json.load(open(sys.argv[1]))["kernels"]))' "$work/m/matrix.json")
	[[ $bands_fail == $((1 + nfail)) ]] && echo "ok:   fail colour in the legend and the $nfail failing rows" ||
		{ echo "FAIL:   fail colour in $bands_fail bands, want 1 + $nfail"; fails=$((fails + 1)); }
	# The click handler's code path, through a link to a cell (#cROW-COL).
	chrome dom --dump-dom "file://$page#c$last-1" >"$work/dom.html" ||
		{ echo "FAIL: chromium --dump-dom failed"; exit 1; }
	expect "a cell link shows its reason below the grid" \
		'<div id="reason">linux-image-6\.1\.0-57-amd64-unsigned / l2\.run: fail: round 1: L2 wrote' "$work/dom.html"
	;;
bisect)
	p47=linux-image-6.1.0-47-amd64-unsigned p57=linux-image-6.1.0-57-amd64-unsigned
	run 0 "first bad package" "$script" "${m61[@]}" --out "$work/b" --bisect-packages "$p47" "$p57"
	expect "names 6.1.0-53 as the first bad" "first package with $p57's outcome: linux-image-6\.1\.0-53-amd64-unsigned \(the one before it, linux-image-6\.1\.0-52-amd64" "$work/err"
	expect "names the tests that changed" 'l2\.run: pass -> fail, l2\.nested-paging: pass -> skip' "$work/err"
	booted=$(grep -c . "$work/log")
	((booted < 11)) && echo "ok:   binary search: $booted boots, not all 11" ||
		{ echo "FAIL:   $booted boots"; fails=$((fails + 1)); }
	py_check "JSON records the bisection" '"linux-image-6.1.0-53" in m["bisect"]["first"]' "$work/b/matrix.json"
	run 0 "first fixed package (BAD older than GOOD)" "$script" "${m61[@]}" --out "$work/f" --bisect-packages "$p57" "$p47"
	expect "names 6.1.0-52 as the first like 6.1.0-47" "first package with $p47's outcome: linux-image-6\.1\.0-52-amd64" "$work/err"
	run 1 "same outcome: nothing to find" "$script" "${m61[@]}" --out "$work/s" --bisect-packages "$p57" linux-image-6.1.0-54-amd64-unsigned
	expect "says so" 'same outcome' "$work/err"
	;;
*)
	echo "usage: matrix-test.sh args|outputs|browser|bisect" >&2
	exit 2
	;;
esac
[[ $fails == 0 ]]
