#!/bin/sh
# shellcheck shell=sh
# /init of the userland L0 initramfs (busybox sh), built by scripts/l0/userland.sh.
# It loads KVM and the 9p/overlay modules, mounts the Debian root (9p, read
# only, with a tmpfs overlay on top) and the host directories shared with it
# (9p, read-write, at the same paths), and runs one command in that root.
#
# Inputs, written by the host side:
#   /etc/nestvmm/config   VENDOR_MODULE=kvm_amd, NESTED=0|1, VERBOSE=0|1
#   /etc/nestvmm/modules  modules to insmod, in order (/lib/nestvmm/NAME.ko)
#   /etc/nestvmm/shares   one line per shared directory: "TAG PATH"
#   /etc/nestvmm/command  bash script run in the Debian root (cd, env, command)
# Output: @@nestvmm markers on the console, as scripts/l0/init.sh prints them
# (boot ok, info, modules, run 1 begin/exit, done; "setup failed: ..." when
# the root cannot be mounted).

PATH=/bin
export PATH

marker() { echo "@@nestvmm $*"; }

# Power off whatever happened: the host reads the verdict from the markers.
finish() {
    marker "done"
    sync
    poweroff -f
    exit 1
}

# setup_failed KIND MESSAGE: KIND is "modules" or "setup" (see userland.sh).
setup_failed() {
    kind=$1
    shift
    marker "$kind failed: $*"
    dmesg | tail -n 5 | sed 's/^/  dmesg: /'
    finish
}

# --- boot -------------------------------------------------------------------
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
# shellcheck source=/dev/null # written by the host side
. /etc/nestvmm/config
[ "$VERBOSE" = 1 ] || dmesg -n 1
marker "boot ok"
cpu_flag=none
grep -qw svm /proc/cpuinfo && cpu_flag=svm
marker "info kernel=$(uname -r) cpu=$cpu_flag mem=$(awk '/MemTotal/ { print $2 }' /proc/meminfo)kB cpus=$(grep -c ^processor /proc/cpuinfo)"

# --- modules ------------------------------------------------------------------
# KVM (vendor module with nested=NESTED) and the filesystems for the root.
while read -r name; do
    params=""
    [ "$name" = "$VENDOR_MODULE" ] && params="nested=$NESTED"
    # shellcheck disable=SC2086 # params is empty or one word
    err=$(insmod "/lib/nestvmm/$name.ko" $params 2>&1) ||
        setup_failed modules "insmod $name.ko $params: $err"
done </etc/nestvmm/modules
[ -c /dev/kvm ] || setup_failed modules "/dev/kvm missing after loading modules"
marker "modules nested=$(cat "/sys/module/$VENDOR_MODULE/parameters/nested") ok"

# --- root -------------------------------------------------------------------
# The Debian tree is shared read-only (it is a cache other runs use); a tmpfs
# overlay makes it writable for this boot only. cache=loose: nobody else
# changes these files while the L0 runs, and it saves most 9p round trips.
opts9p="trans=virtio,version=9p2000.L,msize=512000,cache=loose"
mkdir -p /lower /rw /newroot
mount -t 9p -o "$opts9p,ro" rootfs /lower || setup_failed setup "cannot mount the 9p root"
mount -t tmpfs -o mode=755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work /newroot ||
    setup_failed setup "cannot mount the overlay root"
mount -t proc proc /newroot/proc
mount -t sysfs sysfs /newroot/sys
mount -t devtmpfs devtmpfs /newroot/dev
mkdir -p /newroot/dev/pts /newroot/dev/shm
mount -t devpts devpts /newroot/dev/pts
# What udev/systemd would add to /dev: bash's <(...) needs /dev/fd.
ln -s /proc/self/fd /newroot/dev/fd
ln -s /proc/self/fd/0 /newroot/dev/stdin
ln -s /proc/self/fd/1 /newroot/dev/stdout
ln -s /proc/self/fd/2 /newroot/dev/stderr
mount -t tmpfs tmpfs /newroot/dev/shm
mount -t tmpfs -o mode=1777 tmpfs /newroot/tmp
# The host's source and build trees, read-write, at their host paths (after
# /tmp, so a clone in /tmp/x is not hidden by it).
while read -r tag path; do
    mkdir -p "/newroot$path"
    mount -t 9p -o "$opts9p" "$tag" "/newroot$path" || setup_failed setup "cannot mount $path (9p $tag)"
done </etc/nestvmm/shares
cp /etc/nestvmm/command /newroot/run/nestvmm-command

# --- the command ------------------------------------------------------------
dmesg -c >/dev/null
marker "run 1 begin: $(head -n 1 /etc/nestvmm/command.txt)"
rc=0
chroot /newroot /bin/bash /run/nestvmm-command </dev/null || rc=$?
marker "run 1 exit $rc"
# Kernel messages of level warning or worse raised during the command.
warnings=$(dmesg -r | grep '^<[0-4]>' | sed 's/^<[0-9]>//')
if [ -n "$warnings" ]; then
    marker "run 1 dmesg begin"
    echo "$warnings"
    marker "run 1 dmesg end"
fi
# Write back what the command wrote to the shared trees before powering off.
sync
finish
