#!/bin/sh
# SPDX-License-Identifier: MIT
# The checkers must fail on broken output, or their passing means nothing:
# render a good verdict, break it the ways a renderer bug would, and expect
# every checker to reject each broken copy.
#   checkers-catch.sh kunit|tap|junit     (environment as for formats.sh)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-catch.XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/good"
for f in json:v.json ktap:v.ktap junit:v.xml; do
	"$RENDER" all-pass "${f%%:*}" > "$dir/good/${f#*:}"
done

run_check() {
	case $1 in
	kunit) python3 "$here/check_kunit.py" "$("$here/kunit-tool.sh")" "$2" ;;
	tap)   perl "$here/check_tap.pl" "$2" ;;
	junit) python3 "$here/check_junit.py" "$here/junit.xsd" "$2" ;;
	esac
}

# broken NAME FILE SED-SCRIPT: a copy of good/ with FILE edited; the check must fail.
failures=0
broken() {
	mkdir "$dir/$1"
	cp "$dir/good/"* "$dir/$1/"
	sed -i "$3" "$dir/$1/$2"
	if cmp -s "$dir/good/$2" "$dir/$1/$2"; then echo "catch: $1: the edit changed nothing" >&2; exit 1; fi
	if run_check "$check" "$dir/$1" > "$dir/$1.log" 2>&1; then
		echo "catch: $check accepted broken output: $1"
		failures=$((failures + 1))
	else
		echo "catch: $check rejects $1: $(grep -m1 "FAIL:" "$dir/$1.log" || tail -n 1 "$dir/$1.log")"
	fi
}

check=$1
run_check "$check" "$dir/good" > /dev/null || { echo "catch: $check rejects good output" >&2; exit 1; }
case $check in
kunit)
	broken no-plan v.ktap '2d'
	broken wrong-number v.ktap 's/^  ok 2 host.nested$/  ok 3 host.nested/'
	broken missing-result v.ktap '/^  ok 1 l1.boot$/d'
	broken unindented-subtest v.ktap 's/^  ok 1 l2.run$/ok 1 l2.run/'
	broken wrong-status v.ktap 's/^  ok 1 l2.run$/  not ok 1 l2.run/'
	broken no-level-result v.ktap '/^ok 2 l1$/d' ;;
tap)
	broken no-plan v.ktap '2d'
	broken wrong-number v.ktap 's/^ok 2 l1$/ok 4 l1/'
	broken missing-level v.ktap '/^ok 3 l2$/d'
	broken unindented-stage v.ktap 's/^  ok 1 l2.run$/ok 1 l2.run/'
	broken level-fails v.ktap 's/^ok 3 l2$/not ok 3 l2/' ;;
junit)
	broken not-well-formed v.xml '0,/&lt;\|<system-out>/s/<system-out>/<system-out>a<b/'
	broken unknown-element v.xml 's|</testcase>|<bogus/></testcase>|'
	broken missing-count v.xml '0,/ failures="0"/s/ failures="0"//'
	broken wrong-count v.xml 's/<testsuite name="l1" tests="3"/<testsuite name="l1" tests="4"/'
	broken lost-testcase v.xml '0,/<testcase name="l1.boot"/s/name="l1.boot"/name="l1.bot"/'
	broken spurious-skip v.xml 's|<testcase name="l2.run" classname="nestvmm.l2" time="[0-9.]*">|&<skipped message="x"/>|' ;;
*) echo "checkers-catch.sh: unknown check $check" >&2; exit 2 ;;
esac
[ "$failures" = 0 ]
