#!/bin/sh
# SPDX-License-Identifier: MIT
# Where this repository sees nesting work end to end: nestvmm --bisect
# inside an emulated L0 with nested KVM (scripts/l0: QEMU TCG for AMD,
# Bochs for Intel), writing json, ktap and junit; then every format checker
# on those files, and the exit code against the JSON.
#   NESTVMM=build/nestvmm l0-formats.sh amd|intel
#   (boots a Debian kernel, download cached: ~15 s under QEMU, ~1 min under Bochs)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
case ${1:-amd} in
amd) runner=qemu-amd.sh ;;
intel) runner=bochs-intel.sh ;;
*) echo "usage: l0-formats.sh amd|intel" >&2; exit 2 ;;
esac
dir=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-l0-formats.XXXXXX")
trap 'rm -rf "$dir"' EXIT
rc=0
"$here/../../scripts/l0/$runner" --nestvmm "$NESTVMM" --results "$dir/res" -- \
	--bisect --output json:v.json --output ktap:v.ktap --output junit:v.xml > "$dir/console" || rc=$?
case $rc in
0 | 1 | 125) ;;
*) echo "l0-formats: the L0 runner exited $rc (not a --bisect answer)"; tail -n 20 "$dir/console"; exit 1 ;;
esac
mkdir "$dir/v"
for f in json ktap xml; do
	cp "$dir/res/run-1.v.$f" "$dir/v/v.$f"
done
python3 "$here/check_kunit.py" "$("$here/kunit-tool.sh")" "$dir/v"
perl "$here/check_tap.pl" "$dir/v"
python3 "$here/check_junit.py" "$here/junit.xsd" "$dir/v"
want=$(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
st = [s["status"] for s in v["stages"]]
first = [s["name"] for s in v["stages"]].index("l1.enable")
print(125 if v["run"]["interrupted"] else 1 if "fail" in st[first:] else 125 if set(st) != {"pass"} else 0)
' "$dir/v/v.json")
[ "$rc" = "$want" ] || { echo "l0-formats: --bisect exit $rc, the verdict says $want"; exit 1; }
echo "l0-formats: --bisect exit $rc in the emulated L0 ($runner), formats parse"
