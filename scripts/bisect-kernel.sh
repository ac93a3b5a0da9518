#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Find the kernel commit that broke (or fixed) nested virtualization:
#
#   cd linux && git bisect start BAD GOOD
#   git bisect run /path/to/nestvmm/scripts/bisect-kernel.sh --arch amd
#
# For the commit checked out in the kernel tree (the current directory, or
# --source), build a small kernel with KVM and the vendor module, boot it as
# the L0 of an emulated machine (scripts/l0: QEMU for AMD, Bochs for Intel)
# and run `nestvmm --bisect` inside it. The exit code is git bisect's answer.
#
# With --base REF, a commit whose changes since REF touch only KVM
# (arch/x86/kvm, virt/kvm, KVM headers) costs no kernel build: the kernel of
# REF is built once per configuration and kept in the cache, and each such
# step builds only the KVM modules (scripts/kvm-modules.sh --base-build) and
# boots that kernel with them. With --base-package PKG as well (REF: the
# commit holding the sources of Debian kernel PKG), no kernel is built at
# all: the modules are built for PKG and loaded into PKG's kernel.
set -euo pipefail

readonly EXIT_GOOD=0 EXIT_BAD=1 EXIT_SKIP=125
# Above 127 git bisect run stops: for mistakes that would hit every commit
# alike (bad arguments, missing tools), skipping them all would be wrong.
readonly EXIT_ABORT=128

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
	cat <<EOF
usage: bisect-kernel.sh --arch amd|intel [options] [-- NESTVMM_ARGS...]

Build the kernel source tree at its current commit with KVM, boot it as the
L0 of an emulated machine, run nestvmm --bisect inside, exit for git bisect run.

  --arch amd|intel   vendor: kvm_amd under QEMU, or kvm_intel under Bochs (required)
  --source DIR       kernel source tree (default: the current directory)
  --build-dir DIR    out-of-tree build directory, kept between commits so
                     builds are incremental (default: ~/.cache/nestvmm/kbuild/NAME)
  --jobs N           parallel make jobs (default: number of CPUs)
  --set SYM=VALUE    one more kernel option (y, m, n, or a value); repeatable
  --nestvmm PATH     static nestvmm binary (default: build/nestvmm of this repository)
  --l0 PATH          L0 runner (default: scripts/l0/qemu-amd.sh or bochs-intel.sh)
  --results DIR      keep the L0's console log and nestvmm's outputs here
  --config-only      write the build directory's .config and stop (exit 0)
  --base REF         a commit (e.g. the good end of the bisection) whose
                     kernel is built once for this configuration and cached
                     (\$NESTVMM_CACHE/kbase/, keyed by REF's source tree): a commit whose changes since
                     REF touch only KVM is tested as that kernel with KVM
                     modules built from this tree; one that touches more gets
                     the full build (and the log says so)
  --base-package PKG with --base: a packaged Debian kernel (linux-image-PKG,
                     6.1, 6.12) as the base instead, REF being the commit
                     whose sources are PKG's (e.g. a commit of Debian's
                     linux-source): no kernel is built for KVM-only commits
  -- NESTVMM_ARGS    more nestvmm arguments (--bisect is always given)
  -h, --help         this text

Kernel config: x86_64_defconfig, then the tree's own scripts/config enables
KVM and the vendor module as modules (KVM_AMD without SEV, so no ccp/PSP),
module unloading (the L0 reloads KVM with nested=1), then make olddefconfig.
Options that olddefconfig drops (missing dependencies) are an error.

KVM-only steps (--base): git diff --name-only REF (working tree included)
must list only paths under \`scripts/kvm-modules.sh --kvm-paths\`. With a
self-built base the first step builds REF's kernel (a full build, from
\`git archive REF\`, with the configuration above) into the cache, keyed by
REF and the configuration; each KVM-only step then builds the modules
against it (kvm-modules.sh --base-build) and the L0 boots its bzImage with
its modules and the new KVM (scripts/l0 --kvm-modules DIR). With
--base-package the modules are built against PKG's configuration and symbol
versions, and the L0 boots PKG's image with them (--kernel PKG --modules DIR).

Exit status, as git bisect run reads it:
    0  good: every nestvmm stage passed
    1  bad:  a nesting stage failed (l1.enable onwards), or the L0 kernel
             died while nestvmm was running (panic or reset: runner code 104)
  125  skip: this commit cannot be tested: the config, kernel build or
             module install failed, the L0 did not boot (101), KVM modules
             did not load (102), the L0 timed out (103), or nestvmm could
             not test nesting (its own 125: a stage skipped, setup failed)
  128  abort the bisection: bad arguments, missing tools or nestvmm binary,
             an L0 setup error (100) or nestvmm usage error (2), which would
             hit every commit alike; 130 when interrupted
EOF
}

say() { printf 'bisect-kernel: %s\n' "$*" >&2; }
abort() {
	say "error: $*"
	exit "$EXIT_ABORT"
}
skip() {
	say "cannot test this commit: $*"
	exit "$EXIT_SKIP"
}

ARCH="" SOURCE=$PWD BUILD_DIR="" JOBS="" NESTVMM="$REPO/build/nestvmm" L0="" RESULTS=""
CONFIG_ONLY=0 BASE_PACKAGE="" BASE_REF="" BASE_DIR=""
KVM_MODULES=${KVM_MODULES:-$REPO/scripts/kvm-modules.sh}
SETS=()
NESTVMM_ARGS=()

parse_args() {
	while [[ $# -gt 0 ]]; do
		case $1 in
		--arch | --source | --build-dir | --jobs | --set | --nestvmm | --l0 | --results | --base-package | --base)
			[[ $# -ge 2 ]] || abort "$1 needs a value (see --help)"
			;;
		esac
		case $1 in
		--arch) ARCH=$2 ;;
		--source) SOURCE=$2 ;;
		--build-dir) BUILD_DIR=$2 ;;
		--jobs)
			[[ $2 =~ ^[1-9][0-9]*$ ]] || abort "--jobs takes a positive number, not '$2'"
			JOBS=$2
			;;
		--set)
			[[ $2 =~ ^[A-Z0-9_]+=.+$ ]] || abort "--set takes SYMBOL=VALUE (no CONFIG_ prefix needed), not '$2'"
			SETS+=("${2#CONFIG_}")
			;;
		--nestvmm) NESTVMM=$2 ;;
		--l0) L0=$2 ;;
		--results) RESULTS=$2 ;;
		--base-package) BASE_PACKAGE=$2 ;;
		--base) BASE_REF=$2 ;;
		--config-only) CONFIG_ONLY=1 ;;
		-h | --help)
			usage
			exit 0
			;;
		--)
			shift
			NESTVMM_ARGS=("$@")
			break
			;;
		*) abort "unknown option '$1' (see --help)" ;;
		esac
		case $1 in
		--config-only) shift ;;
		*) shift 2 ;;
		esac
	done
	case $ARCH in
	amd) VENDOR_SYM=KVM_AMD CPU_SYM=CPU_SUP_AMD L0=${L0:-$REPO/scripts/l0/qemu-amd.sh} ;;
	intel) VENDOR_SYM=KVM_INTEL CPU_SYM=CPU_SUP_INTEL L0=${L0:-$REPO/scripts/l0/bochs-intel.sh} ;;
	"") abort "--arch amd|intel is required" ;;
	*) abort "--arch must be amd or intel, not '$ARCH'" ;;
	esac
	[[ -f $SOURCE/Makefile && -x $SOURCE/scripts/config && -d $SOURCE/arch/x86 ]] ||
		abort "$SOURCE is not a kernel source tree (no Makefile, scripts/config or arch/x86)"
	# Out-of-tree builds (O=) refuse a source tree that was configured in place.
	[[ ! -e $SOURCE/.config ]] || abort "$SOURCE has a .config: run make mrproper there (builds go to --build-dir)"
	SOURCE=$(cd "$SOURCE" && pwd)
	BUILD_DIR=${BUILD_DIR:-${NESTVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestvmm}/kbuild/$(basename "$SOURCE")}
	JOBS=${JOBS:-$(nproc)}
	if [[ -n $BASE_PACKAGE || -n $BASE_REF ]]; then
		[[ -n $BASE_REF ]] ||
			abort "--base-package needs --base REF, the commit holding the package's sources"
		case $BASE_PACKAGE in
		*/*) abort "--base-package takes a Debian kernel (linux-image-PKG, 6.1, 6.12), not a path" ;;
		esac
		git -C "$SOURCE" rev-parse -q --verify "$BASE_REF^{commit}" >/dev/null ||
			abort "--base $BASE_REF is not a commit of $SOURCE"
		BASE_REF=$(git -C "$SOURCE" rev-parse "$BASE_REF^{commit}")
	fi
	if [[ $CONFIG_ONLY == 0 ]]; then
		[[ -x $NESTVMM ]] || abort "nestvmm binary not found: $NESTVMM (build it, or give --nestvmm)"
		[[ -x $L0 ]] || abort "L0 runner not found: $L0"
	fi
}

# Without these every commit's build would fail and be skipped: stop instead.
check_tools() {
	local t missing=()
	[[ -z ${MAKE:-} ]] || return 0    # a stand-in make (tests) needs none of them
	for t in make gcc flex bison bc perl; do
		command -v "$t" > /dev/null || missing+=("$t")
	done
	echo '#include <gelf.h>' | gcc -E -x c - > /dev/null 2>&1 || missing+=("libelf headers (libelf-dev)")
	[[ ${#missing[@]} == 0 ]] ||
		abort "kernel build tools missing: ${missing[*]} (apt-get install build-essential flex bison bc libelf-dev libssl-dev)"
}

# make_kernel TARGET...: make in the source tree, building into BUILD_DIR.
make_kernel() {
	"${MAKE:-make}" -C "$SOURCE" O="$BUILD_DIR" "$@"
}

# The options a nested L0 needs, as arguments to the tree's scripts/config.
config_args() {
	local s
	printf '%s\n' --enable "$CPU_SYM" --enable VIRTUALIZATION --module KVM --module "$VENDOR_SYM" \
		--enable MODULES --enable MODULE_UNLOAD --disable MODULE_SIG --disable MODULE_COMPRESS \
		--enable BLK_DEV_INITRD --enable RD_GZIP --enable DEVTMPFS --enable SERIAL_8250_CONSOLE
	[[ $ARCH != amd ]] || printf '%s\n' --disable KVM_AMD_SEV
	for s in "${SETS[@]}"; do
		case ${s#*=} in
		y) printf '%s\n' --enable "${s%%=*}" ;;
		m) printf '%s\n' --module "${s%%=*}" ;;
		n) printf '%s\n' --disable "${s%%=*}" ;;
		*) printf '%s\n' --set-val "${s%%=*}" "${s#*=}" ;;
		esac
	done
}

# After olddefconfig: what we asked for must still be there.
check_config() {
	local want=("KVM=m" "$VENDOR_SYM=m" "MODULE_UNLOAD=y" "BLK_DEV_INITRD=y") s missing=()
	for s in "${SETS[@]}"; do
		case ${s#*=} in
		n) grep -q "^CONFIG_${s%%=*}=" "$BUILD_DIR/.config" && missing+=("${s%%=*} is set, want n") ;;
		*) want+=("$s") ;;
		esac
	done
	for s in "${want[@]}"; do
		grep -qxF "CONFIG_$s" "$BUILD_DIR/.config" ||
			grep -qxF "CONFIG_${s%%=*}=\"${s#*=}\"" "$BUILD_DIR/.config" || missing+=("$s")
	done
	[[ ${#missing[@]} == 0 ]] || skip "make olddefconfig dropped: ${missing[*]} (dependencies not met at this commit?)"
}

configure() {
	local args
	mkdir -p "$BUILD_DIR" || abort "cannot create build directory $BUILD_DIR"
	say "configuring $SOURCE ($(git -C "$SOURCE" rev-parse --short HEAD 2>/dev/null || echo 'not a git tree')) in $BUILD_DIR"
	make_kernel x86_64_defconfig >&2 || skip "make x86_64_defconfig failed"
	mapfile -t args < <(config_args)
	"$SOURCE/scripts/config" --file "$BUILD_DIR/.config" "${args[@]}" || skip "scripts/config failed"
	make_kernel olddefconfig >&2 || skip "make olddefconfig failed"
	check_config
}

build() {
	say "building bzImage and modules with $JOBS jobs"
	make_kernel -j"$JOBS" bzImage modules >&2 || skip "kernel build failed"
	rm -rf "$BUILD_DIR/nestvmm-modules"
	make_kernel INSTALL_MOD_PATH="$BUILD_DIR/nestvmm-modules" INSTALL_MOD_STRIP=1 modules_install >&2 ||
		skip "modules_install failed"
	[[ -f $BUILD_DIR/arch/x86/boot/bzImage ]] || skip "no arch/x86/boot/bzImage after the build"
}

# --- the self-built base (--base without --base-package) ---------------------

# base_key: the cache key of REF's kernel for this configuration (vendor
# and --set options: whatever config_args gives scripts/config).
base_key() {
	{ echo "x86_64_defconfig"; config_args; } | sha256sum | cut -c1-12
}

# ensure_base: build REF's kernel once into BASE_DIR (sources from git
# archive, so the tree under bisection is never touched). The cache is keyed
# by REF's tree, not the commit: the same sources (a rebased or recreated
# history) reuse the same base. Its failure would hit every KVM-only commit
# alike: abort rather than skip them all.
ensure_base() {
	local start=$SECONDS lock_fd rc=0 tree
	tree=$(git -C "$SOURCE" rev-parse "$BASE_REF^{tree}") || abort "git rev-parse $BASE_REF^{tree} failed in $SOURCE"
	BASE_DIR=${NESTVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestvmm}/kbase/$(basename "$SOURCE")-tree${tree:0:12}-$(base_key)
	mkdir -p "$BASE_DIR" || abort "cannot create the base kernel's directory $BASE_DIR"
	# Concurrent bisections of the same base wait for one build.
	exec {lock_fd}>"$BASE_DIR.lock"
	flock "$lock_fd"
	if [[ -e $BASE_DIR/.complete ]]; then
		say "base kernel of ${BASE_REF:0:12}: cached in $BASE_DIR (built from $(<"$BASE_DIR/.complete"))"
		return 0
	fi
	say "base kernel of ${BASE_REF:0:12}: not cached; a full build, once for this commit and configuration, into $BASE_DIR"
	rm -rf "$BASE_DIR/src" "$BASE_DIR/build"
	mkdir -p "$BASE_DIR/src"
	git -C "$SOURCE" archive "$BASE_REF" | tar -x -C "$BASE_DIR/src" ||
		abort "git archive $BASE_REF failed in $SOURCE"
	# kvm-modules.sh resets and patches the KVM files of these sources.
	touch "$BASE_DIR/src/.nestvmm-base-source"
	(
		SOURCE=$BASE_DIR/src BUILD_DIR=$BASE_DIR/build
		configure
		build
	) || rc=$?
	[[ $rc == 0 ]] || abort "the base kernel (${BASE_REF:0:12}) did not configure or build (exit $rc): every KVM-only step needs it; pick another --base"
	git -C "$SOURCE" rev-parse "$BASE_REF" >"$BASE_DIR/.complete"
	say "base kernel built in $((SECONDS - start))s: $BASE_DIR/build/arch/x86/boot/bzImage"
}

# full_step: configure and build the whole kernel of this commit.
full_step() {
	check_tools
	configure
	[[ $CONFIG_ONLY == 0 ]] || exit 0
	build
}

# bisect_code L0_EXIT: the L0 runner's exit code (nestvmm's own when it ran) as git bisect's answer.
bisect_code() {
	case $1 in
	0) echo "$EXIT_GOOD" ;;
	1 | 104) echo "$EXIT_BAD" ;;
	2 | 100) echo "$EXIT_ABORT" ;;
	130) echo 130 ;;
	*) echo "$EXIT_SKIP" ;;    # 125 and 101-103, and nestvmm codes --bisect never gives
	esac
}

answer() {
	case $1 in
	0) echo good ;;
	1) echo bad ;;
	125) echo skip ;;
	*) echo "abort the bisection" ;;
	esac
}

# kvm_only_changes: true when everything that differs from BASE_REF (commits
# and uncommitted changes) is a KVM path; NON_KVM lists the other paths.
kvm_only_changes() {
	local spec excludes=()
	while IFS= read -r spec; do
		excludes+=(":(glob,exclude)$spec" ":(glob,exclude)$spec/**")
	done < <("$KVM_MODULES" --kvm-paths)
	[[ ${#excludes[@]} -gt 0 ]] || abort "$KVM_MODULES --kvm-paths printed nothing"
	NON_KVM=$(git -C "$SOURCE" diff --name-only "$BASE_REF" -- . "${excludes[@]}") ||
		abort "git diff $BASE_REF failed in $SOURCE"
	[[ -z $NON_KVM ]]
}

# build_kvm_only: the KVM modules of this tree for BASE_PACKAGE; sets
# KVM_OUT. kvm-modules.sh exits 1 when the build (or applying this tree's
# KVM files) fails: this commit cannot be tested. Anything else would hit
# every commit alike.
build_kvm_only() {
	local rc=0 start=$SECONDS base
	if [[ -n $BASE_PACKAGE ]]; then
		base=(--kernel "$BASE_PACKAGE")
		say "KVM-only step: changes since ${BASE_REF:0:12} touch only KVM; building the KVM modules for $BASE_PACKAGE"
	else
		base=(--base-build "$BASE_DIR/build")
		say "KVM-only step: changes since ${BASE_REF:0:12} touch only KVM; building the KVM modules for the base kernel"
	fi
	KVM_OUT=$("$KVM_MODULES" "${base[@]}" --source "$SOURCE" --jobs "$JOBS") || rc=$?
	case $rc in
	0) say "KVM modules built in $((SECONDS - start))s: $KVM_OUT" ;;
	1) skip "the KVM modules did not build" ;;
	*) abort "scripts/kvm-modules.sh failed (exit $rc) before building" ;;
	esac
}

main() {
	local rc=0 code l0_args
	parse_args "$@"
	if [[ -n $BASE_REF && $CONFIG_ONLY == 0 ]] && kvm_only_changes; then
		if [[ -n $BASE_PACKAGE ]]; then
			build_kvm_only
			l0_args=(--kernel "$BASE_PACKAGE" --modules "$KVM_OUT" --nestvmm "$NESTVMM")
		else
			check_tools
			ensure_base
			build_kvm_only
			l0_args=(--kernel "$BASE_DIR/build/arch/x86/boot/bzImage" --modules "$BASE_DIR/build/nestvmm-modules"
				--kvm-modules "$KVM_OUT" --nestvmm "$NESTVMM")
		fi
	else
		if [[ -n $BASE_REF && $CONFIG_ONLY == 0 ]]; then
			say "full build: changes since ${BASE_REF:0:12} touch $(wc -l <<<"$NON_KVM") file(s) outside KVM, e.g. $(head -n 1 <<<"$NON_KVM")"
		fi
		full_step
		l0_args=(--kernel "$BUILD_DIR/arch/x86/boot/bzImage" --modules "$BUILD_DIR/nestvmm-modules"
			--nestvmm "$NESTVMM")
	fi
	[[ -z $RESULTS ]] || l0_args+=(--results "$RESULTS")
	say "running nestvmm --bisect${NESTVMM_ARGS[*]:+ ${NESTVMM_ARGS[*]}} in the L0 ($L0)"
	"$L0" "${l0_args[@]}" -- --bisect "${NESTVMM_ARGS[@]}" || rc=$?
	code=$(bisect_code "$rc")
	say "L0 runner exit $rc: $(answer "$code") ($code)"
	exit "$code"
}

main "$@"
