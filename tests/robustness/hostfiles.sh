#!/bin/bash
# SPDX-License-Identifier: MIT
# hostfiles.sh NESTVMM CASE: hostile host files. A private mount namespace
# binds a crafted file over /proc/cpuinfo (or a module's "nested"
# parameter), then nestvmm runs (--kvm-device /nonexistent: host.kvm is
# skipped, the files are still read and reported). Under the ASan build a
# read past a buffer aborts the run.
#   long-model    "model name" line of ~8 KiB with its colon at the end of the
#                 old 8 KiB fgets buffer: was a stack-buffer-overflow
#   eof-colon     the file ends in "model name:" (no value, no newline): was
#                 stale bytes from the line before
#   long-lines    64 KiB and 1 MiB lines, NUL bytes, no newline anywhere
#   hostile-text  escape sequences and newlines in the model name
. "$(dirname "$0")/lib.sh"
nestvmm=$1 case=$2
unshare -m true 2>/dev/null || { echo "SKIP: needs unshare -m (root)"; exit 77; }

# with_cpuinfo FILE ARGS...: nestvmm ARGS with FILE as /proc/cpuinfo.
with_cpuinfo() {
	local f=$1; shift
	unshare -m bash -c 'mount --bind "$1" /proc/cpuinfo || exit 90; shift; exec "$@"' \
		_ "$f" "$nestvmm" --kvm-device /nonexistent "$@" > "$TMP/out" 2> "$TMP/err"
	RC=$?
	echo "exit $RC, cpu_model: $(jq -c .host.cpu_model "$TMP/out" 2>/dev/null)"
	head -c 2000 "$TMP/err"
}
model() { jq -r .host.cpu_model "$TMP/out"; }
sane() {   # the run ended normally: exit 4, JSON, nothing on stderr
	check "$1: exit 4 (got $RC)" [ "$RC" = 4 ]
	check "$1: valid JSON" bash -c "[ -s '$TMP/out' ] && jq -e .host '$TMP/out' > /dev/null"
	check "$1: nothing on stderr (no sanitizer report)" [ ! -s "$TMP/err" ]
}

case $case in
long-model)
	# The old parser read "colon + 2": with ':' as the 8191st byte that is past line[8192].
	for pad in 8180 8181 9000; do
		python3 -c "import sys; sys.stdout.write('processor\t: 0\nmodel name' + 'x' * $pad + ':\nflags\t\t: fpu svm npt\n')" \
			> "$TMP/cpuinfo"
		with_cpuinfo "$TMP/cpuinfo" --format json
		sane "colon at byte $((pad + 11))"
		check "colon at byte $((pad + 11)): the flags line after it is still read" \
			[ "$(jq -r .host.cpu_flags "$TMP/out")" = "svm npt" ]
	done
	;;
eof-colon)
	printf 'processor\t: 0\nflags\t\t: fpu svm\nmodel name:' > "$TMP/cpuinfo"
	with_cpuinfo "$TMP/cpuinfo" --format json
	sane "ends in 'model name:'"
	check "the model is empty, not bytes of the line before (got '$(model)')" [ -z "$(model)" ]
	printf 'model name\t: \nflags\t: svm\n' > "$TMP/cpuinfo"
	with_cpuinfo "$TMP/cpuinfo" --format json
	check "'model name: ' then newline: empty model (got '$(model)')" [ -z "$(model)" ]
	printf 'model name\t:AMD EPYC 7B13\nflags\t:svm npt' > "$TMP/cpuinfo"
	with_cpuinfo "$TMP/cpuinfo" --format json
	check "no blank after the colon: the whole model (got '$(model)')" [ "$(model)" = "AMD EPYC 7B13" ]
	check "no newline at the end: the flags are read" [ "$(jq -r .host.cpu_flags "$TMP/out")" = "svm npt" ]
	;;
long-lines)
	python3 - "$TMP/cpuinfo" <<'EOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"processor\t: 0\n" + b"y" * 65536 + b":\n")
    f.write(b"model name\t: " + b"M" * (1 << 20) + b"\n")
    f.write(b"bogus\0line: \0\0\n")
    f.write(b"flags\t\t: " + b"w " * 100000 + b"svm")
EOF
	with_cpuinfo "$TMP/cpuinfo" --format json
	sane "1 MiB model, 64 KiB line, NULs, no final newline"
	check "the model is cut to the field (63 bytes of M)" [ "$(model)" = "$(printf 'M%.0s' $(seq 63))" ]
	check "svm found at the end of a 200 KB flags line" [ "$(jq -r .host.cpu_flags "$TMP/out")" = svm ]
	head -c 3000 /dev/urandom > "$TMP/cpuinfo"
	with_cpuinfo "$TMP/cpuinfo" --format json
	sane "random bytes"
	;;
hostile-text)
	printf 'model name\t: AMD \033[2J\033[31mEVIL\r\n\tfake: line\nflags\t: svm\n' > "$TMP/cpuinfo"
	with_cpuinfo "$TMP/cpuinfo" --format text
	check "exit 4 (got $RC)" [ "$RC" = 4 ]
	check "text: no ESC or CR from the host reaches the output" \
		bash -c "! LC_ALL=C grep -q \$'[\\x1b\\r]' '$TMP/out'"
	check "text: the model is shown with its escapes visible" grep -qF 'AMD \x1b[2J\x1b[31mEVIL\x0d' "$TMP/out"
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish
