#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Write a one-line deliberate nested-virtualization bug for a kernel tree as
# a patch (git diff format, a/ b/ paths) on stdout, for
# scripts/kvm-modules.sh --patch or to commit into a test history.
#
#   tests/bisect/nested-bug.sh amd|intel KERNEL_TREE > bug.patch
#
# amd:   nested_svm_vmexit() hands L1 a VMCB whose RAX is off by one (bit 0
#        flipped), so nestvmm's l2.run fails ("RAX=... in the VMCB, expected
#        ~token"). arch/x86/kvm/svm/nested.c
# intel: prepare_vmcs12() reports a VM-exit instruction length one byte too
#        long, so nestvmm's l2.run fails on the VMCALL exit ("length 4,
#        expected length 3"). arch/x86/kvm/vmx/nested.c
# The line is found by its text, so the same bug applies to 6.1 and 6.12.
set -euo pipefail

[[ $# == 2 ]] || { echo "usage: nested-bug.sh amd|intel KERNEL_TREE" >&2; exit 2; }
vendor=$1 tree=$2
case $vendor in
amd)
	file=arch/x86/kvm/svm/nested.c
	line='vmcb12->save.rax    = kvm_rax_read(vcpu);'
	bug='vmcb12->save.rax    = kvm_rax_read(vcpu) ^ 1;'
	;;
intel)
	file=arch/x86/kvm/vmx/nested.c
	line='vmcs12->vm_exit_instruction_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);'
	bug='vmcs12->vm_exit_instruction_len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN) + 1;'
	;;
*) echo "nested-bug.sh: vendor must be amd or intel, not '$vendor'" >&2; exit 2 ;;
esac
[[ -f $tree/$file ]] || { echo "nested-bug.sh: $tree/$file not found" >&2; exit 2; }
count=$(grep -cF -- "$line" "$tree/$file" || true)
[[ $count == 1 ]] || { echo "nested-bug.sh: expected one line '$line' in $tree/$file, found $count" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/a/${file%/*}" "$work/b/${file%/*}"
cp "$tree/$file" "$work/a/$file"
# The bug line replaces the original, keeping its indentation (matched as a
# plain string, not a regular expression).
awk -v l="$line" -v b="$bug" 'index($0, l) { sub(/[^ \t].*/, ""); $0 = $0 b } { print }' \
	"$tree/$file" >"$work/b/$file"
(cd "$work" && diff -u --label "a/$file" --label "b/$file" "a/$file" "b/$file" || [[ $? == 1 ]])
