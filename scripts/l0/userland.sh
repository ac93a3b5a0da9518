#!/usr/bin/env bash
# Run one command (e.g. a ctest group) inside an emulated L0 that has a working
# /dev/kvm and a real Debian userland: QEMU TCG (-cpu max, AMD SVM), a Debian
# kernel with kvm_amd loaded, the Debian root shared over 9p, and the host
# directories given with --share mounted read-write at the same paths. For
# hosts without a usable /dev/kvm (scripts/test.sh uses it for the tests
# labelled "kvm"). See README.md here.
set -euo pipefail

# shellcheck source=scripts/l0/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO_ROOT=$(cd "$L0_DIR/../.." && pwd)

usage() {
    cat <<EOF
usage: scripts/l0/userland.sh [options] -- COMMAND [ARG...]

Boot a QEMU TCG L0 with kvm_amd and a Debian userland, run COMMAND as root in
it (in the current directory, which must be shared), and exit with its code.

  --share DIR       share DIR read-write at the same path; repeatable
                    (default: the repository this script belongs to)
  --root DIR        the Debian tree to boot (default: made with debootstrap
                    once, see below); it is shared read-only
  --env NAME=VALUE  set this variable for COMMAND; repeatable
  --nested 0|1      kvm_amd nested= (default 0: a host without nesting)
  --kernel SPEC     6.1 | 6.12 | linux-image-PKG   (default 6.12)
  --memory MB       L0 memory (default 3072)
  --cpus N          L0 vCPUs (default 1: with 2, the L0 kernel once died of an
                    "Oops: int3" in __schedule, live code patching racing
                    between TCG vCPUs)
  --timeout SEC     whole-boot limit (default 1800)
  --log FILE        save the whole serial console here too
  --verbose         show the L0 kernel's boot messages
  -h, --help        this text

COMMAND's output streams to stdout (runner lines "l0: ..." go to stderr).
Exit: COMMAND's code, or 100 setup error, 101 L0 did not boot, 102 KVM
modules or the 9p root failed, 103 timeout, 104 L0 died during COMMAND.
The Debian root is made once with debootstrap (packages: USERLAND_PKGS in
scripts/deps.sh and the sanitizer runtimes of this host's gcc) and cached in
$L0_CACHE/userland/.
EOF
}

# --- command line -------------------------------------------------------------

SHARES=()
ROOTFS=""
ENVS=()
NESTED=0
KERNEL_SPEC=6.12
MEMORY_MB=3072
CPUS=1
TIMEOUT=1800
LOG_FILE=""
VERBOSE=0
COMMAND=()

parse_args() {
    while [[ $# -gt 0 ]]; do
        case $1 in
        --share | --root | --env | --nested | --kernel | --memory | --cpus | --timeout | --log)
            [[ $# -ge 2 ]] || setup_error "$1 needs a value (see --help)"
            ;;
        esac
        case $1 in
        --share)
            [[ -d $2 ]] || setup_error "--share: no such directory: $2"
            SHARES+=("$(realpath "$2")")
            ;;
        --root)
            [[ -x $2/bin/bash ]] || setup_error "--root: $2 has no bin/bash, not a Debian tree"
            ROOTFS=$(realpath "$2")
            ;;
        --env)
            [[ $2 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || setup_error "--env takes NAME=VALUE, not '$2'"
            ENVS+=("$2")
            ;;
        --nested)
            [[ $2 == [01] ]] || setup_error "--nested takes 0 or 1, not '$2'"
            NESTED=$2
            ;;
        --kernel)
            [[ $2 != */* ]] || setup_error "--kernel takes a Debian kernel (6.12, linux-image-...), not a path"
            KERNEL_SPEC=$2
            ;;
        --memory)
            [[ $2 =~ ^[1-9][0-9]*$ ]] || setup_error "--memory takes megabytes, not '$2'"
            MEMORY_MB=$2
            ;;
        --cpus)
            [[ $2 =~ ^[1-9][0-9]*$ ]] || setup_error "--cpus takes a number, not '$2'"
            CPUS=$2
            ;;
        --timeout)
            [[ $2 =~ ^[1-9][0-9]*$ ]] || setup_error "--timeout takes whole seconds, not '$2'"
            TIMEOUT=$2
            ;;
        --log) LOG_FILE=$2 ;;
        --verbose) VERBOSE=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        --)
            shift
            COMMAND=("$@")
            break
            ;;
        *) setup_error "unknown option '$1' (see --help)" ;;
        esac
        case $1 in
        --verbose) shift ;;
        *) shift 2 ;;
        esac
    done
    [[ ${#COMMAND[@]} -gt 0 ]] || setup_error "no command given (usage: userland.sh [options] -- COMMAND [ARG...])"
    [[ ${#SHARES[@]} -gt 0 ]] || SHARES=("$REPO_ROOT")
    # The command starts in the current directory: it must be visible inside.
    local share
    CHDIR=$(pwd)
    for share in "${SHARES[@]}"; do
        [[ $CHDIR == "$share" || $CHDIR == "$share"/* ]] && return 0
    done
    setup_error "the current directory $CHDIR is not under a --share directory"
}

# --- the Debian root ----------------------------------------------------------
# Made once with debootstrap, from the Debian mirror and release this host's
# apt already uses, and kept under $L0_CACHE/userland/RELEASE-HASH (the hash
# is over the package list, so a new list makes a new root).

# apt_debian_mirror: print "URI RELEASE" of this host's main Debian archive.
apt_debian_mirror() {
    local codename
    # shellcheck disable=SC1091 # the host's file
    codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    [[ -n $codename ]] || setup_error "cannot tell the Debian release (no VERSION_CODENAME in /etc/os-release)"
    # shellcheck disable=SC2016 # $(...) is apt's field syntax
    apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(TARGET_OF) $(IDENTIFIER)' 2>/dev/null |
        awk -v r="$codename" '$2 == r && $3 == "main" && $4 == "deb" && $5 == "Packages" { print $1, $2; exit }' |
        grep . || setup_error "apt has no 'deb ... $codename main' source to debootstrap from (check /etc/apt/sources.list*)"
}

# userland_packages: the packages of the root, one per line, sorted.
userland_packages() {
    local lib pkgs
    # shellcheck disable=SC1091 # deps.sh, in a subshell: only its list is wanted
    mapfile -t pkgs < <(source "$REPO_ROOT/scripts/deps.sh" && printf '%s\n' "${USERLAND_PKGS[@]}")
    # The sanitizer runtimes the ASan+UBSan build links against.
    for lib in libasan.so libubsan.so; do
        lib=$(readlink -f "$(gcc -print-file-name="$lib")") || continue
        [[ -e $lib ]] || continue
        pkgs+=("$(dpkg-query -S "$lib" 2>/dev/null | head -n 1 | cut -d: -f1)")
    done
    printf '%s\n' "${pkgs[@]}" | grep . | sort -u
}

# prepare_rootfs: set ROOTFS, debootstrapping it first if needed.
prepare_rootfs() {
    local uri release pkgs hash tmp
    [[ -z $ROOTFS ]] || return 0
    pkgs=$(userland_packages)
    read -r uri release <<<"$(apt_debian_mirror)"
    hash=$(printf '%s\n%s\n' "$uri" "$pkgs" | sha256sum | cut -c1-12)
    ROOTFS="$L0_CACHE/userland/$release-$hash"
    [[ -e $ROOTFS/.complete ]] && return 0
    mkdir -p "$L0_CACHE/userland"
    exec {lock_fd}>"$L0_CACHE/userland/.lock"
    flock "$lock_fd"
    if [[ ! -e $ROOTFS/.complete ]]; then
        need_pkgs debootstrap
        rm -rf "$L0_CACHE/userland"/.make.* # left by an interrupted debootstrap
        tmp=$(mktemp -d "$L0_CACHE/userland/.make.XXXXXX")
        say "making the Debian $release root with debootstrap from $uri (once; cached as $ROOTFS)"
        if ! debootstrap --variant=minbase --include="$(paste -sd, <<<"$pkgs")" \
            "$release" "$tmp/root" "$uri" >"$tmp/debootstrap.log" 2>&1; then
            tail -n 5 "$tmp/debootstrap.log" >&2
            grep -h '^E:\|error' "$tmp/root/debootstrap/debootstrap.log" 2>/dev/null | tail -n 5 >&2 || true
            setup_error "debootstrap failed (log: $tmp/debootstrap.log)"
        fi
        # apt's downloads are not needed inside.
        rm -rf "$tmp/root/var/cache/apt/archives/"*.deb
        printf '%s\n' "$pkgs" >"$tmp/root/etc/nestvmm-userland.pkgs"
        rm -rf "$ROOTFS"
        mv "$tmp/root" "$ROOTFS"
        touch "$ROOTFS/.complete"
        rm -rf "$tmp"
    fi
    exec {lock_fd}>&-
}

# --- the L0 ---------------------------------------------------------------------

prepare_kernel() {
    local pkg
    pkg=$(resolve_kernel_package "$KERNEL_SPEC")
    # The 9p and overlay modules for the root, next to the KVM ones.
    KERNEL_DIR=$(fetch_kernel_extra "$pkg" userland '*/kernel/fs/9p/*' '*/kernel/fs/netfs/*' \
        '*/kernel/net/9p/*' '*/kernel/fs/overlayfs/*') || exit
    KERNEL_NAME=$pkg
}

prepare_initramfs() {
    local root="$WORK/root" i
    mkdir -p "$root/lib/nestvmm" "$root/etc/nestvmm" "$root/bin"
    collect_modules "$KERNEL_DIR/modules" kvm_amd "$root/lib/nestvmm" "$root/etc/nestvmm/modules" "" \
        9pnet_virtio 9p overlay
    printf 'VENDOR_MODULE=kvm_amd\nNESTED=%s\nVERBOSE=%s\n' "$NESTED" "$VERBOSE" >"$root/etc/nestvmm/config"
    for i in "${!SHARES[@]}"; do
        printf 'share%s %s\n' "$i" "${SHARES[$i]}"
    done >"$root/etc/nestvmm/shares"
    # The command, as a bash script: not a TTY (like CI), stdout and stderr
    # together on the console.
    {
        echo "cd $(sh_quote "$CHDIR") || exit 125"
        echo "export HOME=/root LC_ALL=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        for i in "${ENVS[@]}"; do
            echo "export $(sh_quote "$i")"
        done
        echo "$(sh_quote "${COMMAND[@]}") 2>&1 | cat"
        # shellcheck disable=SC2016 # for the L0's bash
        echo 'exit "${PIPESTATUS[0]}"'
    } >"$root/etc/nestvmm/command"
    printf '%s\n' "${COMMAND[*]}" >"$root/etc/nestvmm/command.txt"
    build_initramfs "$WORK/initrd.gz" "$root" "$L0_DIR/userland-init.sh"
}

# qemu_path VALUE: a path for a QEMU option list (a comma is doubled).
qemu_path() { printf '%s' "${1//,/,,}"; }

launch_qemu() {
    local i cmdline="console=ttyS0,115200 panic=-1 rdinit=/init"
    [[ $VERBOSE == 1 ]] || cmdline+=" quiet loglevel=1"
    EMU_CMD=(qemu-system-x86_64 -accel tcg -cpu max -smp "$CPUS" -m "$MEMORY_MB" -nodefaults
        -display none -no-reboot -serial "file:$SERIAL_LOG"
        -kernel "$KERNEL_DIR/vmlinuz" -initrd "$WORK/initrd.gz" -append "$cmdline"
        -virtfs "local,path=$(qemu_path "$ROOTFS"),mount_tag=rootfs,security_model=none,readonly=on,multidevs=remap")
    for i in "${!SHARES[@]}"; do
        EMU_CMD+=(-virtfs "local,path=$(qemu_path "${SHARES[$i]}"),mount_tag=share$i,security_model=none,multidevs=remap")
    done
}

# --- running ------------------------------------------------------------------

EMU_PID=""
WORK=""

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n $EMU_PID ]]; then
        kill "$EMU_PID" 2>/dev/null || true
        wait "$EMU_PID" 2>/dev/null || true
    fi
    [[ -z $WORK ]] || rm -rf "$WORK"
}

# verdict: print a summary and return the runner's exit code.
verdict() {
    local markers code
    markers=$(marker_lines "$SERIAL_LOG")
    if ! grep -qx 'done' <<<"$markers" && [[ $EMU_RC == 124 || $EMU_RC == 137 ]]; then
        say "TIMEOUT: L0 still running after ${TIMEOUT}s (last sign of life: $(tail -n 1 <<<"$markers"))"
        return "$L0_EXIT_TIMEOUT"
    fi
    if ! grep -qx 'boot ok' <<<"$markers"; then
        say "L0 kernel did not reach /init (QEMU exit $EMU_RC); try --verbose"
        grep -a -m 1 'Kernel panic' "$SERIAL_LOG" | sed 's/^/    /' >&2 || true
        tail -n 5 "$WORK/emulator.out" | sed 's/^/    /' >&2 || true
        return "$L0_EXIT_NO_BOOT"
    fi
    if grep -qE '^(modules|setup) failed' <<<"$markers"; then
        say "L0 $(grep -m1 -E '^(modules|setup) failed' <<<"$markers")"
        return "$L0_EXIT_MODULES"
    fi
    code=$(sed -n 's/^run 1 exit \([0-9]*\)$/\1/p' <<<"$markers")
    if [[ -z $code ]]; then
        say "L0 stopped before the command finished (kernel panic or reset?)"
        grep -a -m 1 'Kernel panic' "$SERIAL_LOG" | sed 's/^/    /' >&2 || true
        return "$L0_EXIT_DIED"
    fi
    say "$(grep -m1 '^info ' <<<"$markers" | cut -c6-); command exit $code after ${TOTAL_TIME}s in the L0: ${COMMAND[*]}"
    return "$code"
}

main() {
    parse_args "$@"
    need_pkgs busybox-static cpio kmod xz-utils zstd gzip qemu-system-x86
    is_static_elf /bin/busybox || setup_error "/bin/busybox is not static (install busybox-static)"
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-userland.XXXXXX")
    trap cleanup EXIT
    trap 'exit $L0_EXIT_INTERRUPTED' INT TERM
    SERIAL_LOG=$WORK/console.log
    : >"$SERIAL_LOG"

    prepare_rootfs
    prepare_kernel
    prepare_initramfs
    launch_qemu
    say "booting $KERNEL_NAME under QEMU TCG with the Debian root $ROOTFS (kvm_amd nested=$NESTED, ${CPUS} vCPUs, ${MEMORY_MB} MB, timeout ${TIMEOUT}s)"
    local start=$EPOCHREALTIME
    (cd "$WORK" && exec timeout -k 10 "$TIMEOUT" "${EMU_CMD[@]}" </dev/null >"$WORK/emulator.out" 2>&1) &
    EMU_PID=$!
    stream_console "$SERIAL_LOG" "$EMU_PID" "$WORK/times"
    EMU_RC=0
    wait "$EMU_PID" || EMU_RC=$?
    EMU_PID=""
    TOTAL_TIME=$(elapsed_since "$start")
    [[ -z $LOG_FILE ]] || cp "$SERIAL_LOG" "$LOG_FILE"
    local code=0
    verdict || code=$?
    exit "$code"
}

main "$@"
