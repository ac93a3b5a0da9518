#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A real `git bisect run` with KVM-only steps, end to end: the test makes a
# small git history from Debian's linux-source (the KVM files of the newest
# 6.12 package, plus its Makefile and scripts/config), then
#   base       the package's sources
#   2 commits  harmless comments in arch/x86/kvm/cpuid.c and virt/kvm/eventfd.c
#   1 commit   a deliberate nested-SVM bug (tests/bisect/nested-bug.sh amd)
#   2 commits  harmless comments in arch/x86/kvm/svm/avic.c and lapic.c
# and bisects it with scripts/bisect-kernel.sh --base-package PKG --base BASE:
# every step builds only the KVM modules and boots the packaged kernel with
# them under QEMU. It must name the bug's commit.
#
# --self-built: the same history over the package's WHOLE source tree, and
# bisect-kernel.sh --base BASE without a package: the first step builds the
# base commit's kernel (x86_64_defconfig + KVM: about 34 minutes with 2 jobs
# here) into the cache, every step builds only the KVM modules against it.
# Too slow for CI on a cold cache; its recorded log is in docs/bisect.md.
#
#   NESTVMM=build/nestvmm tests/bisect/git-bisect-e2e.sh [--kernel SPEC] [--self-built] [--log FILE]
#
# First run: prepares the package's source (scripts/kvm-modules.sh, minutes);
# then each step costs a module rebuild of the files that changed (seconds
# to a minute) and one QEMU boot (~10-30 s).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
kernel=6.12 log="" self_built=0
while [[ $# -gt 0 ]]; do
	case $1 in
	--kernel) kernel=${2:?--kernel needs a value}; shift 2 ;;
	--log) log=${2:?--log needs a value}; shift 2 ;;
	--self-built) self_built=1; shift ;;
	*) echo "usage: git-bisect-e2e.sh [--kernel SPEC] [--self-built] [--log FILE]" >&2; exit 2 ;;
	esac
done
: "${NESTVMM:?set NESTVMM to a static nestvmm binary}"
NESTVMM=$(realpath "$NESTVMM")
work=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-git-bisect.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=${log:-$work/bisect.log}
start=$SECONDS

# The package's KVM files come from the tree scripts/kvm-modules.sh prepared
# (its git repository holds exactly the pristine KVM files).
plain=$("$root/scripts/kvm-modules.sh" --kernel "$kernel" | tail -n 1)
pkg=$(sed -n 's/^kernel=//p' "$plain/BUILD-INFO")
release=$(sed -n 's/^release=//p' "$plain/BUILD-INFO")
tree=$(dirname "$plain")/../tree
echo "base: $pkg ($(sed -n 's/^source=//p' "$plain/BUILD-INFO")), prepared in $((SECONDS - start))s"

repo=$work/linux
g() { git -C "$repo" -c user.name=nestvmm-test -c user.email=test@nestvmm.invalid "$@"; }
if [[ $self_built == 1 ]]; then
	# The whole tree, as it was unpacked: kvm-modules.sh configured and
	# built in place, so copy it without its git (holding kvm-modules.sh's
	# lock: no build may change it meanwhile), take the KVM files from that
	# git (the package's) and clean the copy.
	mkdir -p "$repo"
	flock "$(dirname "$(realpath "$tree")").lock" tar -C "$tree" --exclude=./.git --exclude=./.nestvmm-unpacked -c . |
		tar -x -C "$repo"
	git -C "$tree" archive HEAD | tar -x -C "$repo"
	make -s -C "$repo" mrproper
	rm -f "$repo/Module.symvers"
	# Debian's top-level .gitignore ignores everything but debian/ (its
	# packaging repository's view): a kernel git tree has no such lines.
	sed -i '/^\/\*$/d; /^!\/debian\/$/d' "$repo/.gitignore"
	g init -q
	g add -A
	g commit -q -m "$(sed -n 's/^source=//p' "$plain/BUILD-INFO"): the whole tree"
	echo "history: the whole source tree ($(g ls-files | wc -l) files) committed in $((SECONDS - start))s"
else
	mkdir -p "$repo/scripts"
	git -C "$tree" archive HEAD | tar -x -C "$repo"
	cp "$tree/Makefile" "$repo/Makefile"
	cp "$tree/scripts/config" "$repo/scripts/config"
	g init -q
	g add -A
	g commit -q -m "$(sed -n 's/^source=//p' "$plain/BUILD-INFO"): KVM files, Makefile, scripts/config"
fi
base=$(g rev-parse HEAD)

# harmless FILE N: a comment at the end of FILE, committed.
harmless() {
	printf '/* harmless change %s */\n' "$2" >>"$repo/$1"
	g commit -q -am "$1: harmless comment $2"
}
harmless arch/x86/kvm/cpuid.c 1
harmless virt/kvm/eventfd.c 2
"$here/nested-bug.sh" amd "$repo" >"$work/bug.patch"
g apply "$work/bug.patch"
g commit -q -am "KVM: nSVM: hand L1 a wrong RAX on #VMEXIT (deliberate bug)"
bug=$(g rev-parse HEAD)
harmless arch/x86/kvm/svm/avic.c 3
harmless arch/x86/kvm/lapic.c 4
g log --oneline | sed 's/^/history: /'

# git bisect run from inside the tree, as a user would.
bisect_start=$SECONDS
base_args=(--base-package "$pkg" --base "$base")
[[ $self_built == 0 ]] || base_args=(--base "$base")
(
	cd "$repo"
	git bisect start HEAD "$base" >/dev/null
	git bisect run "$root/scripts/bisect-kernel.sh" --arch amd "${base_args[@]}" \
		--jobs 2 --nestvmm "$NESTVMM"
) >"$log" 2>&1 || true
elapsed=$((SECONDS - bisect_start))
steps=$(grep -c 'KVM-only step' "$log" || true)
echo "git bisect run: $steps step(s) in ${elapsed}s (whole test $((SECONDS - start))s); log: $log"

fails=0
check() {
	if grep -qE -- "$2" "$log"; then echo "ok: $1"; else
		echo "FAIL: $1 (no line matching '$2')"
		fails=$((fails + 1))
	fi
}
check "git bisect names the injected commit" "^$bug is the first bad commit"
check "every step was KVM-only" 'KVM-only step'
if grep -q '^bisect-kernel: full build:' "$log"; then
	echo "FAIL: a step fell back to the full build"
	fails=$((fails + 1))
fi
if [[ $self_built == 1 ]]; then
	check "the base kernel was built, or found in the cache" 'base kernel (built in [0-9]+s|of [0-9a-f]+: cached in )'
	if [[ $(grep -c 'not cached; a full build' "$log") -gt 1 ]]; then
		echo "FAIL: the base kernel was built more than once"
		fails=$((fails + 1))
	fi
	check "every step built its KVM modules against the base" 'KVM modules built in [0-9]+s: .*/nestvmm-kvm/out/'
else
	check "the L0 booted the packaged kernel $release" "kernel=${release//[.+]/[&]}"
fi
check "a bad step failed l2.run on L2's RAX" 'l2\.run +fail .*RAX'
check "a good step passed" 'L0 runner exit 0: good'
if [[ $fails != 0 ]]; then
	sed 's/^/    /' "$log" | tail -n 60
	exit 1
fi
g bisect reset -q >/dev/null 2>&1 || true
