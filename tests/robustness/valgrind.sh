#!/bin/bash
# SPDX-License-Identifier: MIT
# valgrind.sh NESTVMM L1_ELF static|dynamic [SUPPRESSIONS]: memcheck on full
# native runs and on each error path: no invalid access, no uninitialised use,
# no leak, no fd left open at exit (--track-fds), the exit code unchanged.
#  static:  the shipped static binary. Valgrind cannot replace a static
#           glibc's malloc or string functions: heap blocks are not tracked
#           there, and glibc-internal false positives are suppressed
#           (valgrind-static-glibc.supp: uninitialised-value kinds only).
#  dynamic: the same objects linked dynamically (nestvmm_dyn): full heap and
#           leak checking, no suppression file.
. "$(dirname "$0")/lib.sh"
nestvmm=$1 l1=$2 kind=$3 supp=${4:-}
vg=(valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=all
    --errors-for-leak-kinds=definite,indirect,possible --track-fds=yes)
[ "$kind" = static ] && vg+=(--soname-synonyms=somalloc=NONE)
[ -n "$supp" ] && vg+=(--suppressions="$supp")

# memcheck NAME EXPECTED_EXIT ARGS...
memcheck() {
	local name=$1 exp=$2 extra=(); shift 2
	[ "$1" = --no-leak-errors ] && { extra=(--errors-for-leak-kinds=none); shift; }
	timeout -s KILL 120 "${vg[@]}" "${extra[@]}" --log-file="$TMP/vg.log" "$nestvmm" "$@" > "$TMP/out" 2> "$TMP/err"
	RC=$?
	local summary; summary=$(grep 'ERROR SUMMARY' "$TMP/vg.log")
	echo "-- $name: exit $RC; ${summary#*== }"
	check "$name: exit $exp (got $RC)" [ "$RC" = "$exp" ]
	check "$name: memcheck ran to the end" grep -q 'ERROR SUMMARY' "$TMP/vg.log"
	check "$name: 0 memcheck errors" grep -q 'ERROR SUMMARY: 0 errors' "$TMP/vg.log"
	# every fd open at exit beyond 0-2 must be one we handed in
	local fds; fds=$(awk '/Open (file descriptor|AF_)/ { fd = $0; getline nx;
		if (nx !~ /inherited from parent/ && fd !~ /descriptor [012]:/) print fd }' "$TMP/vg.log")
	check "$name: no fd left open at exit${fds:+: $fds}" [ -z "$fds" ]
	if [ "$kind" = dynamic ] && [ ${#extra[@]} = 0 ]; then
		check "$name: heap tracked and all freed" \
			grep -qE 'All heap blocks were freed|definitely lost: 0 bytes' "$TMP/vg.log"
	fi
	grep -E 'Invalid|uninitialised|lost in' "$TMP/vg.log" | head -20
}

memcheck "full run" 4 --format json --timeout 60
check "full run: L1 ran to the end under valgrind" [ "$(jget "$TMP/out" .run.end)" = done ]
memcheck "--kernel FILE, --output FILE, --trace" 4 --kernel "$l1" --trace --timeout 60 \
	--output "json:$TMP/v.json"
memcheck "hostile flood (log kept, rest dropped; timeout)" 1 --hostile flood --timeout 3 --format json
check "flood: log lines were allocated and dropped" jq -e '(.log | length) == 256 and .log_dropped > 0' "$TMP/out"
memcheck "hostile garbage" 1 --hostile garbage --timeout 20
memcheck "hostile dup-stage" 1 --hostile dup-stage --timeout 20
memcheck "malformed --kernel" 2 --kernel "$TMP"
printf '\177ELF\002\001\001' > "$TMP/trunc.elf"
memcheck "truncated --kernel (image freed)" 2 --kernel "$TMP/trunc.elf"
memcheck "KVM device is /dev/null" 4 --kvm-device /dev/null
memcheck "--output into a missing directory" 2 --output "$TMP/nodir/v.json"
finish
