#!/bin/bash
# SPDX-License-Identifier: MIT
# host_faults.sh NESTVMM CASE: the host lets nestvmm down; it must
# still write a valid verdict that says why, quickly, with the documented code.
#   missing      --kvm-device /nonexistent: host.kvm skipped (exit 4), --strict: fail (1)
#   unreadable   /dev/kvm as user nobody (no permission): host.kvm skipped, exit 4
#   not-kvm      --kvm-device /dev/null and /dev/zero: host.kvm skipped, exit 4
#   oom          ulimit -v 256 MiB with --mem 4096: l1.boot fails naming the mmap, exit 1
. "$(dirname "$0")/lib.sh"
nestvmm=$1 case=$2
REASON=

# verdict NAME EXIT STAGE STATUS PHRASE ARGS...: run, check the verdict's shape and stage STAGE.
verdict() {
	local name=$1 exp_rc=$2 stage=$3 status=$4 phrase=$5; shift 5
	run_timed 10 "$@"
	local out=$TMP/out
	echo "-- $name: exit $RC after ${WALL}s"
	check "$name: valid JSON" json_ok "$out"
	json_ok "$out" || { cat "$out" "$TMP/err"; return; }
	local reason; reason=$(jq -r --arg s "$stage" '.stages[] | select(.name == $s).reason' "$out")
	echo "   $stage: $(jq -r --arg s "$stage" '.stages[] | select(.name == $s).status' "$out"): $reason"
	check "$name: exit $exp_rc (got $RC)" [ "$RC" = "$exp_rc" ]
	check "$name: JSON exit_code $exp_rc" [ "$(jget "$out" .exit_code)" = "$exp_rc" ]
	check "$name: $stage is $status" jq -e --arg s "$stage" --arg st "$status" \
		'.stages[] | select(.name == $s) | .status == $st' "$out"
	check "$name: $stage's reason says \"$phrase\"" contains "$reason" "$phrase"
	check "$name: no stage pending" jq -e 'all(.stages[]; .status != "pending")' "$out"
	check "$name: later stages name $stage as the cause" jq -e --arg s "$stage" \
		'.stages | (map(.name) | index($s)) as $i | .[$i + 1:] | all(.reason | contains($s))' "$out"
	check "$name: within 10 s (${WALL}s)" less_than "$WALL" 10
	check "$name: nothing on stderr" [ ! -s "$TMP/err" ]
	REASON=$reason
}

case $case in
missing)
	verdict missing 4 host.kvm skip "No such file or directory" \
		"$nestvmm" --kvm-device /nonexistent --format json
	check "missing: reason names the device given (/nonexistent), not /dev/kvm" \
		contains "$REASON" "/nonexistent"
	verdict "missing --strict" 1 host.kvm fail "No such file or directory" \
		"$nestvmm" --kvm-device /nonexistent --strict --format json
	;;
unreadable)
	# root opens any device node: run as nobody, for whom /dev/kvm is crw------- root.
	cp "$nestvmm" "$TMP/nestvmm"; chmod 755 "$TMP/nestvmm"
	dev=/dev/kvm
	if [ ! -c $dev ] || setpriv --reuid=nobody --regid=nogroup --clear-groups \
		bash -c "exec 3<>$dev" 2>/dev/null; then
		# /dev/kvm open to everyone (or absent): make an unreadable copy of the node
		dev=$TMP/kvm; mknod -m 600 "$dev" c 10 232
	fi
	verdict "unreadable ($dev)" 4 host.kvm skip "$dev" \
		setpriv --reuid=nobody --regid=nogroup --clear-groups "$TMP/nestvmm" --kvm-device "$dev" --format json
	check "unreadable: reason says Permission denied" contains "$REASON" "Permission denied"
	check "unreadable: reason gives the remedy (kvm group)" contains "$REASON" "kvm group"
	;;
not-kvm)
	for dev in /dev/null /dev/zero; do
		verdict "not-kvm ($dev)" 4 host.kvm skip "KVM_GET_API_VERSION" \
			"$nestvmm" --kvm-device $dev --format json
		check "not-kvm: reason names $dev" contains "$REASON" "$dev"
	done
	;;
oom)
	# 4 GiB of guest RAM in a process limited to 256 MiB of address space.
	verdict oom 1 l1.boot fail "Cannot allocate memory" \
		bash -c 'ulimit -v 262144 && exec "$@"' _ "$nestvmm" --mem 4096 --format json
	check "oom: host.kvm still passed" jq -e '.stages[0].status == "pass"' "$TMP/out"
	check "oom: reason names the guest RAM mapping" contains "$REASON" "4096 MiB of guest RAM"
	;;
*) echo "unknown case $case"; exit 2 ;;
esac
finish
