#!/usr/bin/env bash
# AMD SVM nesting: nestvmm in a QEMU TCG (-cpu max) L0. See README.md here.
L0_NAME=$0 exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" --vendor amd "$@"
