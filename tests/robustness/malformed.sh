#!/bin/bash
# SPDX-License-Identifier: MIT
# malformed.sh NESTVMM L1_ELF GROUP: bad input is refused before anything runs:
# exit 2, nothing on standard output, one message on standard error that
# names the input ("nestvmm: --kernel FILE: ..." / "nestvmm: --mem: ..."),
# and no output file, not even a partial or temporary one.
# GROUP: elf (ELF files derived from L1_ELF by tests/fixtures/elf/make_elf.py),
#        kernel-path, options, mem, output.
. "$(dirname "$0")/lib.sh"
nestvmm=$1 l1=$2 group=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$TMP/res"

# refused NAME PHRASE ARGS...: run nestvmm --format json --output $TMP/res/v.json ARGS
# (a later --output in ARGS replaces that path); the first line of stderr must
# contain PHRASE, and WHY too when set.
WHY=
refused() {
	local name=$1 phrase=$2; shift 2
	run_timed 10 "$nestvmm" --format json --output "$TMP/res/v.json" "$@"
	local first; first=$(head -n 1 "$TMP/err")
	echo "-- $name: exit $RC: $first"
	check "$name: exit 2 (got $RC)" [ "$RC" = 2 ]
	check "$name: message names \"$phrase\"" contains "$first" "$phrase"
	[ -z "$WHY" ] || check "$name: message says \"$WHY\"" contains "$first" "$WHY"
	check "$name: message starts with 'nestvmm: '" contains "${first:0:9}" "nestvmm: "
	check "$name: one message (at most one hint line after it)" [ "$(wc -l < "$TMP/err")" -le 2 ]
	check "$name: nothing on stdout" [ ! -s "$TMP/out" ]
	check "$name: no output file, partial or temporary" [ -z "$(ls -A "$TMP/res")" ]
	check "$name: within 10 s (${WALL}s)" less_than "$WALL" 10
	rm -rf "$TMP/res"/* 2>/dev/null
}

case $group in
elf)
	python3 "$here/../fixtures/elf/make_elf.py" "$TMP/elf" "$l1" --oversized || exit 1
	declare -A why=(
		[truncated-header]="truncated" [truncated-phdrs]="truncated"
		[truncated-segment]="truncated" [elf32]="ELF32" [big-endian]="big-endian"
		[wrong-machine]="not x86-64" [shared-object]="ET_EXEC"
		[overlapping-segments]="overlap" [overlapping-segments-below]="overlap"
		[overlapping-segments-around]="overlap" [entry-outside-segment]="entry point"
		[entry-not-executable]="entry point" [zero-phdrs]="0 program headers"
		[zero-segments]="no loadable segment" [segment-outside-ram]="outside guest RAM"
		[segment-in-boot-area]="outside guest RAM" [filesz-gt-memsz]="file size"
		[vaddr-not-paddr]="virtual" [not-elf]="not an ELF file" [oversized]="larger than 64 MiB"
	)
	for c in "${!why[@]}"; do
		f=$TMP/elf/$c.elf
		WHY=${why[$c]} refused "$c" "--kernel $f: " --kernel "$f"
	done
	# the untouched copy is accepted: the cases fail for their one defect
	run_timed 10 "$nestvmm" --kernel "$TMP/elf/valid.elf" --format json
	check "valid.elf (the base the cases come from) is accepted (exit $RC)" [ "$RC" != 2 ]
	;;
kernel-path)
	mkfifo "$TMP/fifo"
	: > "$TMP/empty"
	refused directory "--kernel $TMP: is a directory" --kernel "$TMP"
	# O_NONBLOCK open: a FIFO with no writer must not block nestvmm
	refused fifo "--kernel $TMP/fifo: not a regular file" --kernel "$TMP/fifo"
	refused dev-zero "--kernel /dev/zero: not a regular file" --kernel /dev/zero
	refused missing "--kernel $TMP/missing: No such file" --kernel "$TMP/missing"
	refused empty "--kernel $TMP/empty: empty file" --kernel "$TMP/empty"
	;;
options)
	refused arch "--arch" --arch sparc
	refused format "--format" --format xml
	refused format-empty "--format" --format ""
	refused output-empty "--output" --output ""
	refused output-format-no-file "--output json:" --output json:
	refused output-too-many "--output" $(for i in 1 2 3 4 5 6 7 8; do echo --output "json:$TMP/o$i"; done)
	for v in 0 -1 abc 86401 1e3 5s 0x10 99999999999999999999; do
		refused "timeout '$v'" "--timeout" --timeout "$v"
	done
	for v in 0 1001 x -3; do refused "iterations '$v'" "--iterations" --iterations "$v"; done
	for v in bogus + "+svm," ",svm" "svm,,npt" "" "$(printf 'svm,%.0s' $(seq 40))svm" \
		 "averyveryveryverylongfeaturenameindeed"; do
		refused "cpu '$v'" "--cpu" --cpu "$v"
	done
	refused hostile "--hostile" --hostile nope
	refused unknown-option "--frobnicate" --frobnicate
	refused stray-argument "stray" stray
	refused missing-argument "--kvm-device" --timeout 5 --kvm-device
	;;
mem)
	for v in 0 3 4097 1000000 -16 16M 18446744073709551617 ""; do
		refused "mem '$v'" "--mem" --mem "$v"
	done
	python3 "$here/../fixtures/elf/make_elf.py" "$TMP/elf" || exit 1
	# linked at 8 MiB: --mem 4 and 8 are too small (the message says to raise --mem) ...
	for m in 4 8; do
		refused "mem $m for a kernel at 8 MiB" "raise --mem" --kernel "$TMP/elf/valid-at-8mib.elf" --mem $m
	done
	# ... --mem 16 is enough: it boots (and halts early: the tiny kernel only halts)
	run_timed 10 "$nestvmm" --kernel "$TMP/elf/valid-at-8mib.elf" --mem 16 --format json
	check "kernel at 8 MiB with --mem 16 runs (exit $RC, not 2)" [ "$RC" != 2 ]
	check "... and reaches L1 (run.end halted-early)" [ "$(jget "$TMP/out" .run.end)" = halted-early ]
	;;
output)
	WHY="No such file or directory" refused "output into a missing directory" \
		"--output $TMP/nodir/v.json" --output "$TMP/nodir/v.json"
	check "missing directory not created" [ ! -e "$TMP/nodir" ]
	WHY="No such file or directory" refused "extra output into a missing directory" \
		"--output $TMP/nodir/v.txt" --output "text:$TMP/nodir/v.txt"
	mkdir "$TMP/d"
	WHY="not a regular file" refused "output is a directory" "--output $TMP/d" --output "$TMP/d"
	check "directory left empty" [ -z "$(ls -A "$TMP/d")" ]
	mkfifo "$TMP/fifo"
	WHY="a FIFO that no process has open for reading" refused "output is a FIFO nobody reads" "--output $TMP/fifo" --output "$TMP/fifo"
	# Read-only targets. Tests run as root, and root passes permission checks,
	# so each is made read-only in a way that binds root too, or run as nobody.
	echo precious > "$TMP/ro"
	if chattr +i "$TMP/ro" 2>/dev/null; then          # 1. immutable file (ext4, xfs, btrfs)
		run_timed 10 "$nestvmm" --kvm-device /nonexistent --output "$TMP/ro"
		chattr -i "$TMP/ro"
		echo "-- immutable file: exit $RC: $(head -n 1 "$TMP/err")"
		check "immutable --output file: exit 2 (got $RC)" [ "$RC" = 2 ]
		check "immutable --output file: message names it" grep -qF -- "--output $TMP/ro" "$TMP/err"
		check "immutable --output file: unchanged" [ "$(cat "$TMP/ro")" = precious ]
		check "immutable --output file: no temporary left" [ -z "$(ls "$TMP" | grep 'ro\.')" ]
	else
		echo "note: chattr +i unsupported on $(df --output=fstype "$TMP" | tail -1); covered by 2. and 3."
	fi
	# 2. a read-only bind mount (own mount namespace), for a new file and an existing one
	if unshare -m true 2>/dev/null; then
		mkdir "$TMP/rodir"; echo precious > "$TMP/rodir/v.json"
		unshare -m bash -c 'mount --bind -o ro "$1" "$1" && mount -o remount,bind,ro "$1" &&
			"$2" --kvm-device /nonexistent --output "$1/new.json" > "$3/o1" 2> "$3/e1"; echo $? > "$3/rc1";
			"$2" --kvm-device /nonexistent --output "$1/v.json" > "$3/o2" 2> "$3/e2"; echo $? > "$3/rc2"' \
			_ "$TMP/rodir" "$nestvmm" "$TMP"
		echo "-- read-only mount: exit $(cat "$TMP/rc1"): $(head -n 1 "$TMP/e1")"
		echo "-- read-only mount: exit $(cat "$TMP/rc2"): $(head -n 1 "$TMP/e2")"
		check "read-only mount, new file: exit 2" [ "$(cat "$TMP/rc1")" = 2 ]
		check "read-only mount, new file: message names it" grep -qF -- "--output $TMP/rodir/new.json" "$TMP/e1"
		check "read-only mount, existing file: exit 2" [ "$(cat "$TMP/rc2")" = 2 ]
		check "read-only mount, existing file: message names it" grep -qF -- "--output $TMP/rodir/v.json" "$TMP/e2"
		check "read-only mount: no new file" [ "$(ls "$TMP/rodir")" = v.json ]
		check "read-only mount: existing file unchanged" [ "$(cat "$TMP/rodir/v.json")" = precious ]
	else
		echo "note: no unshare -m here; covered by 1. and 3."
	fi
	# 3. as nobody: a 0444 file in a directory nobody may not write
	if setpriv --reuid=nobody --regid=nogroup --clear-groups true 2>/dev/null; then
		cp "$nestvmm" "$TMP/nestvmm"; chmod 755 "$TMP/nestvmm"
		mkdir "$TMP/nb"; echo precious > "$TMP/nb/v.json"; chmod 444 "$TMP/nb/v.json"; chmod 755 "$TMP/nb"
		run_timed 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$TMP/nestvmm" --kvm-device /nonexistent --output "$TMP/nb/v.json"
		echo "-- as nobody, read-only file: exit $RC: $(head -n 1 "$TMP/err")"
		check "as nobody, read-only --output file: exit 2 (got $RC)" [ "$RC" = 2 ]
		check "as nobody: message names it" grep -qF -- "--output $TMP/nb/v.json" "$TMP/err"
		check "as nobody: unchanged" [ "$(cat "$TMP/nb/v.json")" = precious ]
	fi
	;;
*) echo "unknown group $group"; exit 2 ;;
esac
finish
