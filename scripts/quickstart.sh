#!/usr/bin/env bash
# Install what nestvmm needs, build it, and run it on its built-in L1 guest.
# Usage: scripts/quickstart.sh [NESTVMM OPTIONS]   (e.g. --format json, --trace)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh

need_pkgs "${BUILD_PKGS[@]}" libcriterion-dev
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo "built build/nestvmm; running it:" >&2
# nestvmm needs /dev/kvm: run as root or as a member of the kvm group.
rc=0
build/nestvmm "$@" || rc=$?
echo "nestvmm exit code: $rc (0 all passed, 1 a stage failed, 4 nothing failed but something was skipped)" >&2
exit "$rc"
