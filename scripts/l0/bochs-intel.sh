#!/usr/bin/env bash
# Intel VMX nesting: nestvmm in a Bochs (corei7_skylake_x) L0. See README.md here.
L0_NAME=$0 exec "$(dirname "${BASH_SOURCE[0]}")/run.sh" --vendor intel "$@"
