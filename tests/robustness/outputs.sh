#!/bin/bash
# SPDX-License-Identifier: MIT
# outputs.sh NESTVMM CASE: where the verdict goes (docs/robustness.md, "Output
# targets"). Runs use --kvm-device /nonexistent: a whole run (host.kvm
# skipped, exit 4) in milliseconds, with no KVM needed.
#   symlink     --output through symlinks (existing and dangling): the link stays
#   devstdout   --output /dev/stdout, /proc/self/fd/1, a character device, a FIFO
#               with a reader: written directly, never replaced (in a private /dev)
#   mode        an existing file keeps its mode; a new one gets 0666 & ~umask
#   late        targets that used to pass the check and fail after the run: under a
#               regular file, in a missing directory, a closed fd, near PATH_MAX
#   stdout      standard output unwritable (/dev/full, closed); --help/--version
. "$(dirname "$0")/lib.sh"
nestvmm=$1 case=$2
run() { "$nestvmm" --kvm-device /nonexistent "$@"; }
# The JSON in FILE has exit_code CODE.
code_is() { [ "$(jq -r .exit_code "$1" 2>/dev/null)" = "$2" ]; }
# stderr holds only printable text (no stray or uninitialised bytes).
printable() { ! LC_ALL=C grep -q '[^[:print:][:space:]]' "$1"; }

case $case in
symlink)
	mkdir "$TMP/d" "$TMP/sub"
	echo old > "$TMP/d/real.json"
	ln -s real.json "$TMP/d/link.json"                  # relative link
	ln -s "$TMP/sub/new.txt" "$TMP/d/dangling.txt"      # to a file not made yet
	ln -s link.json "$TMP/d/chain.json"                 # a link to a link
	run --format json --output "$TMP/d/link.json" --output "text:$TMP/d/dangling.txt" \
		--output "ktap:$TMP/d/chain.json" > "$TMP/out" 2> "$TMP/err"
	RC=$?
	ls -l "$TMP/d" "$TMP/sub"; cat "$TMP/err"
	check "exit 4 (got $RC)" [ "$RC" = 4 ]
	check "link.json is still a symlink" [ -L "$TMP/d/link.json" ]
	check "dangling.txt is still a symlink" [ -L "$TMP/d/dangling.txt" ]
	check "chain.json is still a symlink" [ -L "$TMP/d/chain.json" ]
	check "the verdict went through the link chain to real.json (ktap, written last)" \
		grep -q '^KTAP version 1' "$TMP/d/real.json"
	check "the dangling link's target was created" grep -q '^result: SKIP' "$TMP/sub/new.txt"
	check "no other file made (no temporary file left)" \
		[ "$(ls -A "$TMP/d" | tr '\n' ' ')$(ls -A "$TMP/sub")" = "chain.json dangling.txt link.json real.json new.txt" ]
	check "nothing on stderr" [ ! -s "$TMP/err" ]
	;;
devstdout)
	# A private mount namespace with its own /dev: a nestvmm that replaced
	# /dev/stdout or /dev/null here would not touch the host's.
	unshare -m true 2>/dev/null || { echo "SKIP: needs unshare -m (root)"; exit 77; }
	cat > "$TMP/inner.sh" <<'EOF'
nestvmm=$1 T=$2
mount -t tmpfs tmpfs /dev || exit 90
ln -s /proc/self/fd/1 /dev/stdout; ln -s /proc/self/fd /dev/fd; mknod -m 666 /dev/null c 1 3
mkfifo "$T/fifo"
run() { "$nestvmm" --kvm-device /nonexistent "$@"; }
run --format json --output /dev/stdout > "$T/so.json" 2> "$T/e1"; echo $? > "$T/rc1"
[ -L /dev/stdout ] && echo link > "$T/devstdout-after"; ls -l /dev > "$T/ls-dev"
run --format json --output text:/proc/self/fd/1 > "$T/fd1.out" 2> "$T/e2"; echo $? > "$T/rc2"
run --format json --output text:/dev/fd/1 | cat > "$T/pipe.out" 2> "$T/e3"; echo "${PIPESTATUS[0]}" > "$T/rc3"
run --output json:/dev/null > /dev/null 2> "$T/e4"; echo $? > "$T/rc4"
[ -c /dev/null ] && echo chr > "$T/null-after"
timeout 20 cat "$T/fifo" > "$T/fifo.out" & reader=$!
# Wait until the reader sits in its open() of the FIFO (syscall 257, openat,
# on x86-64), where it already counts as a reader: under load nestvmm could
# otherwise run first and rightly find none.
for _ in $(seq 200); do
	p=$(pgrep -P $reader -x cat) && [ "$(cut -d' ' -f1 /proc/$p/syscall 2>/dev/null)" = 257 ] && break
	sleep 0.05
done
run --output json:"$T/fifo" > /dev/null 2> "$T/e5"; echo $? > "$T/rc5"
wait $reader
[ -p "$T/fifo" ] && echo fifo > "$T/fifo-after"
EOF
	unshare -m bash "$TMP/inner.sh" "$nestvmm" "$TMP"
	cat "$TMP"/e[1-5]
	check "--output /dev/stdout > file: exit 4 (got $(cat "$TMP/rc1"))" [ "$(cat "$TMP/rc1")" = 4 ]
	check "/dev/stdout is still a symlink, not a regular file" [ -s "$TMP/devstdout-after" ]
	check "the verdict reached the file behind standard output" code_is "$TMP/so.json" 4
	check "/proc/self/fd/1 to a file: exit 4, JSON then text appended" \
		bash -c "[ \"\$(cat '$TMP/rc2')\" = 4 ] && grep -q '\"exit_code\": 4' '$TMP/fd1.out' && grep -q '^result: SKIP' '$TMP/fd1.out'"
	check "/dev/fd/1 to a pipe: exit 4, both verdicts through the pipe" \
		bash -c "[ \"\$(cat '$TMP/rc3')\" = 4 ] && grep -q '\"exit_code\": 4' '$TMP/pipe.out' && grep -q '^result: SKIP' '$TMP/pipe.out'"
	check "a character device: exit 4 (got $(cat "$TMP/rc4"))" [ "$(cat "$TMP/rc4")" = 4 ]
	check "/dev/null is still a character device" [ -s "$TMP/null-after" ]
	check "a FIFO with a reader: exit 4 (got $(cat "$TMP/rc5"))" [ "$(cat "$TMP/rc5")" = 4 ]
	check "the reader got the JSON verdict" code_is "$TMP/fifo.out" 4
	check "the FIFO is still a FIFO" [ -s "$TMP/fifo-after" ]
	check "nothing on stderr" [ -z "$(cat "$TMP"/e[1-5])" ]
	;;
mode)
	echo x > "$TMP/m640.json"; chmod 640 "$TMP/m640.json"
	echo x > "$TMP/m600.json"; chmod 600 "$TMP/m600.json"
	run --output "$TMP/m640.json" --output "json:$TMP/m600.json" > /dev/null
	check "an existing 0640 file stays 0640 (got $(stat -c %a "$TMP/m640.json"))" \
		[ "$(stat -c %a "$TMP/m640.json")" = 640 ]
	check "an existing 0600 file stays 0600 (got $(stat -c %a "$TMP/m600.json"))" \
		[ "$(stat -c %a "$TMP/m600.json")" = 600 ]
	check "and was rewritten" code_is "$TMP/m600.json" 4
	for u in 077 027 022 002; do
		(umask $u; run --output "json:$TMP/new$u.json" > /dev/null)
		exp=$(printf '%o' $((0666 & ~0$u)))
		check "umask $u: a new file gets $exp (got $(stat -c %a "$TMP/new$u.json"))" \
			[ "$(stat -c %a "$TMP/new$u.json")" = "$exp" ]
	done
	;;
late)
	# Each target must be refused before the run (exit 2, nothing written),
	# or written: never a run whose verdict is lost afterwards.
	echo precious > "$TMP/reg"
	refused() {   # refused DESCRIPTION WHY OUTPUT-ARG
		run_timed 10 "$nestvmm" --kvm-device /nonexistent --format json --output "text:$3"
		echo "-- $1: exit $RC: $(head -n 1 "$TMP/err")"
		check "$1: exit 2 (got $RC)" [ "$RC" = 2 ]
		check "$1: refused before the run (no verdict on stdout)" [ ! -s "$TMP/out" ]
		check "$1: message names the target and says \"$2\"" \
			bash -c "grep -qF -- '--output ${3:0:80}' '$TMP/err' && grep -qF -- '$2' '$TMP/err'"
	}
	refused "under a regular file" "Not a directory" "$TMP/reg/v.txt"
	check "the regular file is untouched" [ "$(cat "$TMP/reg")" = precious ]
	refused "in a missing directory" "No such file or directory" "$TMP/nodir/v.txt"
	check "the missing directory was not created" [ ! -e "$TMP/nodir" ]
	refused "a closed fd (/proc/self/fd/9)" "not open" /proc/self/fd/9
	refused "an fd open for reading (/dev/fd/0 < file)" "reading only" /dev/fd/0 < "$TMP/reg"
	long=$TMP/$(printf 'x%.0s' $(seq 300))
	refused "a name longer than NAME_MAX" "File name too long" "$long"
	# The full path just under PATH_MAX (4096): the temporary file name is longer
	# than PATH_MAX, so it must be made relative to the directory.
	d=$TMP
	while [ ${#d} -lt 3800 ]; do d=$d/$(printf 'd%.0s' $(seq 200)); done
	mkdir -p "$d"
	f=$d/$(printf 'f%.0s' $(seq $((4090 - ${#d}))))
	run_timed 10 "$nestvmm" --kvm-device /nonexistent --format json --output "text:$f"
	echo "-- a path of ${#f} bytes: exit $RC: $(head -n 1 "$TMP/err")"
	check "a path of ${#f} bytes: exit 4 (got $RC)" [ "$RC" = 4 ]
	check "a path of ${#f} bytes: written" grep -q '^result: SKIP' "$f"
	check "a path of ${#f} bytes: JSON exit_code is the process's" code_is "$TMP/out" "$RC"
	check "a path of ${#f} bytes: no temporary file left" [ "$(ls -A "$d" | wc -l)" = 1 ]
	run_timed 10 "$nestvmm" --kvm-device /nonexistent --output "text:$f.toolong"
	check "a path over PATH_MAX: exit 2 (got $RC)" [ "$RC" = 2 ]
	check "a path over PATH_MAX: the reason is not cut off" grep -q 'File name too long$' "$TMP/err"
	;;
stdout)
	run --output "json:$TMP/f.json" > /dev/full 2> "$TMP/err"
	RC=$?
	echo "-- > /dev/full: exit $RC: $(cat "$TMP/err")"
	check "> /dev/full: exit 3 (got $RC)" [ "$RC" = 3 ]
	check "> /dev/full: message names standard output and ENOSPC" \
		grep -q '^nestvmm: standard output: .*No space left on device$' "$TMP/err"
	check "> /dev/full: stderr is printable text" printable "$TMP/err"
	check "> /dev/full: the --output file is written, with exit_code 3" code_is "$TMP/f.json" 3
	run > /dev/full 2> "$TMP/err"
	RC=$?
	check "> /dev/full, no other output: exit 3 (got $RC)" [ "$RC" = 3 ]
	check "> /dev/full: one line on stderr" [ "$(wc -l < "$TMP/err")" = 1 ]
	for opt in --help --version; do
		"$nestvmm" $opt > /dev/full 2> "$TMP/err"
		RC=$?
		check "$opt > /dev/full: exit 3 (got $RC)" [ "$RC" = 3 ]
		check "$opt > /dev/full: says why" grep -q 'standard output: No space left on device' "$TMP/err"
		"$nestvmm" $opt >&- 2> "$TMP/err"
		RC=$?
		check "$opt with stdout closed: exit 3 (got $RC)" [ "$RC" = 3 ]
		check "$opt with stdout closed: says so" grep -q 'standard output: closed' "$TMP/err"
	done
	run --format json >&- 2> "$TMP/err"
	RC=$?
	echo "-- stdout closed: exit $RC: $(head -n 1 "$TMP/err")"
	check "stdout closed: exit 2 before the run (got $RC)" [ "$RC" = 2 ]
	check "stdout closed: says so" grep -q 'standard output is closed' "$TMP/err"
	run --output "$TMP/c.json" --format json >&- 2> "$TMP/err"
	RC=$?
	check "stdout closed but not used (--output FILE): exit 4 (got $RC)" [ "$RC" = 4 ]
	check "stdout closed but not used: the file is written" code_is "$TMP/c.json" 4
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish
