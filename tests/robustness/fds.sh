#!/bin/bash
# SPDX-License-Identifier: MIT
# fds.sh NESTVMM L1_ELF: no file descriptor outlives its use. Each run is traced
# (strace: every call that makes or closes an fd); at exit every fd nestvmm
# opened must be closed again, on the normal path and on each error path.
# While L1 runs, nestvmm holds exactly /dev/kvm, the VM and the vCPU.
. "$(dirname "$0")/lib.sh"
nestvmm=$1 l1=$2

# leaked TRACE: the fds opened and not closed, one "fd: call" per line.
leaked() {
	awk '
	function ret(line) { sub(/.*\) += /, "", line); sub(/ .*/, "", line); return line + 0 }
	/^(open|openat|creat|dup|dup2|dup3|socket|memfd_create|eventfd2|pidfd_open)\(/ && !/= -1/ {
		open_[ret($0)] = $0 }
	/^ioctl\(.*KVM_CREATE_(VM|VCPU)/ && !/= -1/ { open_[ret($0)] = $0 }
	/^fcntl\(.*F_DUPFD/ && !/= -1/ { open_[ret($0)] = $0 }
	/^(pipe|pipe2)\(\[/ && !/= -1/ { split($0, a, /[\[\],]/); open_[a[2] + 0] = $0; open_[a[3] + 0] = $0 }
	/^close\(/ && / = 0/ { fd = $0; sub(/^close\(/, "", fd); sub(/\).*/, "", fd); delete open_[fd + 0] }
	END { for (fd in open_) print fd ": " open_[fd] }' "$1"
}

# traced NAME EXPECTED_EXIT ARGS...
traced() {
	local name=$1 exp=$2; shift 2
	local pre=()
	if [ "${*: -1}" = --ulimit ]; then   # last argument --ulimit: 256 MiB of address space
		set -- "${@:1:$#-1}"; pre=(bash -c 'ulimit -v 262144 && exec "$@"' _)
	fi
	timeout -s KILL 60 "${pre[@]}" strace -qq -o "$TMP/trace" \
		-e trace=open,openat,creat,close,dup,dup2,dup3,fcntl,ioctl,pipe,pipe2,socket,memfd_create,eventfd2 \
		"$nestvmm" "$@" > "$TMP/out" 2> "$TMP/err"
	RC=$?
	local l; l=$(leaked "$TMP/trace")
	echo "-- $name: exit $RC, $(grep -c '' "$TMP/trace") traced calls"
	check "$name: exit $exp (got $RC)" [ "$RC" = "$exp" ]
	check "$name: every fd closed at exit${l:+ (leaked: $l)}" [ -z "$l" ]
}

traced "full run" 4 --format json --timeout 20
check "full run: the trace saw the KVM fds" grep -q 'KVM_CREATE_VCPU' "$TMP/trace"
traced "run with --kernel and --output" 4 --kernel "$l1" --output "json:$TMP/v.json" --timeout 20
traced "hostile flood (timeout)" 1 --hostile flood --timeout 2
traced "hostile garbage" 1 --hostile garbage --timeout 5
traced "malformed --kernel" 2 --kernel /dev/zero
traced "--output into a missing directory" 2 --output "$TMP/nodir/v.json"
traced "KVM device is /dev/null" 4 --kvm-device /dev/null
traced "missing KVM device" 4 --kvm-device /nonexistent
if [ "${NESTVMM_SANITIZED:-}" != 1 ]; then   # ASan cannot start under ulimit -v
	traced "guest RAM mapping fails (ulimit -v)" 1 --mem 4096 --timeout 5 --ulimit
fi

# During a run: exactly /dev/kvm, the VM, the vCPU and the verdict's output
# beyond what we passed in.
"$nestvmm" --hostile spin --timeout 20 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
	ls -l /proc/$pid/fd 2>/dev/null | grep -q kvm-vcpu && break
	sleep 0.1
done
# fd -> target of nestvmm, minus what it inherited from this shell (same fd, same target)
fdmap() { for f in /proc/$1/fd/*; do echo "${f##*/} $(readlink "$f")"; done 2>/dev/null | sort; }
mine=$(comm -23 <(fdmap $pid) <(fdmap $$) | awk '$1 > 2 { print $2 }' | sort | tr '\n' ' ')
kill -TERM $pid; wait $pid
echo "-- fds while L1 runs: $mine"
# Standard output (here /dev/null) is duplicated up front for the verdict
# (vmm/output.c: a target is opened before the run, so it cannot fail after it).
check "while L1 runs: /dev/kvm, one VM, one vCPU, the verdict's copy of stdout" \
	[ "$mine" = "/dev/kvm /dev/null anon_inode:kvm-vcpu:0 anon_inode:kvm-vm " ]
finish
