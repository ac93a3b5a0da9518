#!/bin/bash
# SPDX-License-Identifier: MIT
# messages.sh NESTVMM CASE: each message names the actual problem.
#   elf        EI_DATA 0/3 is not "big-endian", EI_CLASS 0/3 says its number, a
#              cut-short ELF is "truncated", not "bad magic"
#   kernel     a /proc file is read to its end (not "empty file"); a failed
#              allocation says so (not "could not read N bytes")
#   kvm-device a --kvm-device that names no file: no firmware (BIOS) advice
#   long-path  a path of 4000+ bytes never cuts off the reason after it
. "$(dirname "$0")/lib.sh"
nestvmm=$1 case=$2

says() {   # says DESCRIPTION EXPECTED-PHRASE NESTVMM-ARGS...: exit 2 and the phrase on stderr
	local what=$1 phrase=$2; shift 2
	run_timed 10 "$nestvmm" "$@"
	echo "-- $what: exit $RC: $(head -c 300 "$TMP/err" | head -n 1)"
	check "$what: exit 2 (got $RC)" [ "$RC" = 2 ]
	check "$what: says \"$phrase\"" grep -qF -- "$phrase" "$TMP/err"
}

case $case in
elf)
	python3 - "$TMP" <<'PY'
import struct, sys
t = sys.argv[1]
code = b"\xf4\xeb\xfd" + b"\x90" * 13
eh = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + b"\0" * 9, 2, 62, 1, 0x200000, 64, 0, 0,
                 64, 56, 1, 0, 0, 0)
ph = struct.pack("<IIQQQQQQ", 1, 7, 120, 0x200000, 0x200000, len(code), 0x1000, 0x1000)
img = bytearray(eh + ph + code)
for name, off, val in (("data0", 5, 0), ("data3", 5, 3), ("data2", 5, 2), ("class0", 4, 0), ("class3", 4, 3)):
    b = bytearray(img); b[off] = val
    open(f"{t}/{name}.elf", "wb").write(b)
open(f"{t}/magic3.elf", "wb").write(img[:3])
open(f"{t}/ident10.elf", "wb").write(img[:10])
open(f"{t}/abc.elf", "wb").write(b"abc")
PY
	says "EI_DATA 0" "unknown ELF data encoding 0" --kernel "$TMP/data0.elf"
	check "EI_DATA 0: not called big-endian" bash -c "! grep -q big-endian '$TMP/err'"
	says "EI_DATA 3" "unknown ELF data encoding 3" --kernel "$TMP/data3.elf"
	check "EI_DATA 3: not called big-endian" bash -c "! grep -q big-endian '$TMP/err'"
	says "EI_DATA 2 (MSB)" "big-endian ELF" --kernel "$TMP/data2.elf"
	says "EI_CLASS 0" "unknown ELF class 0" --kernel "$TMP/class0.elf"
	says "EI_CLASS 3" "unknown ELF class 3" --kernel "$TMP/class3.elf"
	says "3 bytes of ELF magic" "truncated: 3 bytes" --kernel "$TMP/magic3.elf"
	says "10 bytes of ELF identification" "truncated: 10 bytes" --kernel "$TMP/ident10.elf"
	says "3 bytes, not ELF" "not an ELF file (bad magic)" --kernel "$TMP/abc.elf"
	;;
kernel)
	says "--kernel /proc/self/status" "not an ELF file (bad magic)" --kernel /proc/self/status
	says "--kernel /proc/version" "not an ELF file (bad magic)" --kernel /proc/version
	: > "$TMP/empty"
	says "an empty file" "empty file" --kernel "$TMP/empty"
	if [ -n "${NESTVMM_SANITIZED:-}" ]; then
		echo "note: ASan cannot start under ulimit -v; the allocation case runs in the plain build"
	else
		truncate -s 60M "$TMP/big.elf"
		printf '\177ELF' | dd of="$TMP/big.elf" conv=notrunc 2>/dev/null
		run_timed 10 bash -c 'ulimit -v 40000; exec "$@"' _ "$nestvmm" --kernel "$TMP/big.elf"
		echo "-- 60 MiB kernel under ulimit -v 40000: exit $RC: $(head -n 1 "$TMP/err")"
		check "allocation failure: exit 2 (got $RC)" [ "$RC" = 2 ]
		check "allocation failure: says it could not allocate, and why" \
			grep -q 'cannot allocate [0-9]* bytes to read it: Cannot allocate memory' "$TMP/err"
	fi
	;;
kvm-device)
	run_timed 10 "$nestvmm" --kvm-device /dev/kvm-typo --format json
	reason=$(jq -r '.stages[0].reason' "$TMP/out")
	echo "-- --kvm-device /dev/kvm-typo: exit $RC: $reason"
	check "exit 4 (got $RC)" [ "$RC" = 4 ]
	check "reason names the option and the path" contains "$reason" "--kvm-device /dev/kvm-typo: No such file or directory"
	check "no firmware or BIOS advice" bash -c "! grep -qiE 'firmware|BIOS' <<< '$reason'"
	run_timed 10 "$nestvmm" --kvm-device /dev/kvm-typo --strict --format json
	check "--strict: exit 1 (got $RC)" [ "$RC" = 1 ]
	;;
long-path)
	long=$TMP/$(printf 'p%.0s' $(seq 200))
	for _ in $(seq 14); do long=$long/$(printf 'q%.0s' $(seq 200)); done
	says "--kernel, a ${#long}-byte path" "No such file or directory" --kernel "$long/x.elf"
	check "--kernel: the message ends with the reason" grep -q 'No such file or directory$' "$TMP/err"
	mkdir -p "$TMP/d"; short=$TMP/d/$(printf 'n%.0s' $(seq 250))
	printf 'x' > "$short"
	says "--kernel, a 250-byte name" "not an ELF file (bad magic)" --kernel "$short"
	says "--output into a missing directory, a ${#long}-byte path" "No such file or directory" --output "text:$long/v"
	toolong=$long/$(printf 'r%.0s' $(seq 200))/$(printf 's%.0s' $(seq 200))/$(printf 't%.0s' $(seq 200))/$(printf 'u%.0s' $(seq 200))/$(printf 'v%.0s' $(seq 200))/$(printf 'w%.0s' $(seq 200))
	says "--kernel, a ${#toolong}-byte path (over PATH_MAX)" "File name too long" --kernel "$toolong"
	run_timed 10 "$nestvmm" --kvm-device "/dev/$(printf 'k%.0s' $(seq 250))/$(printf 'v%.0s' $(seq 250))" --format json
	reason=$(jq -r '.stages[0].reason' "$TMP/out")
	echo "-- a 500-byte --kvm-device: $reason"
	check "--kvm-device, 500 bytes: the verdict's reason still says why" contains "$reason" "No such file or directory"
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish
