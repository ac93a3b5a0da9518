#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/kvm-modules.sh: KVM modules for a packaged Debian kernel.
#   kvm-modules-test.sh args    bad input, no download (seconds)
#   kvm-modules-test.sh build   builds for the newest 6.12 package: unpatched,
#                               with a deliberate nested-SVM bug, refused and
#                               failing patches (first run prepares the source
#                               in ~/.cache/nestvmm: minutes; later: seconds)
#   kvm-modules-test.sh l0      boots the packaged kernel under QEMU with the
#                               unpatched modules (nestvmm passes) and with the
#                               bug (l2.run fails); needs NESTVMM=static binary
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../scripts/kvm-modules.sh
l0=$here/../../scripts/l0/qemu-amd.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-kvm-modules.XXXXXX")
trap 'rm -rf "$work"' EXIT
fails=0
KERNEL=${KVM_TEST_KERNEL:-6.12}

# run WANT_EXIT NAME CMD...: the exit code must be WANT_EXIT; output in $work/out.
run() {
	local want=$1 name=$2 rc=0 start=$SECONDS
	shift 2
	"$@" >"$work/out" 2>"$work/err" || rc=$?
	if [[ $rc == "$want" ]]; then
		echo "ok: $name: exit $rc ($((SECONDS - start))s)"
	else
		echo "FAIL: $name: exit $rc, want $want"
		sed 's/^/    /' "$work/out" "$work/err" | tail -n 30
		fails=$((fails + 1))
	fi
}

# expect WHAT PATTERN FILE / expect_not: grep -E must (not) find a line.
expect() {
	if grep -qE -- "$2" "$3"; then
		echo "ok:   $1"
	else
		echo "FAIL:   $1: no line matching '$2' in $3:"
		sed 's/^/    /' "$3" | tail -n 20
		fails=$((fails + 1))
	fi
}
expect_not() {
	if grep -qE -- "$2" "$3"; then
		echo "FAIL:   $1: a line matches '$2' in $3"
		fails=$((fails + 1))
	else
		echo "ok:   $1"
	fi
}
same() {
	if [[ $2 == "$3" ]]; then echo "ok:   $1"; else
		echo "FAIL:   $1: '$2' != '$3'"
		fails=$((fails + 1))
	fi
}
differ() {
	if [[ $2 != "$3" ]]; then echo "ok:   $1"; else
		echo "FAIL:   $1: both '$2'"
		fails=$((fails + 1))
	fi
}

build_id() { readelf -n "$1" | sed -n 's/^ *Build ID: //p'; }

# tree_of: the prepared source tree that the last build used.
tree_of() {
	local release
	release=$(sed -n 's/^release=//p' "$1/BUILD-INFO")
	echo "${NESTVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestvmm}/kvm-build/$release/tree"
}

case ${1:-} in
args)
	run 0 help "$script" --help
	expect "help names the exit codes" '^Exit: 0 built, 1' "$work/out"
	run 0 "--kvm-paths" "$script" --kvm-paths
	expect "KVM paths: arch/x86/kvm" '^arch/x86/kvm$' "$work/out"
	expect "KVM paths: virt/kvm" '^virt/kvm$' "$work/out"
	expect "KVM paths: KVM headers" '^include/linux/kvm_\*\.h$' "$work/out"
	run 2 "no --kernel" "$script"
	expect "says --kernel is required" 'kernel is required' "$work/err"
	run 2 "unknown option" "$script" --kernel 6.12 --frobnicate
	run 2 "--kernel without value" "$script" --kernel
	run 2 "--kernel PATH" "$script" --kernel /boot/vmlinuz
	expect "says a path is not a Debian kernel" 'not a path' "$work/err"
	run 2 "missing patch" "$script" --kernel 6.12 --patch "$work/none.patch"
	expect "names the missing patch" "none\.patch" "$work/err"
	run 2 "--jobs 0" "$script" --kernel 6.12 --jobs 0
	run 2 "--source not a kernel tree" "$script" --kernel 6.12 --source "$work"
	# Debian keeps no headers for some images: say so, download nothing.
	nohdr=$(apt-cache pkgnames linux-image-6.1.0- | grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V |
		while read -r p; do apt-cache show "linux-headers-${p#linux-image-}" >/dev/null 2>&1 || { echo "$p"; break; }; done)
	if [[ -n $nohdr ]]; then
		run 2 "image without headers ($nohdr)" "$script" --kernel "$nohdr"
		expect "names the missing headers package" "linux-headers-${nohdr#linux-image-} is not in apt" "$work/err"
	else
		echo "ok:   (every 6.1 image has headers in apt: nothing to check)"
	fi
	;;
build)
	run 0 "unpatched build for $KERNEL" "$script" --kernel "$KERNEL"
	plain=$(tail -n 1 "$work/out")
	for ko in kvm kvm-amd kvm-intel; do
		[[ -f $plain/$ko.ko ]] && echo "ok:   $ko.ko built" || { echo "FAIL:   no $ko.ko in $plain"; fails=$((fails + 1)); }
	done
	release=$(sed -n 's/^release=//p' "$plain/BUILD-INFO")
	same "vermagic names the package's release" "$(modinfo -F vermagic "$plain/kvm.ko" | cut -d' ' -f1)" "$release"
	expect "BUILD-INFO names the source package" '^source=linux-source-' "$plain/BUILD-INFO"
	tree=$(tree_of "$plain")

	"$here/nested-bug.sh" amd "$tree" >"$work/bug.patch"
	run 0 "build with a deliberate nested-SVM bug" "$script" --kernel "$KERNEL" --patch "$work/bug.patch" --out "$work/bug"
	same "kvm.ko unchanged by an svm/nested.c bug (reproducible build)" "$(build_id "$work/bug/kvm.ko")" "$(build_id "$plain/kvm.ko")"
	differ "kvm-amd.ko carries the bug" "$(build_id "$work/bug/kvm-amd.ko")" "$(build_id "$plain/kvm-amd.ko")"
	expect "BUILD-INFO records the patch" "^patch=$work/bug.patch sha256=" "$work/bug/BUILD-INFO"
	same "the tree is back to the package's KVM files" "$(git -C "$tree" status --porcelain --untracked-files=no)" ""

	printf -- '--- a/Makefile\n+++ b/Makefile\n@@ -1 +1 @@\n-%s\n+# not kvm\n' "$(head -n 1 "$tree/Makefile")" >"$work/outside.patch"
	run 2 "a patch outside KVM is refused" "$script" --kernel "$KERNEL" --patch "$work/outside.patch" --out "$work/x"
	expect "names the file outside KVM" 'outside KVM.*: Makefile' "$work/err"
	printf -- '--- a/virt/kvm/kvm_main.c\n+++ b/virt/kvm/kvm_main.c\n@@ -1,1 +1,1 @@\n-no such line\n+still none\n' >"$work/stale.patch"
	run 1 "a patch that does not apply" "$script" --kernel "$KERNEL" --patch "$work/stale.patch" --out "$work/x"
	expect "says it does not apply" 'does not apply' "$work/err"
	sed 's/^+\(.*\)\^ 1;$/+\1 ^ ;/' "$work/bug.patch" >"$work/broken.patch"
	run 1 "a patch that does not compile" "$script" --kernel "$KERNEL" --patch "$work/broken.patch" --out "$work/x"
	expect "says the build failed" 'KVM build failed' "$work/err"
	same "the tree is reset after a failed build" "$(git -C "$tree" status --porcelain --untracked-files=no)" ""
	run 0 "same patch again: reused from the cache" "$script" --kernel "$KERNEL"
	expect "says it is already built" 'already built' "$work/err"
	;;
l0)
	: "${NESTVMM:?set NESTVMM to a static nestvmm binary}"
	run 0 "unpatched build" "$script" --kernel "$KERNEL"
	plain=$(tail -n 1 "$work/out")
	"$here/nested-bug.sh" amd "$(tree_of "$plain")" >"$work/bug.patch"
	run 0 "build with the bug" "$script" --kernel "$KERNEL" --patch "$work/bug.patch"
	buggy=$(tail -n 1 "$work/out")
	# Checked before booting: modules for another kernel, a directory without kvm.ko.
	other=${KVM_TEST_OTHER_KERNEL:-6.1}
	run 100 "modules built for another kernel are refused" "$l0" --kernel "$other" --modules "$plain" \
		--nestvmm "$NESTVMM"
	release=$(sed -n 's/^release=//p' "$plain/BUILD-INFO")
	expect "names both releases" "was built for ${release//[.+]/[&]}, but the kernel is " "$work/err"
	mkdir -p "$work/empty"
	run 100 "a --modules directory without kvm.ko is refused" "$l0" --kernel "$KERNEL" --modules "$work/empty" \
		--nestvmm "$NESTVMM"
	expect "says kvm.ko is missing" 'holds no kvm.ko' "$work/err"
	run 0 "packaged kernel + unpatched modules: nestvmm passes" "$l0" --kernel "$KERNEL" --modules "$plain" \
		--nestvmm "$NESTVMM" --results "$work/good" -- --arch amd
	expect "the L0 loaded the custom kvm_amd" "^kvm_amd .*build-id=$(build_id "$plain/kvm-amd.ko") from custom" "$work/good/modules.txt"
	expect "l2.run passed" 'l2\.run +pass' "$work/good/run-1.log"
	run 1 "packaged kernel + buggy modules: nestvmm fails" "$l0" --kernel "$KERNEL" --modules "$buggy" \
		--nestvmm "$NESTVMM" --results "$work/bad" -- --arch amd
	expect "the L0 loaded the buggy kvm_amd" "^kvm_amd .*build-id=$(build_id "$buggy/kvm-amd.ko") from custom" "$work/bad/modules.txt"
	expect "l2.run fails on L2's RAX" 'l2\.run +fail .*RAX' "$work/bad/run-1.log"
	;;
*)
	echo "usage: kvm-modules-test.sh args|build|l0" >&2
	exit 2
	;;
esac
[[ $fails == 0 ]]
