#!/bin/sh
# SPDX-License-Identifier: MIT
# docs/nestvmm.1 renders without warnings and documents every option and
# format that `nestvmm --help` lists, so the two cannot drift apart.
#   NESTVMM=build/nestvmm man-check.sh
set -eu

page=$(cd "$(dirname "$0")/../.." && pwd)/docs/nestvmm.1
fail=0
warnings=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null || true)
if [ -n "$warnings" ]; then
	echo "man-check: warnings from man:"
	echo "$warnings"
	fail=1
fi
text=$(MANWIDTH=200 man -l "$page" 2>/dev/null)
for opt in $("$NESTVMM" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
	printf '%s\n' "$text" | grep -q -- "$opt" || { echo "man-check: $opt is in --help, not in the man page"; fail=1; }
done
for f in text json ktap junit 125; do
	printf '%s\n' "$text" | grep -qw -- "$f" || { echo "man-check: '$f' is not in the man page"; fail=1; }
done
[ "$fail" = 0 ] && echo "man-check: ok"
exit "$fail"
