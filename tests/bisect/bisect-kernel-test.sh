#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/bisect-kernel.sh without building a kernel: a fixture tree with a
# fake scripts/config, a fake make (MAKE=) and a fake L0 runner (--l0) that
# log what they are asked to do and fail on demand.
#   bisect-kernel-test.sh args|config|build|exit-codes|kvm-only|self-base
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
script=$here/../../scripts/bisect-kernel.sh
work=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-bisect-kernel.XXXXXX")
trap 'rm -rf "$work"' EXIT
log=$work/log
fails=0

# --- fixtures ----------------------------------------------------------------
tree=$work/linux
mkdir -p "$tree/scripts" "$tree/arch/x86"
echo '# fixture: not a real kernel Makefile' > "$tree/Makefile"
# scripts/config: log the arguments and apply them to the .config, as the
# real one does for the operations bisect-kernel.sh uses.
cat > "$tree/scripts/config" <<'SH'
#!/bin/sh
echo "scripts/config $*" >> "$FAKE_LOG"
[ "$1" = --file ] || { echo "fake scripts/config: no --file" >&2; exit 1; }
file=$2; shift 2
while [ $# -gt 0 ]; do
	sym=CONFIG_${2#CONFIG_}
	sed -i "/^$sym=/d; /^# $sym is not set/d" "$file"
	case $1 in
	--enable) echo "$sym=y" >> "$file"; shift 2 ;;
	--module) echo "$sym=m" >> "$file"; shift 2 ;;
	--disable) echo "# $sym is not set" >> "$file"; shift 2 ;;
	--set-val) echo "$sym=$3" >> "$file"; shift 3 ;;
	*) echo "fake scripts/config: unknown $1" >&2; exit 1 ;;
	esac
done
SH
chmod +x "$tree/scripts/config"
# make: defconfig writes a small .config, olddefconfig drops $FAKE_DROP,
# bzImage writes the image; FAKE_FAIL=TARGET makes that target fail.
cat > "$work/make" <<'SH'
#!/bin/sh
echo "make $*" >> "$FAKE_LOG"
out= mod=
for a; do
	case $a in
	O=*) out=${a#O=} ;;
	INSTALL_MOD_PATH=*) mod=${a#INSTALL_MOD_PATH=} ;;
	esac
done
for a; do
	[ "$a" != "${FAKE_FAIL:-none}" ] || exit 2
	case $a in
	x86_64_defconfig) printf 'CONFIG_X86_64=y\nCONFIG_MODULES=y\nCONFIG_BLK_DEV_INITRD=y\n# CONFIG_KVM is not set\n' > "$out/.config" ;;
	olddefconfig) [ -z "${FAKE_DROP:-}" ] || sed -i "/^CONFIG_$FAKE_DROP=/d" "$out/.config" ;;
	bzImage) mkdir -p "$out/arch/x86/boot" && echo image > "$out/arch/x86/boot/bzImage" ;;
	modules_install) mkdir -p "$mod/lib/modules/6.1.0/kernel/arch/x86/kvm" && : > "$mod/lib/modules/6.1.0/kernel/arch/x86/kvm/kvm.ko" ;;
	esac
done
SH
chmod +x "$work/make"
# The L0 runner: log the arguments, exit with $FAKE_L0_EXIT.
cat > "$work/l0" <<'SH'
#!/bin/sh
echo "l0 $*" >> "$FAKE_LOG"
exit "${FAKE_L0_EXIT:-0}"
SH
chmod +x "$work/l0"
printf '#!/bin/sh\nexit 0\n' > "$work/nestvmm"
chmod +x "$work/nestvmm"

# kvm-modules.sh: the real KVM path list, otherwise log the arguments, print
# an output directory and exit with $FAKE_KVM_EXIT.
cat > "$work/kvm-modules" <<SH
#!/bin/sh
[ "\$1" != --kvm-paths ] || exec "$here/../../scripts/kvm-modules.sh" --kvm-paths
echo "kvm-modules \$*" >> "\$FAKE_LOG"
echo "$work/kvm-out"
exit "\${FAKE_KVM_EXIT:-0}"
SH
chmod +x "$work/kvm-modules"

export FAKE_LOG=$log MAKE=$work/make NESTVMM_CACHE=$work/cache KVM_MODULES=$work/kvm-modules

# run WANT_EXIT NAME ARGS...: bisect-kernel.sh's exit code must be WANT_EXIT.
# $log holds what this run's fakes were asked to do, $log.all every run's.
# Call it in this shell, never in a subshell: fails would be lost there.
run() {
	local want=$1 name=$2 rc=0
	shift 2
	: > "$log"
	bash "$script" "$@" > "$work/out" 2>&1 || rc=$?
	cat "$log" >> "$log.all"
	if [[ $rc == "$want" ]]; then
		echo "ok: $name: exit $rc"
	else
		echo "FAIL: $name: exit $rc, want $want"
		sed 's/^/    /' "$work/out"
		fails=$((fails + 1))
	fi
}

# expect WHAT PATTERN FILE: grep -E for PATTERN must find a line.
expect() {
	if grep -qE -- "$2" "$3"; then
		echo "ok:   $1"
	else
		echo "FAIL:   $1: no line matching '$2' in:"
		sed 's/^/    /' "$3"
		fails=$((fails + 1))
	fi
}
expect_not() {
	if grep -qE -- "$2" "$3"; then
		echo "FAIL:   $1: a line matches '$2':"
		sed 's/^/    /' "$3"
		fails=$((fails + 1))
	else
		echo "ok:   $1"
	fi
}

common=(--source "$tree" --build-dir "$work/build" --nestvmm "$work/nestvmm" --l0 "$work/l0")

case ${1:-} in
args)
	: > "$log.all"
	run 0 help --help
	expect "help lists the exit codes" '^  125  skip' "$work/out"
	run 128 "no --arch" "${common[@]}"
	expect "says --arch is required" 'arch amd\|intel is required' "$work/out"
	run 128 "bad --arch" "${common[@]}" --arch arm
	run 128 "unknown option" "${common[@]}" --arch amd --frobnicate
	run 128 "option without its value" "${common[@]}" --arch
	run 128 "--jobs 0" "${common[@]}" --arch amd --jobs 0
	run 128 "--set without =" "${common[@]}" --arch amd --set KASAN
	run 128 "not a kernel tree" --arch amd --source "$work" --nestvmm "$work/nestvmm" --l0 "$work/l0"
	run 128 "missing nestvmm" --arch amd --source "$tree" --build-dir "$work/build" --nestvmm "$work/none" --l0 "$work/l0"
	run 128 "missing L0 runner" --arch amd --source "$tree" --build-dir "$work/build" --nestvmm "$work/nestvmm" --l0 "$work/none"
	touch "$tree/.config"
	run 128 "tree configured in place" "${common[@]}" --arch amd
	expect "says to run mrproper" 'mrproper' "$work/out"
	rm "$tree/.config"
	expect_not "nothing was built for any of the bad arguments" '^make' "$log.all"
	# The default source is the current directory, as under git bisect run.
	cd "$tree"
	run 0 "source defaults to the current directory" --arch amd --build-dir "$work/build" --config-only
	cd "$here"
	expect "... and that tree was configured" "^make -C $tree O=$work/build x86_64_defconfig\$" "$log"
	;;
config)
	run 0 "amd config" "${common[@]}" --arch amd --config-only
	expect "defconfig first, out of tree" "^make -C $tree O=$work/build x86_64_defconfig\$" "$log"
	expect "KVM and kvm_amd as modules" '^scripts/config --file .*/build/\.config .*--module KVM --module KVM_AMD( |$)' "$log"
	expect "SEV off (no ccp/PSP needed)" '^scripts/config .*--disable KVM_AMD_SEV( |$)' "$log"
	expect "module unloading on" '^scripts/config .*--enable MODULE_UNLOAD( |$)' "$log"
	expect "olddefconfig last" "^make -C $tree O=$work/build olddefconfig\$" "$log"
	[[ $(tail -n 1 "$log") == *olddefconfig ]] || { echo "FAIL:   olddefconfig is not the last step"; fails=$((fails + 1)); }
	expect "the .config has KVM_AMD=m" '^CONFIG_KVM_AMD=m$' "$work/build/.config"
	expect_not "--config-only builds nothing" 'bzImage|^l0' "$log"

	run 0 "intel config" "${common[@]}" --arch intel --config-only
	expect "KVM and kvm_intel as modules" '^scripts/config .*--module KVM --module KVM_INTEL( |$)' "$log"
	expect "CPU_SUP_INTEL" '^scripts/config .*--enable CPU_SUP_INTEL' "$log"
	expect_not "no AMD options for intel" 'KVM_AMD' "$log"

	run 0 "--set options" "${common[@]}" --arch amd --config-only --set KASAN=y --set CONFIG_NR_CPUS=4 \
		--set DEBUG_INFO=n --set E1000=m
	expect "--set SYM=y" '^scripts/config .*--enable KASAN' "$log"
	expect "--set SYM=m" '^scripts/config .*--module E1000' "$log"
	expect "--set SYM=n" '^scripts/config .*--disable DEBUG_INFO' "$log"
	expect "--set SYM=value (CONFIG_ prefix dropped)" '^scripts/config .*--set-val NR_CPUS 4' "$log"
	expect "the .config has NR_CPUS=4" '^CONFIG_NR_CPUS=4$' "$work/build/.config"

	FAKE_DROP=KVM_AMD run 125 "olddefconfig drops kvm_amd" "${common[@]}" --arch amd --config-only
	expect "names the dropped option" 'dropped: KVM_AMD=m' "$work/out"
	FAKE_DROP=KASAN run 125 "olddefconfig drops a --set option" "${common[@]}" --arch amd --config-only --set KASAN=y
	FAKE_FAIL=x86_64_defconfig run 125 "defconfig fails" "${common[@]}" --arch amd --config-only
	FAKE_FAIL=olddefconfig run 125 "olddefconfig fails" "${common[@]}" --arch amd --config-only
	;;
build)
	run 0 "full run" "${common[@]}" --arch amd --jobs 3 --results "$work/res" -- --timeout 5 --format ktap
	expect "bzImage and modules in one make" "^make -C $tree O=$work/build -j3 bzImage modules\$" "$log"
	expect "modules installed into the build dir" "INSTALL_MOD_PATH=$work/build/nestvmm-modules .*modules_install" "$log"
	expect "L0 gets kernel, modules, nestvmm, results, and --bisect first" \
		"^l0 --kernel $work/build/arch/x86/boot/bzImage --modules $work/build/nestvmm-modules --nestvmm $work/nestvmm --results $work/res -- --bisect --timeout 5 --format ktap\$" "$log"
	FAKE_FAIL=bzImage run 125 "kernel build fails" "${common[@]}" --arch amd
	expect_not "no L0 after a failed build" '^l0' "$log"
	FAKE_FAIL=modules_install run 125 "modules_install fails" "${common[@]}" --arch amd
	expect_not "no L0 after a failed install" '^l0' "$log"
	;;
exit-codes)
	# L0 runner exit -> git bisect answer (scripts/l0/README.md lists 100-104).
	for pair in 0:0 1:1 125:125 2:128 4:125 100:128 101:125 102:125 103:125 104:1 130:130 143:125; do
		FAKE_L0_EXIT=${pair%%:*} run "${pair#*:}" "L0 exit ${pair%%:*}" "${common[@]}" --arch amd
	done
	;;
kvm-only)
	# The fixture tree becomes a git history: base, then one commit per case.
	g() { git -C "$tree" -c user.name=t -c user.email=t@nestvmm.invalid "$@"; }
	mkdir -p "$tree/arch/x86/kvm/svm" "$tree/virt/kvm" "$tree/include/linux" "$tree/kernel"
	for f in arch/x86/kvm/svm/nested.c virt/kvm/kvm_main.c include/linux/kvm_host.h include/linux/kvmalloc.h \
		kernel/fork.c; do
		echo "/* $f */" > "$tree/$f"
	done
	g init -q && g add -A && g commit -qm base
	base=$(g rev-parse HEAD)
	pkg=(--base-package linux-image-6.12.117+deb12-amd64-unsigned --base "$base")
	run 0 "no changes since the base: KVM-only" "${common[@]}" --arch amd "${pkg[@]}"
	expect "says KVM-only" 'KVM-only step' "$work/out"
	expect "modules built from this tree for the package" \
		"^kvm-modules --kernel linux-image-6.12.117\+deb12-amd64-unsigned --source $tree --jobs " "$log"
	expect "L0 boots the package with the modules" \
		"^l0 --kernel linux-image-6.12.117\+deb12-amd64-unsigned --modules $work/kvm-out --nestvmm $work/nestvmm -- --bisect\$" "$log"
	expect_not "no kernel build" '^make' "$log"
	echo x >> "$tree/arch/x86/kvm/svm/nested.c"; echo x >> "$tree/virt/kvm/kvm_main.c"
	echo x >> "$tree/include/linux/kvm_host.h"
	g commit -qam "kvm only"
	run 0 "commits in arch/x86/kvm, virt/kvm, kvm_host.h: KVM-only" "${common[@]}" --arch amd "${pkg[@]}"
	expect "says KVM-only" 'KVM-only step' "$work/out"
	expect_not "no kernel build" '^make' "$log"
	FAKE_KVM_EXIT=1 run 125 "KVM modules do not build: skip" "${common[@]}" --arch amd "${pkg[@]}"
	expect_not "no L0 after a failed module build" '^l0' "$log"
	FAKE_KVM_EXIT=3 run 128 "kvm-modules.sh setup failure: abort" "${common[@]}" --arch amd "${pkg[@]}"
	echo x >> "$tree/include/linux/kvmalloc.h"
	run 0 "an uncommitted change outside KVM (kvmalloc.h is not a KVM header): full build" \
		"${common[@]}" --arch amd "${pkg[@]}"
	expect "says full build and names the file" 'full build: .*1 file\(s\) outside KVM, e.g. include/linux/kvmalloc.h' "$work/out"
	g checkout -q -- include/linux/kvmalloc.h
	echo x >> "$tree/kernel/fork.c"
	g commit -qam "not kvm"
	run 0 "a commit outside KVM: full build" "${common[@]}" --arch amd "${pkg[@]}"
	expect "says full build" 'full build: .*kernel/fork.c' "$work/out"
	expect "the kernel is built" 'bzImage modules' "$log"
	expect_not "no module-only build" '^kvm-modules' "$log"
	expect "L0 boots the built kernel" "^l0 --kernel $work/build/arch/x86/boot/bzImage" "$log"
	run 128 "--base-package without --base" "${common[@]}" --arch amd --base-package 6.12
	expect "says --base is needed" 'needs --base REF' "$work/out"
	run 128 "--base that is not a commit" "${common[@]}" --arch amd --base-package 6.12 --base nosuchref
	expect "names the bad --base" 'nosuchref is not a commit' "$work/out"
	run 128 "--base-package PATH" "${common[@]}" --arch amd --base-package /boot/vmlinuz --base "$base"
	;;
self-base)
	# --base REF alone: REF's kernel is built once into the cache and each
	# KVM-only step builds only modules against it.
	g() { git -C "$tree" -c user.name=t -c user.email=t@nestvmm.invalid "$@"; }
	mkdir -p "$tree/arch/x86/kvm/svm" "$tree/kernel"
	echo "/* nested */" > "$tree/arch/x86/kvm/svm/nested.c"
	echo "/* fork */" > "$tree/kernel/fork.c"
	g init -q && g add -A && g commit -qm base
	base=$(g rev-parse HEAD)
	echo x >> "$tree/arch/x86/kvm/svm/nested.c"
	g commit -qam "kvm only"
	run 0 "first KVM-only step: builds the base once" "${common[@]}" --arch amd --jobs 3 --base "$base"
	btree=$(g rev-parse "$base^{tree}")
	bases=("$work"/cache/kbase/linux-tree"${btree:0:12}"-*/)
	bdir=${bases[0]%/}
	[[ ${#bases[@]} == 1 && -d $bdir ]] || { echo "FAIL:   no single base directory: ${bases[*]}"; fails=$((fails + 1)); }
	expect "says the base is built once" "base kernel of ${base:0:12}: not cached; a full build" "$work/out"
	expect "the base is configured from REF's sources, out of tree" "^make -C $bdir/src O=$bdir/build x86_64_defconfig\$" "$log"
	expect "... and built there" "^make -C $bdir/src O=$bdir/build -j3 bzImage modules\$" "$log"
	expect "REF's sources come from git archive (the nested.c of REF)" '^/\* nested \*/$' "$bdir/src/arch/x86/kvm/svm/nested.c"
	[[ -e $bdir/src/.nestvmm-base-source ]] && echo "ok:   the sources are marked for kvm-modules.sh" ||
		{ echo "FAIL:   no $bdir/src/.nestvmm-base-source"; fails=$((fails + 1)); }
	expect "the base is complete" "^$base\$" "$bdir/.complete"
	expect "modules built against the base from this tree" "^kvm-modules --base-build $bdir/build --source $tree --jobs 3\$" "$log"
	expect "L0 boots the base with its modules and the new KVM" \
		"^l0 --kernel $bdir/build/arch/x86/boot/bzImage --modules $bdir/build/nestvmm-modules --kvm-modules $work/kvm-out --nestvmm $work/nestvmm -- --bisect\$" "$log"
	expect_not "the tree under bisection is not built" "^make -C $tree " "$log"
	[[ -z $(g status --porcelain) ]] || { echo "FAIL:   the tree under bisection changed: $(g status --porcelain)"; fails=$((fails + 1)); }

	run 0 "second KVM-only step: the cached base" "${common[@]}" --arch amd --base "$base"
	expect "says cached" "base kernel of ${base:0:12}: cached in $bdir" "$work/out"
	expect_not "no kernel build at all" '^make' "$log"
	expect "modules again" "^kvm-modules --base-build $bdir/build " "$log"

	run 0 "another configuration (--set): another base" "${common[@]}" --arch amd --base "$base" --set KASAN=y
	expect "a new base build" "not cached; a full build" "$work/out"
	expect_not "not the first base" "O=$bdir/build" "$log"
	run 0 "another vendor: another base" "${common[@]}" --arch intel --base "$base"
	expect "a new base build for intel" "not cached; a full build" "$work/out"
	# The same sources in another commit (a recreated history): the same base.
	rebase=$(g commit-tree "$base^{tree}" -m "base, recreated")
	run 0 "another commit with the base's tree: the cached base" "${common[@]}" --arch amd --base "$rebase"
	expect "says cached, built from the first commit" "base kernel of ${rebase:0:12}: cached in $bdir \\(built from $base\\)" "$work/out"
	expect_not "no kernel build" '^make' "$log"

	FAKE_KVM_EXIT=1 run 125 "KVM modules do not build against the base: skip" "${common[@]}" --arch amd --base "$base"
	expect_not "no L0 after a failed module build" '^l0' "$log"

	# A base that does not build would fail every KVM-only step: abort.
	echo y >> "$tree/arch/x86/kvm/svm/nested.c"
	g commit -qam "kvm again"
	FAKE_FAIL=bzImage run 128 "the base does not build: abort" "${common[@]}" --arch amd --base HEAD~1
	expect "names the base" "base kernel \($(g rev-parse --short=12 HEAD~1)\) did not configure or build" "$work/out"
	expect_not "no L0" '^l0' "$log"
	bad=("$work"/cache/kbase/linux-tree"$(g rev-parse "HEAD~1^{tree}" | cut -c1-12)"-*/)
	[[ ! -e ${bad[0]}.complete ]] || { echo "FAIL:   a failed base is marked complete"; fails=$((fails + 1)); }
	run 0 "... and is built again next time" "${common[@]}" --arch amd --base HEAD~1
	expect "rebuilt" "not cached; a full build" "$work/out"

	echo x >> "$tree/kernel/fork.c"
	g commit -qam "not kvm"
	run 0 "a commit outside KVM: the full build, not the base" "${common[@]}" --arch amd --base "$base"
	expect "says full build" 'full build: .*kernel/fork.c' "$work/out"
	expect "this commit is built in --build-dir" "^make -C $tree O=$work/build -j[0-9]+ bzImage modules\$" "$log"
	expect_not "no base, no module-only build" '^kvm-modules|kbase' "$log"
	;;
*)
	echo "usage: bisect-kernel-test.sh args|config|build|exit-codes|kvm-only|self-base" >&2
	exit 2
	;;
esac
[[ $fails == 0 ]]
