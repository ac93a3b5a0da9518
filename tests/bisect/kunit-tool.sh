#!/bin/sh
# SPDX-License-Identifier: MIT
# Print the directory of the kernel's own KTAP parser (tools/testing/kunit),
# fetching it once: from Debian's linux-source-6.1 (installed with apt-get
# when we are root, else downloaded with apt-get download), extracting only
# tools/testing/kunit into a cache outside the repository.
#   NESTVMM_CACHE   cache directory (default: ~/.cache/nestvmm)
#   KUNIT_DIR       use this tools/testing/kunit instead
set -eu

if [ -n "${KUNIT_DIR:-}" ]; then
	[ -f "$KUNIT_DIR/kunit.py" ] || { echo "kunit-tool: no kunit.py in $KUNIT_DIR" >&2; exit 1; }
	echo "$KUNIT_DIR"
	exit 0
fi
cache=${NESTVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nestvmm}
dir=$cache/linux-source-6.1/tools/testing/kunit
tarball=/usr/src/linux-source-6.1.tar.xz
mkdir -p "$cache"

# ctest may run several of us at once: one fetches, the others wait.
exec 9>"$cache/.kunit.lock"
flock 9
if [ ! -f "$dir/kunit.py" ]; then
	if [ ! -f "$tarball" ]; then
		if [ "$(id -u)" = 0 ]; then
			echo "kunit-tool: installing linux-source-6.1" >&2
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
				linux-source-6.1 >&2
		else
			echo "kunit-tool: downloading linux-source-6.1 into $cache" >&2
			(cd "$cache" && apt-get download linux-source-6.1 >&2)
			deb=$(ls "$cache"/linux-source-6.1_*.deb | tail -n 1)
			dpkg-deb --fsys-tarfile "$deb" |
				tar -x -C "$cache" ./usr/src/linux-source-6.1.tar.xz
			tarball=$cache/usr/src/linux-source-6.1.tar.xz
		fi
	fi
	echo "kunit-tool: extracting tools/testing/kunit from $tarball" >&2
	tar -xJf "$tarball" -C "$cache" linux-source-6.1/tools/testing/kunit
fi
[ -f "$dir/kunit.py" ] || { echo "kunit-tool: $dir/kunit.py missing after extraction" >&2; exit 1; }
echo "$dir"
