#!/bin/sh
# SPDX-License-Identifier: MIT
# Produce one verdict in every format, then check it with an outside parser.
#
#   formats.sh CHECK CASE
#     CHECK  kunit      the kernel's tools/testing/kunit/kunit.py parse (KTAP)
#            tap        perl's TAP::Parser, what prove uses (KTAP read as TAP)
#            junit      xmllint against junit.xsd, then structure vs the JSON
#            outputs    all four files of one run exist and agree on the result
#     CASE   real-*     a real run of nestvmm writing json, ktap and junit files
#                       at once (--output FORMAT:FILE), text on standard output
#            fake-*     render_verdict: verdicts this host cannot produce
#   Environment: NESTVMM, RENDER (binaries); KUNIT_DIR optional (kunit-tool.sh).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
check=$1 case=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-formats.XXXXXX")
trap 'rm -rf "$dir"' EXIT

real() {
	rc=0
	"$NESTVMM" "$@" --format text --output "json:$dir/v.json" --output "ktap:$dir/v.ktap" \
		--output "junit:$dir/v.xml" > "$dir/v.txt" || rc=$?
	echo "$rc" > "$dir/rc"
}

fake() {
	for f in text:v.txt json:v.json ktap:v.ktap junit:v.xml; do
		"$RENDER" "$1" "${f%%:*}" > "$dir/${f#*:}"
	done
}

case $case in
real-default) real ;;
real-expose)  real --cpu +svm,+vmx ;;    # the extension forced on: l1.enable runs
real-timeout) real --hostile spin --timeout 1 ;;
real-garbage) real --hostile garbage ;;
fake-*)       fake "${case#fake-}" ;;
*) echo "formats.sh: unknown case $case" >&2; exit 2 ;;
esac

case $check in
kunit)
	kunit=$("$here/kunit-tool.sh")
	python3 "$here/check_kunit.py" "$kunit" "$dir" ;;
tap)
	perl "$here/check_tap.pl" "$dir" ;;
junit)
	python3 "$here/check_junit.py" "$here/junit.xsd" "$dir" ;;
outputs)
	python3 "$here/check_outputs.py" "$dir" ;;
*) echo "formats.sh: unknown check $check" >&2; exit 2 ;;
esac
