#!/bin/sh
# shellcheck shell=sh
# /init of the nestvmm L0 initramfs (busybox sh), built by scripts/l0/lib.sh.
#
# Inputs, written by the host side:
#   /etc/nestvmm/config   VENDOR_MODULE=kvm_amd|kvm_intel, VERBOSE=0|1
#   /etc/nestvmm/modules  modules to insmod, in order (/lib/nestvmm/NAME.ko);
#                         empty when KVM is built into the kernel
#   /etc/nestvmm/plan     one line per run: "run NESTED 'arg' 'arg'..."
# Output: @@nestvmm markers on the console (format in scripts/l0/README.md).

PATH=/bin
export PATH
# The serial console is a terminal to nestvmm: keep colour codes out of the logs.
NO_COLOR=1
export NO_COLOR

marker() { echo "@@nestvmm $*"; }

# Power off whatever happened: the host reads the verdict from the markers.
# Should poweroff fail, init exits: the kernel panics and the emulator stops.
finish() {
    marker "done"
    sync
    poweroff -f
    exit 1
}

modules_failed() {
    marker "modules failed: $*"
    dmesg | tail -n 5 | sed 's/^/  dmesg: /'
    finish
}

# --- boot -------------------------------------------------------------------
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# shellcheck source=/dev/null # written by the host side
. /etc/nestvmm/config
# Keep kernel messages off the console while nestvmm runs.
[ "$VERBOSE" = 1 ] || dmesg -n 1
marker "boot ok"
cpu_flag=none
grep -qw svm /proc/cpuinfo && cpu_flag=svm
grep -qw vmx /proc/cpuinfo && cpu_flag=vmx
marker "info kernel=$(uname -r) cpu=$cpu_flag mem=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)kB"

# --- KVM modules ------------------------------------------------------------
# nested= is a load-time parameter, so changing it means unloading the vendor
# module and kvm.ko (and anything else we loaded) and loading them again.
loaded_nested=""

# nested_now: the vendor module's nested parameter as 0/1 (kvm_intel says Y/N).
nested_now() {
    case $(cat "/sys/module/$VENDOR_MODULE/parameters/nested" 2>/dev/null) in
    1 | Y) echo 1 ;;
    0 | N) echo 0 ;;
    *) echo unknown ;;
    esac
}

unload_modules() {
    for name in $(tac /etc/nestvmm/modules); do
        [ -d "/sys/module/$name" ] || continue
        err=$(rmmod "$name" 2>&1) || modules_failed "rmmod $name: $err"
    done
}

# load_modules NESTED: make sure KVM is loaded with nested=NESTED.
load_modules() {
    want=$1
    [ "$loaded_nested" = "$want" ] && return 0
    if [ ! -s /etc/nestvmm/modules ]; then
        # Built-in KVM: nested comes from the kernel command line.
        [ -c /dev/kvm ] || modules_failed "no /dev/kvm and no modules to load"
        have=$(nested_now)
        [ "$have" = "$want" ] ||
            modules_failed "built-in $VENDOR_MODULE has nested=$have, wanted $want"
    else
        [ -n "$loaded_nested" ] && unload_modules
        while read -r name; do
            [ -d "/sys/module/$name" ] && continue
            params=""
            [ "$name" = "$VENDOR_MODULE" ] && params="nested=$want"
            # shellcheck disable=SC2086 # params is empty or one word
            err=$(insmod "/lib/nestvmm/$name.ko" $params 2>&1) ||
                modules_failed "insmod $name.ko $params: $err"
        done </etc/nestvmm/modules
        [ -c /dev/kvm ] || modules_failed "/dev/kvm missing after loading modules"
        have=$(nested_now)
        [ "$have" = "$want" ] ||
            modules_failed "$VENDOR_MODULE loaded but reports nested=$have, wanted $want"
    fi
    loaded_nested=$want
    marker "modules nested=$want ok"
}

# --- runs -------------------------------------------------------------------
# run_nestvmm N QUOTED_ARGS: one nestvmm invocation in a fresh /out, then its
# exit code, the kernel warnings it caused, and every file it left in /out.
run_nestvmm() {
    n=$1
    eval "set -- $2"
    rm -rf /out
    mkdir /out
    dmesg -c >/dev/null
    marker "run $n begin: $*"
    rc=0
    (cd /out && NESTVMM_OUT=/out exec /bin/nestvmm "$@" </dev/null) || rc=$?
    marker "run $n exit $rc"
    # Kernel messages of level warning or worse raised during the run.
    warnings=$(dmesg -r | grep '^<[0-4]>' | sed 's/^<[0-9]>//')
    if [ -n "$warnings" ]; then
        marker "run $n dmesg begin"
        echo "$warnings"
        marker "run $n dmesg end"
    fi
    (cd /out && find . -type f) | sed 's|^\./||' | while IFS= read -r f; do
        marker "run $n file $f begin base64"
        base64 "/out/$f"
        marker "run $n file end"
    done
}

n=0
while read -r kind nested args; do
    [ "$kind" = run ] || continue
    n=$((n + 1))
    load_modules "$nested"
    run_nestvmm "$n" "$args"
done </etc/nestvmm/plan
finish
