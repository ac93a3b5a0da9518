#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build kvm.ko, kvm-amd.ko and kvm-intel.ko for a packaged Debian kernel,
# optionally with a patch (a fix to try, or a deliberate bug), without
# building a kernel:
#
#   scripts/kvm-modules.sh --kernel 6.12 --patch my-fix.patch
#   scripts/l0/qemu-amd.sh --kernel 6.12 --modules DIR -- --arch amd
#
# The matching Debian linux-source (same version as the image) is unpacked
# once, configured with the image's own .config (from linux-headers, debug
# info off), prepared with `make modules_prepare KERNELRELEASE=<uname -r>`,
# and given the headers' Module.symvers without kvm.ko's own exports. Each
# build then resets the KVM sources, applies the patches and runs
# `make M=arch/x86/kvm`: the modules load into the packaged kernel (same
# vermagic and symbol CRCs), unsigned. See --help.
#
# With --base-build DIR instead, the kernel is one you built (out of tree,
# O=DIR; scripts/bisect-kernel.sh makes and caches such a base): the modules
# are built against DIR with its own configuration and symbol versions.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/l0/lib.sh
source "$HERE/l0/lib.sh"

readonly EXIT_BUILD=1 EXIT_USAGE=2 EXIT_SETUP=3

# The files a module-only build takes from the kernel tree: a patch or a
# source tree may change these and nothing else. (git pathspecs; also what
# scripts/bisect-kernel.sh asks git about, through --kvm-paths.)
# Guest-side headers (asm/kvmclock.h, linux/kvm_para.h is shared) are left
# out where the names allow: they are compiled into vmlinux too.
readonly KVM_PATHS=(arch/x86/kvm virt/kvm 'include/linux/kvm_*.h' 'include/uapi/linux/kvm*.h'
	'arch/x86/include/asm/kvm_*.h' 'arch/x86/include/asm/kvm-x86-*.h' 'arch/x86/include/uapi/asm/kvm*.h'
	include/trace/events/kvm.h)

# Build products that lie among the KVM files of a tree that was built in
# place (objects, kbuild's .cmd/.d files, generated offsets): never part of
# the KVM sources, so neither the repository below nor a --source diff takes
# them (git add -f, which Debian's "ignore everything" .gitignore needs,
# would). As git exclude pathspecs.
readonly BUILD_PRODUCTS=('*.o' '*.ko' '*.a' '*.s' '*.mod' '*.mod.c' '*.order' '*.symvers' '.*.cmd' '.*.d'
	'kvm-asm-offsets.h')
excludes() {
	local p
	for p in "${BUILD_PRODUCTS[@]}"; do printf ':(exclude,glob)**/%s\n' "$p"; done
}

usage() {
	cat <<EOF
usage: scripts/kvm-modules.sh --kernel SPEC [--patch FILE]... [--source DIR] [--out DIR] [--jobs N]
       scripts/kvm-modules.sh --base-build DIR [--patch FILE]... [--source DIR] [--out DIR] [--jobs N]
       scripts/kvm-modules.sh --kvm-paths

Build kvm.ko, kvm-amd.ko and kvm-intel.ko for a packaged Debian kernel from
its matching linux-source, and print the directory holding them (give it to
scripts/l0/qemu-amd.sh or bochs-intel.sh as --modules DIR, with the same
--kernel).

  --kernel SPEC   6.1 | 6.12 (newest of that series) | linux-image-PKG; needs
                  linux-headers and linux-source of the same version in apt
  --base-build DIR
                  instead of a package: a kernel you built out of tree (make
                  O=DIR, with modules) from sources that only this script
                  changes: DIR/source must hold the file .nestvmm-base-source
                  (scripts/bisect-kernel.sh --base REF makes such bases); the
                  modules fit that kernel (give them to scripts/l0 as
                  --kvm-modules with --kernel DIR/arch/x86/boot/bzImage)
  --patch FILE    apply FILE (unified diff, paths a/... b/... as git diff
                  writes them) before building; repeatable, applied in order
  --source DIR    take the KVM files (below) from kernel tree DIR instead of
                  the package's (or base's) source, e.g. a git checkout based on it
  --out DIR       copy the modules and BUILD-INFO here (default: a cache
                  directory per kernel and patch set, reused when it exists)
  --jobs N        make jobs (default 2)
  --kvm-paths     print the KVM paths (git pathspecs) one per line and exit
  -h, --help      this text

Patches and --source may change only the KVM files: $(printf '%s ' "${KVM_PATHS[@]}")

Cache: \${NESTVMM_CACHE:-~/.cache/nestvmm}/kvm-build/RELEASE/ (prepared tree
~1.6 GB per kernel, made once in ~1 min; a build after a small change takes
seconds, the first full KVM build ~1-2 min with 2 jobs); with --base-build,
DIR/nestvmm-kvm/.
Exit: 0 built, 1 the KVM build or a patch failed, 2 bad arguments or input,
3 setup failed (apt, download, unpacking, modules_prepare).
EOF
}

# Messages go to stderr; stdout carries only the output directory.
say() { printf 'kvm-modules: %s\n' "$*" >&2; }
die() {
	local code=$1
	shift
	printf 'kvm-modules: error: %s\n' "$*" >&2
	exit "$code"
}
# lib.sh's helpers (package resolution, downloads) report setup errors.
setup_error() { die "$EXIT_SETUP" "$@"; }
usage_error() { die "$EXIT_USAGE" "$@"; }

KERNEL_SPEC="" BASE_BUILD="" SOURCE_DIR="" OUT_DIR="" JOBS=2
PATCHES=()

parse_args() {
	while [[ $# -gt 0 ]]; do
		case $1 in
		--kernel | --base-build | --patch | --source | --out | --jobs)
			[[ $# -ge 2 ]] || usage_error "$1 needs a value (see --help)"
			;;
		esac
		case $1 in
		--kernel) KERNEL_SPEC=$2 ;;
		--base-build)
			[[ -d $2 ]] || usage_error "--base-build $2: no such directory"
			BASE_BUILD=$(realpath "$2")
			;;
		--patch)
			[[ -f $2 && -r $2 ]] || usage_error "patch not found or unreadable: $2"
			PATCHES+=("$(realpath "$2")")
			;;
		--source)
			[[ -d $2/arch/x86/kvm && -d $2/virt/kvm ]] ||
				usage_error "--source $2 is not a kernel tree (no arch/x86/kvm or virt/kvm)"
			SOURCE_DIR=$(realpath "$2")
			;;
		--out) OUT_DIR=$2 ;;
		--jobs)
			[[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "--jobs takes a positive number, not '$2'"
			JOBS=$2
			;;
		--kvm-paths)
			printf '%s\n' "${KVM_PATHS[@]}"
			exit 0
			;;
		-h | --help)
			usage
			exit 0
			;;
		*) usage_error "unknown option '$1' (see --help)" ;;
		esac
		case $1 in
		--kvm-paths | -h | --help) shift ;;
		*) shift 2 ;;
		esac
	done
	[[ -z $KERNEL_SPEC || -z $BASE_BUILD ]] ||
		usage_error "--kernel and --base-build both name the kernel to build for: give one"
	[[ -z $BASE_BUILD ]] || return 0
	[[ -n $KERNEL_SPEC ]] || usage_error "--kernel is required (6.1, 6.12 or linux-image-PKG), or --base-build DIR"
	case $KERNEL_SPEC in
	*/*) usage_error "--kernel takes a Debian kernel (6.1, 6.12, linux-image-PKG), not a path: for your own kernel build, build its modules there" ;;
	esac
}

# --- which kernel --------------------------------------------------------------
# The image package names the release (uname -r); linux-headers-RELEASE has
# the image's .config and Module.symvers, and its version is the version of
# the linux-source package with the same sources.

resolve_versions() {
	PACKAGE=$(resolve_kernel_package "$KERNEL_SPEC")
	RELEASE=${PACKAGE#linux-image-}
	RELEASE=${RELEASE%-unsigned}
	[[ $RELEASE =~ ^([0-9]+\.[0-9]+)[.-] ]] || usage_error "cannot read a kernel release from package $PACKAGE"
	SERIES=${BASH_REMATCH[1]}
	HEADERS_PKG=linux-headers-$RELEASE
	VERSION=$(apt-cache show --no-all-versions "$HEADERS_PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1 || true)
	# Lists that do not even know the image are stale: update them once.
	[[ -n $VERSION ]] || apt-cache show "$PACKAGE" >/dev/null 2>&1 || {
		apt_update_once
		VERSION=$(apt-cache show --no-all-versions "$HEADERS_PKG" 2>/dev/null | sed -n 's/^Version: //p' | head -n 1 || true)
	}
	[[ -n $VERSION ]] ||
		usage_error "$HEADERS_PKG is not in apt, so the configuration and symbol versions of $PACKAGE are unknown (Debian keeps headers only for some builds: apt-cache pkgnames linux-headers-$SERIES)"
	SOURCE_PKG=linux-source-$SERIES
	apt-cache show "$SOURCE_PKG=$VERSION" >/dev/null 2>&1 ||
		usage_error "$SOURCE_PKG $VERSION (the sources of $PACKAGE) is not in apt; it has: $(apt-cache madison "$SOURCE_PKG" 2>/dev/null | awk '{ printf "%s ", $3 }')"
	BUILD_ROOT=$L0_CACHE/kvm-build/$RELEASE
	TREE=$BUILD_ROOT/tree
}

# A kernel built out of tree: DIR has the configuration, the symbol versions
# and the release; DIR/source is the source tree, which each build resets
# and patches, so it must be one made for this (the marker file).
resolve_base_build() {
	local f
	for f in .config Module.symvers include/config/kernel.release Makefile; do
		[[ -f $BASE_BUILD/$f ]] ||
			usage_error "--base-build $BASE_BUILD has no $f: not a finished out-of-tree kernel build with modules (make O=DIR bzImage modules)"
	done
	grep -qx 'CONFIG_KVM=m' "$BASE_BUILD/.config" ||
		usage_error "--base-build $BASE_BUILD: its kernel has no modular KVM (CONFIG_KVM=m), so no KVM module can replace it"
	TREE=$(realpath "$BASE_BUILD/source" 2>/dev/null) && [[ -f $TREE/Makefile ]] ||
		usage_error "--base-build $BASE_BUILD has no source link to its kernel sources"
	[[ -e $TREE/.nestvmm-base-source ]] ||
		usage_error "--base-build: $TREE has no .nestvmm-base-source: its KVM files are reset by every build, so give a base made by scripts/bisect-kernel.sh --base REF (or mark a private copy of the sources with that file)"
	RELEASE=$(<"$BASE_BUILD/include/config/kernel.release")
	PACKAGE="kernel build $BASE_BUILD"
	SOURCE_PKG="sources" VERSION=$TREE
	BUILD_ROOT=$BASE_BUILD/nestvmm-kvm
}

# --- the prepared tree (once per kernel) ------------------------------------------

# download_deb DIR PKG=VERSION: apt-get download into DIR.
download_deb() {
	(cd "$1" && apt-get download -q "$2" >>download.log 2>&1) || {
		apt_update_once
		(cd "$1" && apt-get download -q "$2" >>download.log 2>&1)
	} || {
		grep -E '^E:' "$1/download.log" >&2 || true
		setup_error "apt-get download $2 failed"
	}
}

# The image's own config, verbatim except for signing at build time and
# Debian's certificate files, which only `make` of the whole kernel needs.
# Everything else must stay: options such as DEBUG_INFO_BTF_MODULES change
# struct module (the loader then fails with "Invalid relocation target"), so
# debug info is left on in the config and only the compiler is told -g0
# (KCFLAGS); without the image's vmlinux, kbuild skips module BTF anyway.
configure_tree() {
	local hdr=$1 changed
	cp "$hdr/.config" "$TREE/.config"
	"$TREE/scripts/config" --file "$TREE/.config" --disable MODULE_SIG_ALL --set-str SYSTEM_TRUSTED_KEYS "" \
		--set-str SYSTEM_REVOCATION_KEYS "" || setup_error "scripts/config failed"
	make -C "$TREE" -s olddefconfig >&2 || setup_error "make olddefconfig failed"
	# Options olddefconfig changed are options this machine's tools lack
	# (pahole for BTF, a gcc feature): refuse rather than build modules that
	# do not fit the kernel.
	changed=$(diff <(config_lines "$hdr/.config") <(config_lines "$TREE/.config") |
		sed -n 's/^[<>] //p' | grep -Ev '^CONFIG_(MODULE_SIG_ALL|SYSTEM_TRUSTED_KEYS|SYSTEM_REVOCATION_KEYS|CC_VERSION_TEXT|GCC_VERSION|LD_VERSION|AS_VERSION|PAHOLE_VERSION|CC_IMPLICIT_FALLTHROUGH|RUSTC_[A-Z_]*|BINDGEN_VERSION_TEXT)=' |
		sed 's/=.*//' | sort -u | tr '\n' ' ' || true)
	[[ -z $changed ]] ||
		setup_error "this machine's tools change the kernel's configuration ($changed); install what the image was built with (gcc-12, dwarves for pahole)"
	local theirs ours
	theirs=$(sed -n 's/^CONFIG_GCC_VERSION=//p' "$hdr/.config")
	ours=$(sed -n 's/^CONFIG_GCC_VERSION=//p' "$TREE/.config")
	[[ $theirs == "$ours" ]] || say "warning: the kernel was built with gcc $theirs, this machine has $ours"
}

# config_lines FILE: its set options, sorted (unset ones are "is not set" comments).
config_lines() {
	grep '^CONFIG_' "$1" | sort
}

# Bumped when the preparation changes, so older cached trees are redone.
readonly PREPARE_FORMAT=2

# prepare_base: once per base build: kvm.ko's own exports out of the
# symbol versions (the full list stays as Module.symvers.full), and the git
# repository over the KVM files of its sources.
prepare_base() {
	grep -qx "format=$PREPARE_FORMAT" "$BUILD_ROOT/.prepared" 2>/dev/null &&
		grep -qx "paths=$(paths_key)" "$BUILD_ROOT/.prepared" && return 0
	need_pkgs build-essential flex bison bc libelf-dev libssl-dev git kmod binutils
	[[ -f $BASE_BUILD/Module.symvers.full ]] || cp "$BASE_BUILD/Module.symvers" "$BASE_BUILD/Module.symvers.full"
	awk -F'\t' '$3 != "arch/x86/kvm/kvm"' "$BASE_BUILD/Module.symvers.full" >"$BASE_BUILD/Module.symvers"
	init_kvm_git
	printf 'format=%s\npaths=%s\npackage=%s\nrelease=%s\n' "$PREPARE_FORMAT" "$(paths_key)" "$PACKAGE" "$RELEASE" \
		>"$BUILD_ROOT/.prepared"
}

prepare_tree() {
	local tmp hdr=$BUILD_ROOT/headers/usr/src/$HEADERS_PKG
	if grep -qx "format=$PREPARE_FORMAT" "$BUILD_ROOT/.prepared" 2>/dev/null; then
		# Prepared with another list of KVM paths: only the repository changes.
		grep -qx "paths=$(paths_key)" "$BUILD_ROOT/.prepared" && return 0
		init_kvm_git
		sed -i "s/^paths=.*/paths=$(paths_key)/" "$BUILD_ROOT/.prepared"
		return 0
	fi
	need_pkgs build-essential flex bison bc libelf-dev libssl-dev git kmod xz-utils binutils dwarves
	say "preparing $SOURCE_PKG $VERSION for $RELEASE in $TREE (once per kernel)"
	local start=$SECONDS
	rm -rf "$BUILD_ROOT"/.tmp.* "$BUILD_ROOT/out" "$BUILD_ROOT/.prepared"
	# Unpacking is the slow part (1.6 GB): a tree unpacked earlier is reused.
	if [[ ! -e $TREE/.nestvmm-unpacked || ! -e $hdr/Module.symvers ]]; then
		rm -rf "$TREE" "$BUILD_ROOT/headers"
		tmp=$(mktemp -d "$BUILD_ROOT/.tmp.XXXXXX")
		download_deb "$tmp" "$SOURCE_PKG=$VERSION"
		download_deb "$tmp" "$HEADERS_PKG=$VERSION"
		# The source package holds one tarball, linux-source-SERIES/ inside.
		dpkg-deb --fsys-tarfile "$tmp/${SOURCE_PKG}_"*.deb |
			tar -xO "./usr/src/$SOURCE_PKG.tar.xz" | tar -xJ -C "$tmp" ||
			setup_error "could not unpack /usr/src/$SOURCE_PKG.tar.xz from the $SOURCE_PKG package"
		mkdir -p "$BUILD_ROOT/headers"
		dpkg-deb --fsys-tarfile "$tmp/${HEADERS_PKG}_"*.deb |
			tar -x -C "$BUILD_ROOT/headers" "./usr/src/$HEADERS_PKG/.config" "./usr/src/$HEADERS_PKG/Module.symvers" ||
			setup_error "no .config or Module.symvers in $HEADERS_PKG"
		mv "$tmp/$SOURCE_PKG" "$TREE"
		touch "$TREE/.nestvmm-unpacked"
		rm -rf "$tmp"
	fi
	configure_tree "$hdr"
	make -C "$TREE" -j"$JOBS" modules_prepare KERNELRELEASE="$RELEASE" KCFLAGS=-g0 >"$BUILD_ROOT/prepare.log" 2>&1 || {
		tail -n 20 "$BUILD_ROOT/prepare.log" >&2
		setup_error "make modules_prepare failed (log: $BUILD_ROOT/prepare.log)"
	}
	# kvm.ko is what we build: its exports come from the new build, the rest
	# (vmlinux, ccp, irqbypass...) with the packaged kernel's CRCs.
	awk -F'\t' '$3 != "arch/x86/kvm/kvm"' "$hdr/Module.symvers" >"$TREE/Module.symvers"
	init_kvm_git
	printf 'format=%s\npaths=%s\npackage=%s\nrelease=%s\nsource=%s %s\nheaders=%s\n' "$PREPARE_FORMAT" \
		"$(paths_key)" "$PACKAGE" "$RELEASE" "$SOURCE_PKG" "$VERSION" "$HEADERS_PKG" >"$BUILD_ROOT/.prepared"
	say "prepared in $((SECONDS - start))s"
}

# A git repository over the KVM files only: a build resets them to the
# package's version, whatever an earlier (maybe interrupted) build did.
# Called on a pristine tree (just prepared, or after reset_tree).
init_kvm_git() {
	[[ ! -d $TREE/.git ]] || git -C "$TREE" reset -q --hard
	rm -rf "$TREE/.git"
	local ex
	mapfile -t ex < <(excludes)
	(cd "$TREE" && git init -q && git add -f -- "${KVM_PATHS[@]}" "${ex[@]}" &&
		git -c user.name=nestvmm -c user.email=nestvmm@invalid commit -q -m "$SOURCE_PKG $VERSION") ||
		setup_error "git init of the KVM files failed"
}

# The repository's file list: a change (more paths, other exclusions) makes it anew.
paths_key() { printf '%s\n' "${KVM_PATHS[@]}" "${BUILD_PRODUCTS[@]}" | sha256sum | cut -c1-12; }

# --- one build ------------------------------------------------------------------

tree_git() { git -C "$TREE" "$@"; }

reset_tree() {
	tree_git reset -q --hard || die "$EXIT_SETUP" "cannot reset the KVM files in $TREE"
}

# is_kvm_path PATH: true when PATH is one of the KVM files.
is_kvm_path() {
	local p
	for p in "${KVM_PATHS[@]}"; do
		# shellcheck disable=SC2053 # the pathspecs are globs
		[[ $1 == "$p"/* || $1 == $p ]] && return 0
	done
	return 1
}

# source_diff DIR: DIR's KVM files as a diff against the package's, through
# a throw-away index (DIR may be any tree, git or not).
source_diff() {
	local idx
	idx=$(mktemp "$BUILD_ROOT/.index.XXXXXX")
	rm -f "$idx"
	local ex
	mapfile -t ex < <(excludes)
	GIT_INDEX_FILE=$idx git --git-dir="$TREE/.git" --work-tree="$1" add -A -f -- "${KVM_PATHS[@]}" "${ex[@]}" 2>/dev/null ||
		{ rm -f "$idx"; die "$EXIT_USAGE" "cannot read the KVM files of $1"; }
	GIT_INDEX_FILE=$idx git --git-dir="$TREE/.git" diff --cached --binary HEAD
	rm -f "$idx"
}

# apply_patch FILE LABEL: check its paths, then apply it to tree and index.
apply_patch() {
	local file=$1 label=$2 path bad=()
	[[ -s $file ]] || return 0
	while IFS=$'\t' read -r _ _ path; do
		is_kvm_path "$path" || bad+=("$path")
	done < <(tree_git apply --numstat "$file" 2>/dev/null || true)
	[[ ${#bad[@]} == 0 ]] ||
		die "$EXIT_USAGE" "$label changes files outside KVM, which a module-only build cannot include: ${bad[*]}"
	tree_git apply --index --whitespace=nowarn "$file" 2>"$BUILD_ROOT/apply.err" || {
		sed 's/^/    /' "$BUILD_ROOT/apply.err" >&2
		die "$EXIT_BUILD" "$label does not apply to $SOURCE_PKG $VERSION"
	}
}

# --source as a diff against the package's KVM files (empty without it).
collect_changes() {
	: >"$SOURCE_PATCH"
	[[ -z $SOURCE_DIR ]] || source_diff "$SOURCE_DIR" >"$SOURCE_PATCH"
}

# kvm_make TARGET: make in arch/x86/kvm of the tree, for the kernel: in the
# prepared package tree itself, or as an external module of a base build
# (its objects then land in the sources, as M= does).
kvm_make() {
	if [[ -n $BASE_BUILD ]]; then
		make -C "$BASE_BUILD" -j"$JOBS" M="$TREE/arch/x86/kvm" "$@"
	else
		make -C "$TREE" -j"$JOBS" M=arch/x86/kvm KERNELRELEASE="$RELEASE" KCFLAGS=-g0 "$@"
	fi
}

build_modules() {
	local out=$1 start=$SECONDS p n=0 ko
	reset_tree
	if [[ -n $SOURCE_DIR ]]; then
		apply_patch "$SOURCE_PATCH" "the KVM files of $SOURCE_DIR"
		say "$SOURCE_DIR: $(tree_git diff --cached --shortstat HEAD | sed 's/^ //')"
	fi
	for p in "${PATCHES[@]}"; do
		n=$((n + 1))
		apply_patch "$p" "patch $p"
	done
	say "building KVM modules for $RELEASE with $JOBS jobs${PATCHES[*]:+ ($n patch(es))}"
	kvm_make modules >"$BUILD_ROOT/build.log" 2>&1 || {
		grep -E 'error|Error' "$BUILD_ROOT/build.log" | head -n 20 >&2 || tail -n 20 "$BUILD_ROOT/build.log" >&2
		reset_tree
		die "$EXIT_BUILD" "the KVM build failed (log: $BUILD_ROOT/build.log)"
	}
	mkdir -p "$out"
	rm -f "$out"/*.ko "$out/BUILD-INFO"
	# A base configured for one vendor builds only that vendor's module.
	cp "$TREE"/arch/x86/kvm/kvm.ko "$out/" || die "$EXIT_BUILD" "the build left no kvm.ko"
	for ko in kvm-amd kvm-intel; do
		[[ ! -f $TREE/arch/x86/kvm/$ko.ko ]] || cp "$TREE/arch/x86/kvm/$ko.ko" "$out/"
	done
	write_build_info "$out"
	reset_tree
	say "built in $((SECONDS - start))s: $out"
}

# BUILD-INFO: what was built from what, and each module's identity.
write_build_info() {
	local out=$1 ko p
	{
		printf 'kernel=%s\nrelease=%s\nsource=%s %s\n' "$PACKAGE" "$RELEASE" "$SOURCE_PKG" "$VERSION"
		[[ -z $SOURCE_DIR ]] || printf 'kvm-files-from=%s (%s)\n' "$SOURCE_DIR" \
			"$(git -C "$SOURCE_DIR" rev-parse HEAD 2>/dev/null || echo 'not a git tree')"
		for p in "${PATCHES[@]}"; do
			printf 'patch=%s sha256=%s\n' "$p" "$(sha256sum <"$p" | cut -c1-64)"
		done
		for ko in "$out"/*.ko; do
			printf 'module=%s %s\n' "${ko##*/}" "$(module_identity "$ko")"
		done
	} >"$out/BUILD-INFO"
}

main() {
	local key out lock_fd
	parse_args "$@"
	need_pkgs git kmod binutils
	if [[ -n $BASE_BUILD ]]; then resolve_base_build; else resolve_versions; fi
	mkdir -p "$BUILD_ROOT" || setup_error "cannot create $BUILD_ROOT"
	# One build at a time per kernel: the tree is shared.
	exec {lock_fd}>"$BUILD_ROOT.lock"
	flock "$lock_fd"
	if [[ -n $BASE_BUILD ]]; then prepare_base; else prepare_tree; fi
	SOURCE_PATCH=$BUILD_ROOT/.source.$$.diff
	trap 'rm -f "$SOURCE_PATCH"' EXIT
	collect_changes
	# The default output directory is keyed by the changes, so the same patch
	# set is built once.
	key=$(cat "$SOURCE_PATCH" "${PATCHES[@]}" | sha256sum | cut -c1-16)
	[[ -n $SOURCE_DIR || ${#PATCHES[@]} -gt 0 ]] || key=unpatched
	out=${OUT_DIR:-$BUILD_ROOT/out/$key}
	if [[ -z $OUT_DIR && -e $out/.complete ]]; then
		say "already built: $out"
	else
		rm -f "$out/.complete"
		build_modules "$out"
		touch "$out/.complete"
	fi
	realpath "$out"
}

main "$@"
