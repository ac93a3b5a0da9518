# Debian packages nestvmm needs, by purpose; sourced by quickstart.sh and test.sh.
# need_pkgs PKG...: install the ones missing (apt-get; root, or sudo when available).

BUILD_PKGS=(build-essential cmake pkg-config linux-libc-dev libfdt-dev)
BENCH_PKGS=(hyperfine time jq bc)
TEST_PKGS=(libcriterion-dev jq bc time valgrind strace e2fsprogs util-linux clang libclang-rt-14-dev
	   libxml2-utils python3 perl man-db chromium)
# The Debian root of the userland L0 (scripts/l0/userland.sh), where the tests
# labelled "kvm" run when this host has no usable /dev/kvm: what those tests
# call, and cmake for ctest. The sanitizer runtimes are added from gcc's.
USERLAND_PKGS=(bash coreutils util-linux procps e2fsprogs jq bc time python3 perl strace
	       valgrind libc6-dbg man-db cmake)
L0_PKGS=(qemu-system-x86 busybox-static cpio kmod xz-utils zstd
	 bochs bochsbios vgabios grub-pc-bin grub-common xorriso mtools socat)

need_pkgs() {
	local missing=() p sudo=
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	echo "installing: ${missing[*]}" >&2
	$sudo apt-get update -qq >&2
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}
