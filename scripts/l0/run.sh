#!/usr/bin/env bash
# Boot an emulated L0 machine whose KVM supports nesting, run nestvmm in it one
# or more times, and exit with nestvmm's exit code. AMD SVM runs under QEMU
# TCG (-cpu max), Intel VMX under Bochs (corei7_skylake_x).
# Usually called through qemu-amd.sh or bochs-intel.sh; see README.md here.
set -euo pipefail

# shellcheck source=scripts/l0/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO_ROOT=$(cd "$L0_DIR/../.." && pwd)

usage() {
    cat <<EOF
usage: ${L0_NAME:-scripts/l0/run.sh --vendor amd|intel} [options] [-- NESTVMM_ARGS...]

Boot an emulated L0 with nested KVM and run nestvmm inside it.

  --kernel SPEC     6.1 | 6.12 | linux-image-PKG | PATH/bzImage   (default 6.12)
  --modules DIR     modules of a --kernel PATH (omit if KVM is built in); with
                    a Debian kernel: kvm*.ko built for it (scripts/kvm-modules.sh)
                    that replace its own KVM modules
  --kvm-modules DIR kvm*.ko that replace the KVM modules of --modules (a KVM
                    rebuilt for a kernel you built: scripts/kvm-modules.sh
                    --base-build); with a Debian kernel the same as --modules
  --nestvmm PATH    static binary to run (default build/nestvmm)
  --nested 0|1      nested= for the KVM vendor module, for the runs after it (default 1)
  --run "ARGS"      one nestvmm run; ARGS split on whitespace; repeatable
  -- ARGS...        one more run with exactly these args (must come last)
  --results DIR     per-run files: run-N.log run-N.exit run-N.dmesg run-N.FILE, console.log
  --log FILE        save the whole serial console here (default DIR/console.log)
  --timeout SEC     whole-boot limit (default 300 for QEMU, 600 for Bochs)
  --memory MB       L0 memory (default 1024)
  --cpu MODEL       QEMU -cpu (default max, e.g. max,-npt) or Bochs cpu model
                    (default corei7_skylake_x)
  --append "ARGS"   extra L0 kernel command line
  --verbose         show the L0 kernel's boot messages
  -h, --help        this text

No --run and no -- means one run without arguments. Files a run writes to /out
(its working directory, also \$NESTVMM_OUT) are copied into --results.
Exit: nestvmm's code (several runs: first non-zero), or 100 setup error,
101 L0 did not boot, 102 KVM modules failed, 103 timeout, 104 L0 died mid-run.
EOF
}

# --- command line -------------------------------------------------------------
# --nested applies to the runs that follow it, so the runs are kept as two
# parallel arrays: their nested value and their argument list (sh-quoted).

VENDOR=""
KERNEL_SPEC=6.12
MODULES_OPT=""
KVM_MODULES_OPT=""
KVM_MODULES_DIR=""
MODULES_TEXT=""
NESTVMM_BIN="$REPO_ROOT/build/nestvmm"
CURRENT_NESTED=1
RUN_NESTED=()
RUN_ARGS=()
RUN_TEXT=()
RESULTS_DIR=""
LOG_FILE=""
TIMEOUT=""
MEMORY_MB=1024
CPU_MODEL=""
EXTRA_CMDLINE=""
VERBOSE=0

# add_run ARG...: queue one nestvmm run with the current --nested value.
add_run() {
    RUN_NESTED+=("$CURRENT_NESTED")
    RUN_ARGS+=("$(sh_quote "$@")")
    RUN_TEXT+=("$*")
}

# need_value OPTION COUNT: an option's value must be present.
need_value() {
    [[ $2 -ge 2 ]] || setup_error "$1 needs a value (see --help)"
}

parse_args() {
    local words
    while [[ $# -gt 0 ]]; do
        case $1 in
        --vendor | --kernel | --modules | --kvm-modules | --nestvmm | --nested | --run | --results | --log | --timeout | --memory | --cpu | --append)
            need_value "$1" $#
            ;;
        esac
        case $1 in
        --vendor) VENDOR=$2 ;;
        --kernel) KERNEL_SPEC=$2 ;;
        --modules) MODULES_OPT=$2 ;;
        --kvm-modules) KVM_MODULES_OPT=$2 ;;
        --nestvmm) NESTVMM_BIN=$2 ;;
        --nested)
            [[ $2 == [01] ]] || setup_error "--nested takes 0 or 1, not '$2'"
            CURRENT_NESTED=$2
            ;;
        --run)
            read -r -a words <<<"$2" || true
            add_run "${words[@]}"
            ;;
        --results) RESULTS_DIR=$2 ;;
        --log) LOG_FILE=$2 ;;
        --timeout)
            [[ $2 =~ ^[1-9][0-9]*$ ]] || setup_error "--timeout takes whole seconds, not '$2'"
            TIMEOUT=$2
            ;;
        --memory)
            [[ $2 =~ ^[1-9][0-9]*$ ]] || setup_error "--memory takes megabytes, not '$2'"
            MEMORY_MB=$2
            ;;
        --cpu) CPU_MODEL=$2 ;;
        --append) EXTRA_CMDLINE=$2 ;;
        --verbose) VERBOSE=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        --)
            shift
            add_run "$@"
            break
            ;;
        *) setup_error "unknown option '$1' (see --help)" ;;
        esac
        case $1 in
        --verbose) shift ;;
        *) shift 2 ;;
        esac
    done
    [[ ${#RUN_ARGS[@]} -gt 0 ]] || add_run
}

# --- vendors ------------------------------------------------------------------
# Everything that differs between AMD/QEMU and Intel/Bochs is chosen here.

select_vendor() {
    case $VENDOR in
    amd)
        VENDOR_MODULE=kvm_amd
        EMULATOR=qemu
        TIMEOUT=${TIMEOUT:-300}
        CPU_MODEL=${CPU_MODEL:-max}
        EMULATOR_PKGS=(qemu-system-x86)
        ;;
    intel)
        VENDOR_MODULE=kvm_intel
        EMULATOR=bochs
        TIMEOUT=${TIMEOUT:-600}
        CPU_MODEL=${CPU_MODEL:-corei7_skylake_x}
        EMULATOR_PKGS=(bochs bochsbios vgabios grub-pc-bin grub-common xorriso mtools socat)
        ;;
    "") setup_error "--vendor amd|intel is required (or use qemu-amd.sh / bochs-intel.sh)" ;;
    *) setup_error "--vendor must be amd or intel, not '$VENDOR'" ;;
    esac
}

# QEMU: TCG with -cpu max emulates SVM and NPT; -no-reboot makes a reset or
# panic end the emulator instead of booting again.
launch_qemu() {
    EMU_CMD=(qemu-system-x86_64 -accel tcg -cpu "$CPU_MODEL" -m "$MEMORY_MB" -nodefaults
        -display none -no-reboot -serial "file:$SERIAL_LOG"
        -kernel "$KERNEL_IMAGE" -initrd "$WORK/initrd.gz" -append "$CMDLINE")
}

# Bochs boots a GRUB ISO (it has no direct kernel loading), headless through
# its RFB display, with its built-in debugger told to just continue.
launch_bochs() {
    build_grub_iso "$WORK/l0.iso"
    start_serial_relay "$WORK/com1"
    cat >"$WORK/bochsrc" <<EOF
megs: $MEMORY_MB
cpu: model=$CPU_MODEL, count=1
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path="$WORK/l0.iso", status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev="$WORK/com1"
display_library: rfb, options="timeout=0"
clock: sync=none
# No sound device: Bochs would open the host sound system for the PC speaker and
# its lowlevel sound driver, and aborts where none is usable (a fresh machine).
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
log: $WORK/bochs.log
panic: action=fatal
info: action=ignore
debug: action=ignore
EOF
    echo c >"$WORK/bochs.rc"
    EMU_CMD=(bochs -q -f "$WORK/bochsrc" -rc "$WORK/bochs.rc")
}

# build_grub_iso ISO: a BIOS-bootable GRUB image that boots the L0 kernel.
build_grub_iso() {
    local iso_root="$WORK/iso"
    mkdir -p "$iso_root/boot/grub"
    cp "$KERNEL_IMAGE" "$iso_root/boot/vmlinuz"
    cp "$WORK/initrd.gz" "$iso_root/boot/initrd.gz"
    cat >"$iso_root/boot/grub/grub.cfg" <<EOF
set timeout=0
set timeout_style=hidden
linux /boot/vmlinuz $CMDLINE
initrd /boot/initrd.gz
boot
EOF
    grub-mkrescue -o "$1" "$iso_root" >"$WORK/grub-mkrescue.log" 2>&1 || {
        tail -n 5 "$WORK/grub-mkrescue.log" >&2
        setup_error "grub-mkrescue failed"
    }
}

# start_serial_relay LINK: a pty at LINK whose output socat appends to
# SERIAL_LOG. Bochs' "file" mode buffers its output (nothing would stream,
# and a panic would go unseen), and its "term" mode on a plain file reads
# its own output back as input; a pty avoids both.
start_serial_relay() {
    local link=$1 i
    socat -u "PTY,link=$link,rawer,wait-slave" "OPEN:$SERIAL_LOG,creat,append" 2>"$WORK/socat.log" &
    RELAY_PID=$!
    for i in $(seq 50); do
        [[ -e $link ]] && return 0
        sleep 0.1
    done
    setup_error "socat did not create the serial pty ($(head -n 1 "$WORK/socat.log"))"
}

# --- preparation --------------------------------------------------------------

check_inputs() {
    [[ -f $NESTVMM_BIN ]] || setup_error "nestvmm binary not found: $NESTVMM_BIN (build it, or pass --nestvmm PATH)"
    [[ -x $NESTVMM_BIN ]] || setup_error "nestvmm binary is not executable: $NESTVMM_BIN"
    is_static_elf "$NESTVMM_BIN" || setup_error "$NESTVMM_BIN is dynamically linked; the L0 has no libc, link it statically"
    if [[ -n $MODULES_OPT && ! -d $MODULES_OPT ]]; then
        setup_error "modules directory not found: $MODULES_OPT"
    fi
    if [[ -n $KVM_MODULES_OPT && ! -d $KVM_MODULES_OPT ]]; then
        setup_error "KVM modules directory not found: $KVM_MODULES_OPT"
    fi
}

# prepare_kernel: set KERNEL_IMAGE and MODULE_DIR ("" = KVM built in).
prepare_kernel() {
    local pkg dir
    if [[ -e $KERNEL_SPEC || $KERNEL_SPEC == */* ]]; then
        [[ -f $KERNEL_SPEC ]] || setup_error "kernel image not found: $KERNEL_SPEC"
        KERNEL_IMAGE=$KERNEL_SPEC
        MODULE_DIR=$MODULES_OPT
        KVM_MODULES_DIR=$KVM_MODULES_OPT
        KERNEL_NAME=$KERNEL_SPEC
        [[ -z $KVM_MODULES_DIR || -n $MODULE_DIR ]] ||
            setup_error "--kvm-modules replaces KVM modules of the kernel's own: give those with --modules DIR too"
    else
        # With a Debian kernel, --modules replaces only its KVM modules.
        [[ -z $MODULES_OPT || -z $KVM_MODULES_OPT || $MODULES_OPT == "$KVM_MODULES_OPT" ]] ||
            setup_error "with a Debian kernel --modules and --kvm-modules both name the KVM modules that replace its own: give one"
        pkg=$(resolve_kernel_package "$KERNEL_SPEC")
        dir=$(fetch_kernel "$pkg")
        KERNEL_IMAGE="$dir/vmlinuz"
        MODULE_DIR="$dir/modules"
        KVM_MODULES_DIR=${MODULES_OPT:-$KVM_MODULES_OPT}
        KERNEL_NAME=$pkg
    fi
    # Built-in KVM reads nested= once, from the command line.
    if [[ -z $MODULE_DIR && ${#RUN_NESTED[@]} -gt 1 ]]; then
        local n
        for n in "${RUN_NESTED[@]}"; do
            [[ $n == "${RUN_NESTED[0]}" ]] ||
                setup_error "KVM built into the kernel cannot switch nested between runs (give --modules DIR)"
        done
    fi
}

prepare_initramfs() {
    local root="$WORK/root" i
    mkdir -p "$root/lib/nestvmm" "$root/etc/nestvmm" "$root/bin"
    cp "$NESTVMM_BIN" "$root/bin/nestvmm"
    if [[ -n $MODULE_DIR ]]; then
        collect_modules "$MODULE_DIR" "$VENDOR_MODULE" "$root/lib/nestvmm" "$root/etc/nestvmm/modules" "$KVM_MODULES_DIR"
        describe_modules "$root"
    else
        : >"$root/etc/nestvmm/modules"
    fi
    printf 'VENDOR_MODULE=%s\nVERBOSE=%s\n' "$VENDOR_MODULE" "$VERBOSE" >"$root/etc/nestvmm/config"
    for i in "${!RUN_ARGS[@]}"; do
        printf 'run %s %s\n' "${RUN_NESTED[$i]}" "${RUN_ARGS[$i]}"
    done >"$root/etc/nestvmm/plan"
    build_initramfs "$WORK/initrd.gz" "$root"
}

# describe_modules ROOT: say which module builds the L0 loads (and keep the
# list as DIR/modules.txt with --results), so a verdict names exactly what
# it tested.
describe_modules() {
    local root=$1 name origin line
    MODULES_TEXT=""
    while read -r name; do
        origin=package
        [[ -z ${MODULE_CUSTOM[$name]:-} ]] || origin="custom ${MODULE_PATH[$name]}"
        [[ $KERNEL_NAME != */* ]] || origin=${MODULE_PATH[$name]}
        line="$name $(module_identity "$root/lib/nestvmm/$name.ko") from $origin"
        MODULES_TEXT+="$line"$'\n'
        [[ -z ${MODULE_CUSTOM[$name]:-} ]] || say "module $line"
    done <"$root/etc/nestvmm/modules"
}

kernel_cmdline() {
    # no_timer_check: an emulator slowed down by a busy host can fail the
    # kernel's IO-APIC timer check ("IO-APIC + timer doesn't work!" panic).
    CMDLINE="console=ttyS0,115200 panic=-1 rdinit=/init no_timer_check"
    [[ $VERBOSE == 1 ]] || CMDLINE+=" quiet loglevel=1"
    [[ -n $MODULE_DIR ]] || CMDLINE+=" $VENDOR_MODULE.nested=${RUN_NESTED[0]}"
    [[ -z $EXTRA_CMDLINE ]] || CMDLINE+=" $EXTRA_CMDLINE"
}

# --- running ------------------------------------------------------------------
# The emulator runs in the background under timeout(1), writing the serial
# console to SERIAL_LOG; the foreground streams that log until it exits.

EMU_PID=""
RELAY_PID=""
WORK=""

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
    if [[ -n $EMU_PID ]]; then
        kill "$EMU_PID" 2>/dev/null || true
        wait "$EMU_PID" 2>/dev/null || true
    fi
    if [[ -n $RELAY_PID ]]; then
        kill "$RELAY_PID" 2>/dev/null || true
        wait "$RELAY_PID" 2>/dev/null || true
    fi
    [[ -z $WORK ]] || rm -rf "$WORK"
}

run_emulator() {
    : >"$SERIAL_LOG"
    say "booting $KERNEL_NAME under $EMULATOR (${#RUN_ARGS[@]} run(s), timeout ${TIMEOUT}s)"
    START_TIME=$EPOCHREALTIME
    (cd "$WORK" && exec timeout -k 10 "$TIMEOUT" "${EMU_CMD[@]}" </dev/null >"$WORK/emulator.out" 2>&1) &
    EMU_PID=$!
    stream_console "$SERIAL_LOG" "$EMU_PID" "$WORK/times"
    EMU_RC=0
    wait "$EMU_PID" || EMU_RC=$?
    EMU_PID=""
    TOTAL_TIME=$(elapsed_since "$START_TIME")
}

# time_of MARKER_PREFIX: seconds after start at which that marker arrived.
time_of() {
    awk -v m="$1" 'substr($0, index($0, " ") + 1, length(m)) == m { print $1; exit }' "$WORK/times"
}

show_emulator_output() {
    if [[ -s $WORK/emulator.out ]]; then
        say "last lines of $EMULATOR's output:"
        tail -n 5 "$WORK/emulator.out" | sed 's/^/    /' >&2
    fi
}

show_panic_line() {
    grep -a -m 1 'Kernel panic' "$SERIAL_LOG" | tr -d '\r' | sed 's/^/    /' >&2 || true
}

# verdict: print a summary and return the runner's exit code.
verdict() {
    local markers i code exit_code=0 t_begin t_end boot_time finished=0
    markers=$(marker_lines "$SERIAL_LOG")
    grep -qx 'done' <<<"$markers" && finished=1
    boot_time=$(time_of "boot ok")
    if [[ $finished == 0 && ($EMU_RC == 124 || $EMU_RC == 137) ]]; then
        local where="before /init"
        [[ -z $boot_time ]] || where="after $(tail -n 1 <<<"$markers")"
        say "TIMEOUT: L0 still running after ${TIMEOUT}s (last sign of life: $where)"
        return "$L0_EXIT_TIMEOUT"
    fi
    if ! grep -qx 'boot ok' <<<"$markers"; then
        say "L0 kernel did not reach /init (emulator exit $EMU_RC); try --verbose"
        show_panic_line
        show_emulator_output
        return "$L0_EXIT_NO_BOOT"
    fi
    say "L0 reached /init after ${boot_time}s ($(grep -m1 '^info ' <<<"$markers" | cut -c6-))"
    if grep -q '^modules failed' <<<"$markers"; then
        say "KVM $(grep -m1 '^modules failed' <<<"$markers")"
        return "$L0_EXIT_MODULES"
    fi
    for i in "${!RUN_ARGS[@]}"; do
        code=$(sed -n "s/^run $((i + 1)) exit \([0-9]*\)\$/\1/p" <<<"$markers")
        if [[ -z $code ]]; then
            say "L0 stopped before run $((i + 1)) finished (kernel panic or reset?)"
            show_panic_line
            return "$L0_EXIT_DIED"
        fi
        t_begin=$(time_of "run $((i + 1)) begin:")
        t_end=$(time_of "run $((i + 1)) exit")
        say "run $((i + 1)) (nested=${RUN_NESTED[$i]}): exit $code in $(awk -v a="$t_begin" -v b="$t_end" 'BEGIN { printf "%.1f", b - a }')s: nestvmm ${RUN_TEXT[$i]}"
        [[ $exit_code != 0 ]] || exit_code=$code
    done
    say "total ${TOTAL_TIME}s, exit $exit_code"
    return "$exit_code"
}

main() {
    parse_args "$@"
    select_vendor
    check_inputs
    need_pkgs busybox-static cpio kmod xz-utils zstd gzip "${EMULATOR_PKGS[@]}"
    is_static_elf /bin/busybox || setup_error "/bin/busybox is not static (install busybox-static)"

    WORK=$(mktemp -d "${TMPDIR:-/tmp}/nestvmm-l0.XXXXXX")
    trap cleanup EXIT
    trap 'exit $L0_EXIT_INTERRUPTED' INT TERM

    if [[ -n $RESULTS_DIR ]]; then
        mkdir -p "$RESULTS_DIR" || setup_error "cannot create --results $RESULTS_DIR"
    fi
    SERIAL_LOG=${LOG_FILE:-${RESULTS_DIR:+$RESULTS_DIR/console.log}}
    SERIAL_LOG=${SERIAL_LOG:-$WORK/console.log}
    : >"$SERIAL_LOG" 2>/dev/null || setup_error "cannot write log file $SERIAL_LOG"
    SERIAL_LOG=$(realpath "$SERIAL_LOG")

    prepare_kernel
    prepare_initramfs
    kernel_cmdline
    case $EMULATOR in
    qemu) launch_qemu ;;
    bochs) launch_bochs ;;
    esac
    run_emulator

    local code=0
    verdict || code=$?
    if [[ -n $RESULTS_DIR ]]; then
        extract_results "$SERIAL_LOG" "$RESULTS_DIR"
        [[ $SERIAL_LOG -ef $RESULTS_DIR/console.log ]] || cp "$SERIAL_LOG" "$RESULTS_DIR/console.log"
        printf '%s' "$MODULES_TEXT" >"$RESULTS_DIR/modules.txt"
    fi
    exit "$code"
}

main "$@"
