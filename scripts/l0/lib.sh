# shellcheck shell=bash disable=SC2034 # the exit codes are used by run.sh
# Shared pieces of the emulated-L0 runners (sourced by scripts/l0/run.sh).
#
# An "L0" here is an emulated machine (QEMU TCG for AMD SVM, Bochs for Intel
# VMX) that boots a Debian kernel with nested KVM, and runs nestvmm inside it.
# Everything that does not depend on the emulator lives in this file: exit
# codes, package installation, kernel download and cache, module dependency
# resolution, the initramfs, and reading the serial log back.
# See scripts/l0/README.md for the user-facing contract.

# Exit codes of the runner (nestvmm's own exit code is passed through as is).
readonly L0_EXIT_SETUP=100      # bad arguments, missing file, download failure
readonly L0_EXIT_NO_BOOT=101    # L0 kernel never reached /init
readonly L0_EXIT_MODULES=102    # KVM modules failed to load, or no /dev/kvm
readonly L0_EXIT_TIMEOUT=103    # overall --timeout expired
readonly L0_EXIT_DIED=104       # L0 stopped in the middle of a run (panic, reset)
readonly L0_EXIT_INTERRUPTED=130

L0_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
L0_CACHE=${NESTVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestvmm}
L0_APT_UPDATED=0

# --- messages --------------------------------------------------------------
# Everything the runner itself says goes to stderr with an "l0:" prefix, so it
# is never confused with the serial console streamed on stdout.

say() { printf 'l0: %s\n' "$*" >&2; }

# die CODE MESSAGE: one clear error line, then exit with CODE.
die() {
    local code=$1
    shift
    printf 'l0: error: %s\n' "$*" >&2
    exit "$code"
}

setup_error() { die "$L0_EXIT_SETUP" "$@"; }

# --- packages ---------------------------------------------------------------
# CI machines may be fresh, so every tool the runner uses is installed on
# demand with apt-get; "apt-get update" runs at most once per invocation.

apt_update_once() {
    if [[ $L0_APT_UPDATED == 0 ]]; then
        say "running apt-get update"
        apt-get update -qq >&2 || setup_error "apt-get update failed"
        L0_APT_UPDATED=1
    fi
}

package_installed() {
    [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# need_pkgs PKG...: install the Debian packages that are missing.
need_pkgs() {
    local pkg missing=()
    for pkg in "$@"; do
        package_installed "$pkg" || missing+=("$pkg")
    done
    [[ ${#missing[@]} == 0 ]] && return 0
    [[ $(id -u) == 0 ]] ||
        setup_error "missing packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2; then
        apt_update_once
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 ||
            setup_error "apt-get install ${missing[*]} failed"
    fi
}

# --- kernels ----------------------------------------------------------------
# A kernel is named by a short version ("6.1", "6.12"), resolved to the newest
# matching Debian amd64 image package, or by an exact package name. Only the
# kernel image and the KVM modules (and their dependencies) are kept, under
# $L0_CACHE/kernels/PACKAGE/, so a second run never downloads again.

# ERE matching the generic amd64 image packages of kernel series $1 (e.g. 6.1
# matches linux-image-6.1.0-56-amd64, 6.12 matches
# linux-image-6.12.117+deb12-amd64-unsigned; cloud and rt flavours do not).
kernel_package_regex() {
    local series_re=${1//./\\.}
    printf '^linux-image-%s[.-][0-9][0-9a-z.+~-]*-amd64(-unsigned)?$' "$series_re"
}

# newest_kernel_package REGEX: read package names on stdin, print the newest
# one matching REGEX, preferring "-unsigned" over its signed twin.
newest_kernel_package() {
    local regex=$1 names newest
    names=$(grep -E "$regex" | grep -Ev -- '-(cloud|rt)-' || true)
    [[ -n $names ]] || return 1
    # shellcheck disable=SC2001 # per line of a multi-line list
    newest=$(sed 's/-unsigned$//' <<<"$names" | sort -uV | tail -n 1)
    if grep -qx -- "$newest-unsigned" <<<"$names"; then
        echo "$newest-unsigned"
    else
        echo "$newest"
    fi
}

# resolve_kernel_package SPEC: print the Debian package name for SPEC.
resolve_kernel_package() {
    local spec=$1 regex pkg
    case $spec in
    linux-image-*)
        echo "$spec"
        return 0
        ;;
    [0-9]*) ;;
    *) setup_error "--kernel '$spec' is neither a version (6.1, 6.12), a linux-image-* package, nor an existing file" ;;
    esac
    regex=$(kernel_package_regex "$spec")
    pkg=$(apt-cache pkgnames linux-image- 2>/dev/null | newest_kernel_package "$regex") || {
        apt_update_once
        pkg=$(apt-cache pkgnames linux-image- | newest_kernel_package "$regex")
    } || {
        # Offline: fall back to the newest matching kernel already cached.
        pkg=$(find "$L0_CACHE/kernels" -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null |
            newest_kernel_package "$regex") ||
            setup_error "no Debian kernel package for version '$spec' in apt (looked for $regex)"
        say "apt has no match for '$spec'; using cached $pkg"
    }
    echo "$pkg"
}

# The parts of a kernel package the L0 needs: the image and the KVM modules
# with their usual dependencies (dependencies are re-checked at build time).
readonly KERNEL_DEB_MEMBERS=('./boot/vmlinuz-*' '*/kernel/arch/x86/kvm/*'
    '*/kernel/virt/lib/*' '*/kernel/drivers/crypto/ccp/*')

# fetch_kernel PACKAGE: make sure $L0_CACHE/kernels/PACKAGE holds vmlinuz and
# modules/; print that directory.
fetch_kernel() {
    local pkg=$1 dir="$L0_CACHE/kernels/$1" tmp
    if [[ ! -e $dir/.complete ]]; then
        mkdir -p "$L0_CACHE/kernels"
        # Serialise concurrent downloads of the same cache.
        exec {lock_fd}>"$L0_CACHE/kernels/.lock"
        flock "$lock_fd"
        if [[ ! -e $dir/.complete ]]; then
            say "downloading $pkg (cached under $dir)"
            tmp=$(download_kernel_deb "$pkg" "${KERNEL_DEB_MEMBERS[@]}") || exit
            rm -rf "$dir"
            mkdir -p "$dir"
            mv "$tmp/tree/boot/"vmlinuz-* "$dir/vmlinuz"
            mv "$tmp/tree/lib/modules" "$dir/modules"
            touch "$dir/.complete"
            rm -rf "$tmp"
        fi
        exec {lock_fd}>&-
    fi
    echo "$dir"
}

# fetch_kernel_extra PACKAGE TAG MEMBER...: add more modules of PACKAGE (tar
# wildcards, like KERNEL_DEB_MEMBERS) to its cache directory, once per TAG.
# Only adds files, so runs using the cached kernel at the same time are safe.
fetch_kernel_extra() {
    local pkg=$1 tag=$2 dir="$L0_CACHE/kernels/$1" tmp
    shift 2
    fetch_kernel "$pkg" >/dev/null
    if [[ ! -e $dir/.complete-$tag ]]; then
        exec {lock_fd}>"$L0_CACHE/kernels/.lock"
        flock "$lock_fd"
        if [[ ! -e $dir/.complete-$tag ]]; then
            say "downloading $pkg again for its $tag modules (cached under $dir)"
            tmp=$(download_kernel_deb "$pkg" "$@") || exit
            cp -a -n "$tmp/tree/lib/modules/." "$dir/modules/"
            touch "$dir/.complete-$tag"
            rm -rf "$tmp"
        fi
        exec {lock_fd}>&-
    fi
    echo "$dir"
}

# download_kernel_deb PACKAGE MEMBER...: apt-get download PACKAGE into a new
# temporary directory under the cache, extract MEMBERs into its tree/, print
# the directory. The caller holds the cache lock and removes the directory.
download_kernel_deb() {
    local pkg=$1 tmp deb
    shift
    apt-cache show "$pkg" >/dev/null 2>&1 || {
        apt_update_once
        apt-cache show "$pkg" >/dev/null 2>&1 ||
            setup_error "kernel package $pkg not found in apt"
    }
    rm -rf "$L0_CACHE/kernels"/.fetch.* # left by an interrupted download
    tmp=$(mktemp -d "$L0_CACHE/kernels/.fetch.XXXXXX")
    if ! (cd "$tmp" && apt-get download -q "$pkg" >download.log 2>&1); then
        apt_update_once
        (cd "$tmp" && apt-get download -q "$pkg" >download.log 2>&1) || {
            grep -E '^E:' "$tmp/download.log" >&2 || true
            rm -rf "$tmp"
            setup_error "apt-get download $pkg failed"
        }
    fi
    deb=$(ls "$tmp"/*.deb)
    unpack_kernel_deb "$deb" "$tmp/tree" "$@" || {
        rm -rf "$tmp"
        setup_error "could not unpack $deb"
    }
    echo "$tmp"
}

# unpack_kernel_deb DEB DIR MEMBER...: extract MEMBERs (the image and the
# KVM-related modules, or extra modules); at least some modules must be there.
unpack_kernel_deb() {
    local deb=$1 out=$2
    shift 2
    mkdir -p "$out"
    dpkg-deb --fsys-tarfile "$deb" |
        tar -x -C "$out" --wildcards "$@" || return 1
    [[ -d $out/lib/modules ]] || return 1
    [[ $* != *vmlinuz* ]] || compgen -G "$out/boot/vmlinuz-*" >/dev/null
}

# --- modules ----------------------------------------------------------------
# The vendor module and everything it depends on (read with modinfo, so no
# modules.dep is needed) are put decompressed into the initramfs, listed in
# load order. ccp, for instance, is loaded only when kvm-amd depends on it.

# index_modules DIR: fill MODULE_PATH[name_with_underscores]=file.
declare -A MODULE_PATH
index_modules() {
    local file name
    MODULE_PATH=()
    while IFS= read -r -d '' file; do
        name=${file##*/}
        name=${name%%.ko*}
        name=${name//-/_}
        [[ -z ${MODULE_PATH[$name]:-} ]] ||
            setup_error "two $name modules under $1 (${MODULE_PATH[$name]} and $file): give the modules of one kernel"
        MODULE_PATH[$name]=$file
    done < <(find "$1" \( -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst' -o -name '*.ko.gz' \) -print0)
}

# decompress_module SRC DEST: write SRC as a plain .ko (busybox insmod cannot
# read compressed modules).
decompress_module() {
    case $1 in
    *.ko.xz) xz -dc "$1" >"$2" ;;
    *.ko.zst) zstd -qdc "$1" >"$2" ;;
    *.ko.gz) gzip -dc "$1" >"$2" ;;
    *) cp "$1" "$2" ;;
    esac
}

# add_module_with_deps NAME NEEDED_BY DEST LIST: depth-first, dependencies
# first, so LIST ends up in a valid insmod order.
declare -A MODULE_ADDED
add_module_with_deps() {
    local name=${1//-/_} needed_by=$2 dest=$3 list=$4 file dep deps
    [[ -n ${MODULE_ADDED[$name]:-} ]] && return 0
    file=${MODULE_PATH[$name]:-}
    [[ -n $file ]] || setup_error "module $name${needed_by:+ (needed by $needed_by)} not found under $MODULE_SEARCH_DIR"
    MODULE_ADDED[$name]=1
    decompress_module "$file" "$dest/$name.ko" || setup_error "cannot decompress $file"
    deps=$(modinfo -F depends "$dest/$name.ko") || setup_error "modinfo failed on $file"
    for dep in ${deps//,/ }; do
        add_module_with_deps "$dep" "$name" "$dest" "$list"
    done
    echo "$name" >>"$list"
}

# collect_modules MODDIR VENDOR_MODULE DEST LIST KVM_DIR [MODULE...]: copy
# VENDOR_MODULE, the other MODULEs and their dependencies from MODDIR into
# DEST, and their load order into LIST. With KVM_DIR (a custom KVM build for
# the same kernel; "" for none), kvm.ko and the vendor modules come from
# there and everything else from MODDIR.
collect_modules() {
    local moddir=$1 vendor=$2 dest=$3 list=$4 kvm_dir=${5:-} name
    shift 4
    [[ $# -eq 0 ]] || shift
    MODULE_SEARCH_DIR=$moddir
    index_modules "$moddir"
    MODULE_CUSTOM=()
    [[ -z $kvm_dir ]] || overlay_kvm_modules "$kvm_dir"
    MODULE_ADDED=()
    : >"$list"
    for name in "$vendor" "$@"; do
        add_module_with_deps "$name" "" "$dest" "$list"
    done
}

# overlay_kvm_modules DIR: replace the kvm* entries of MODULE_PATH by DIR's,
# which must hold at least kvm.ko and match the kernel's release (vermagic).
readonly KVM_MODULE_NAMES=(kvm kvm_amd kvm_intel)
overlay_kvm_modules() {
    local dir=$1 name file release custom_release
    local -A base=()
    for name in "${!MODULE_PATH[@]}"; do base[$name]=${MODULE_PATH[$name]}; done
    index_modules "$dir"
    local -A custom=()
    for name in "${KVM_MODULE_NAMES[@]}"; do
        [[ -z ${MODULE_PATH[$name]:-} ]] || custom[$name]=${MODULE_PATH[$name]}
    done
    [[ -n ${custom[kvm]:-} ]] || setup_error "--modules $dir holds no kvm.ko (build one with scripts/kvm-modules.sh)"
    MODULE_PATH=()
    for name in "${!base[@]}"; do MODULE_PATH[$name]=${base[$name]}; done
    # A module built for another kernel would be refused by insmod with a
    # less helpful message: compare the releases now.
    release=$(module_release "${base[kvm]:-}") || setup_error "the kernel's own kvm module was not found under $MODULE_SEARCH_DIR"
    for name in "${!custom[@]}"; do
        custom_release=$(module_release "${custom[$name]}") || setup_error "cannot read the vermagic of ${custom[$name]}"
        [[ $custom_release == "$release" ]] ||
            setup_error "${custom[$name]} was built for $custom_release, but the kernel is $release (build it with scripts/kvm-modules.sh --kernel for this kernel)"
        MODULE_PATH[$name]=${custom[$name]}
        MODULE_CUSTOM[$name]=1
    done
    MODULE_SEARCH_DIR="$MODULE_SEARCH_DIR and $dir"
}
declare -A MODULE_CUSTOM

# module_release FILE: the kernel release in FILE's vermagic (compressed or not).
module_release() {
    local file=$1 tmp vermagic
    [[ -n $file ]] || return 1
    # modinfo takes a path only when it ends in .ko.
    tmp=$(mktemp --suffix=.ko)
    decompress_module "$file" "$tmp" && vermagic=$(modinfo -F vermagic "$tmp" 2>/dev/null)
    rm -f "$tmp"
    [[ -n ${vermagic:-} ]] || return 1
    echo "${vermagic%% *}"
}

# module_identity KO: "vermagic=... srcversion=... build-id=..." of a plain .ko,
# so a verdict can be traced back to the exact module build.
module_identity() {
    local ko=$1 vermagic srcversion build_id
    vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null | sed 's/ *$//')
    srcversion=$(modinfo -F srcversion "$ko" 2>/dev/null)
    build_id=$(readelf -n "$ko" 2>/dev/null | sed -n 's/^ *Build ID: //p' | head -n 1)
    printf 'vermagic="%s" srcversion=%s build-id=%s' "$vermagic" "${srcversion:-none}" "${build_id:-none}"
}

# --- initramfs --------------------------------------------------------------
# The initramfs holds busybox (with one symlink per applet), nestvmm, the
# modules, the generated plan, and scripts/l0/init.sh as /init.

# sh_quote ARG...: print the args single-quoted for a POSIX shell.
sh_quote() {
    local arg quoted=()
    for arg in "$@"; do
        quoted+=("'${arg//\'/\'\\\'\'}'")
    done
    printf '%s' "${quoted[*]}"
}

# build_initramfs OUT ROOT [INIT]: pack the prepared tree ROOT as gzip'd cpio
# newc, with INIT (default init.sh here) as /init.
build_initramfs() {
    local out=$1 root=$2 init=${3:-$L0_DIR/init.sh} applet
    mkdir -p "$root"/{bin,dev,proc,sys,out,etc/nestvmm,lib/nestvmm}
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [[ -e $root/bin/$applet ]] || ln -s busybox "$root/bin/$applet"
    done
    cp "$init" "$root/init"
    chmod 755 "$root/init"
    [[ ! -e $root/bin/nestvmm ]] || chmod 755 "$root/bin/nestvmm"
    (cd "$root" && find . -print0 | cpio -o -0 -H newc -R 0:0 --quiet) |
        gzip -6 >"$out"
}

# is_static_elf FILE: true unless FILE is an ELF asking for a dynamic loader.
is_static_elf() {
    if command -v readelf >/dev/null; then
        ! readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
    else
        return 0
    fi
}

# --- serial console ---------------------------------------------------------
# The emulator writes the serial console to a log file; stream_console echoes
# it to stdout while it grows, notes when each @@nestvmm marker arrived (for
# the timing summary), and stops the emulator as soon as the L0 kernel
# panics (Bochs would otherwise reboot and start over).

# stream_console LOG EMULATOR_PID TIMES_FILE
stream_console() {
    local log=$1 pid=$2 times=$3 line start=$EPOCHREALTIME panicked=0
    : >"$times"
    while IFS= read -r line || [[ -n $line ]]; do
        line=${line%$'\r'}
        printf '%s\n' "$line"
        case $line in
        *@@nestvmm\ *)
            printf '%s %s\n' "$(elapsed_since "$start")" "${line#*@@nestvmm }" >>"$times"
            ;;
        *"end Kernel panic"*)
            if [[ $panicked == 0 ]]; then
                panicked=1
                kill "$pid" 2>/dev/null || true
            fi
            ;;
        esac
    done < <(tail -n +1 -s 0.2 -F --pid="$pid" "$log" 2>/dev/null)
}

# elapsed_since START: seconds (1 decimal) since START (an $EPOCHREALTIME).
elapsed_since() {
    local now=$EPOCHREALTIME
    awk -v a="$1" -v b="$now" 'BEGIN { printf "%.1f", b - a }'
}

# marker_lines LOG: the @@nestvmm markers of the log, one per line, without
# the prefix and without anything that came before them on their line.
marker_lines() {
    tr -d '\r' <"$1" | sed -n 's/.*@@nestvmm \(.*\)$/\1/p'
}

# extract_results LOG DIR: split the serial log into per-run files in DIR
# (run-N.log, run-N.exit, run-N.dmesg, run-N.FILE).
extract_results() {
    local log=$1 dir=$2 b64
    mkdir -p "$dir"
    rm -f "$dir"/run-*
    tr -d '\r' <"$log" | awk -v dir="$dir" '
        function marker(line) { return substr(line, index(line, "@@nestvmm ") + 10) }
        {
            has = index($0, "@@nestvmm ")
            if (!has) {
                if (out != "") print > out
                next
            }
            if (out != "" && mode == "log" && has > 1) print substr($0, 1, has - 1) > out
            n = split(marker($0), w, " ")
            if (w[1] != "run") next
            run = w[2]
            if (w[3] == "begin:") { close(out); out = dir "/run-" run ".log"; mode = "log"; printf "" > out }
            else if (w[3] == "exit") { close(out); out = ""; print w[4] > (dir "/run-" run ".exit"); close(dir "/run-" run ".exit") }
            else if (w[3] == "dmesg" && w[4] == "begin") { out = dir "/run-" run ".dmesg"; mode = "dmesg"; printf "" > out }
            else if (w[3] == "file" && w[n] == "base64" && w[n-1] == "begin") {
                name = w[4]; for (i = 5; i < n - 1; i++) name = name " " w[i]
                gsub(/[^A-Za-z0-9._-]/, "_", name); sub(/^\.+/, "_", name)
                out = dir "/run-" run "." name ".b64"; mode = "file"; printf "" > out
            }
            else if (w[3] == "file" || w[3] == "dmesg") { close(out); out = "" }
        }'
    # Files travel base64-encoded so any byte survives the serial line.
    for b64 in "$dir"/run-*.b64; do
        [[ -e $b64 ]] || continue
        base64 -d <"$b64" >"${b64%.b64}" 2>/dev/null ||
            say "warning: ${b64##*/} is truncated or corrupt"
        rm -f "$b64"
    done
}
