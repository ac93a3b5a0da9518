#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerate the seed inputs under tests/fuzz/corpus/ (committed).

  make_seeds.py [L1_ELF]

corpus/elf:     the malformed-ELF cases of tests/fixtures/elf/make_elf.py built
                from a tiny valid ELF, plus a stripped L1 kernel when given.
corpus/chan:    gpa + RAM images holding one well-formed message of each type.
corpus/options: argv lists (NUL-separated) using every option.
corpus/fdt:     struct fdt_run values, normal and extreme.
corpus/run:     exit sequences: a clean run and each hostile mode's shape.
corpus/host:    vendor byte + /proc/cpuinfo of each fixture tree under
                tests/fixtures/host/, and the hostile shapes of issue 13.
Files named crash-* or regress-* are regressions: never delete them.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "elf"))
import make_elf  # noqa: E402

MAGIC = 0x314D564E
HDR = struct.Struct("<IHHI3HH8Q")          # struct nvm_msg without strings
LOG, BEGIN, END, FAIL, EXC, DONE, STEP = range(1, 8)
PORT = 0x5E0


def msg(typ, arg=0, vals=(), strs=()):
    strs = [s.encode() for s in strs] + [b""] * (3 - len(strs))
    vals = list(vals) + [0] * (8 - len(vals))
    size = HDR.size + sum(map(len, strs))
    return HDR.pack(MAGIC, typ, size, arg, *map(len, strs), 0, *vals) + b"".join(strs)


def write(corpus, name, data):
    d = os.path.join(HERE, "corpus", corpus)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def elf_seeds(l1):
    for name, data in make_elf.cases(make_elf.tiny()).items():
        write("elf", "seed-" + name, data)
    if l1:
        with tempfile.TemporaryDirectory() as t:
            out = os.path.join(t, "l1.elf")
            subprocess.run(["strip", "-o", out, l1], check=True)
            shutil.copy(out, os.path.join(HERE, "corpus", "elf", "seed-l1-stripped"))


def chan_seeds():
    msgs = {
        "log": msg(LOG, 1, strs=["l1: hello\tworld\n"]),
        "begin": msg(BEGIN, 2),
        "end": msg(END, 2, vals=[0], strs=["64-bit mode", "cr0=0x80010033\n"]),
        "fail": msg(FAIL, 42, strs=["guest/main.c", "x == y"]),
        "exception": msg(EXC, 13, vals=[0, 0x200000, 8, 0x46, 0x20a000, 0, 1], strs=["l1.enable"]),
        "done": msg(DONE),
        "binary-string": msg(LOG, 0, strs=["\x01\x7f\xff\x00"]),
        "three-strings": msg(END, 3, vals=[2], strs=["a" * 100, "b" * 200, "c" * 300]),
    }
    for name, m in msgs.items():
        ram = m + b"\0" * 64
        write("chan", "seed-" + name, struct.pack("<QI", 0, 0) + ram)
        write("chan", "seed-" + name + "-at-end", struct.pack("<QI", 32, 0) + b"\0" * 32 + m)
    write("chan", "seed-truncated-ram", struct.pack("<QI", 0, 2 * 60 + 1) + msgs["log"])
    write("chan", "seed-gpa-huge", struct.pack("<QI", 0xFFFFFFF0, 0) + msgs["done"])
    # Message rings (wire.h struct nvm_ring): a batch as L1 sends it, and one
    # whose used count cuts its last message.
    def pad(m):
        return m + b"\0" * (-len(m) % 8)
    batch = b"".join(pad(msgs[k]) for k in ("begin", "log", "end", "done"))
    ring = struct.pack("<IIII", 0x52564e4e, 4096, len(batch), 0) + batch
    ring += b"\0" * (16 + 4096 - len(ring))
    write("chan", "seed-ring-batch", struct.pack("<QI", 0, 0) + ring)
    cut = struct.pack("<IIII", 0x52564e4e, 4096, len(batch) - 3, 0) + batch
    cut += b"\0" * (16 + 4096 - len(cut))
    write("chan", "seed-ring-cut", struct.pack("<QI", 0, 0) + cut)


def options_seeds():
    argvs = {
        "defaults": [],
        "all": ["--arch", "amd", "--kernel", "/tmp/k.elf", "--format", "json", "--output",
                "out.json", "--output", "text:extra.txt", "--timeout", "5", "--mem", "64",
                "--cpu", "+svm,-npt,x2apic", "--hide-hypervisor", "--strict", "--iterations",
                "10", "--trace", "--kvm-device", "/dev/kvm", "--hostile", "spin"],
        "equals": ["--mem=4096", "--timeout=86400", "--cpu=-hypervisor", "--arch=intel"],
        "bad-number": ["--mem", "99999999999999999999"],
        "short-cluster": ["-xyz", "--mem", "8"],
        "cpu-many": ["--cpu", ",".join(["svm", "-npt"] * 20)],
        "outputs-many": ["--output", "json:a"] * 9,
        "help": ["--help"], "version": ["--version"],
        "stray": ["--trace", "stray"],
    }
    for name, argv in argvs.items():
        write("options", "seed-" + name, b"\0".join(a.encode() for a in argv))


FDT_HEAD = struct.Struct("<Q6I48I")


def fdt_seeds():
    cpuid = [0] * 48
    cpuid[:6] = [0, 0, 0xD, 0x68747541, 0x444D4163, 0x69746E65]
    cases = {
        "normal": (16 << 20, 0x7C, 32, 0, 1, 0, 1, b"amd\0spin"),
        "extreme": ((1 << 64) - 1, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 8, 0, 1,
                    b"intel\0" + b"x" * 300),
        "too-many-cpuid": (0, 0, 0, 0, 0xFFFFFFFF, 0, 2, b"amd"),
        "tiny-buffer": (16 << 20, 0x7C, 1, 1, 3, 100, 4 | 1, b"amd\0no-done"),
        "zero-buffer": (0, 0, 0, 0, 0, 0, 4, b""),
        "long-vendor": (4 << 20, 0x7C, 1, 2, 8, 0, 0, b"v" * 70000),
    }
    for name, (mem, mask, it, tr, n, size, flags, strs) in cases.items():
        write("fdt", "seed-" + name, FDT_HEAD.pack(mem, mask, it, tr, n, size, flags, *cpuid) + strs)


REC = struct.Struct("<BBHIQ")


def run_seeds():
    ram = b"l1.boot: 64-bit mode, own GDT/IDT" + b"\0" * 30

    def run(*recs, ram=ram):
        return struct.pack("<H", len(ram)) + ram + b"".join(REC.pack(*r) for r in recs)

    def stage(i, st=0):
        return [(4, BEGIN, 0, i, 0), (4, LOG, 10, 1, 0), (4, END, 33, i, st)]

    clean = [r for i in range(2, 7) for r in stage(i, 0 if i < 4 else 2)] + [(4, DONE, 0, 0, 0), (9, 0, 0, 0, 0)]
    write("run", "seed-clean", run(*clean))
    write("run", "seed-all-pass-then-triple-fault",
          run(*[r for i in range(2, 7) for r in stage(i)], (11, 0, 0, 0, 0)))
    write("run", "seed-dup-stage", run(*stage(2), (4, BEGIN, 0, 2, 0)))
    write("run", "seed-bad-stage", run((4, BEGIN, 0, 99, 0)))
    write("run", "seed-end-unopened", run((4, END, 0, 3, 0)))
    write("run", "seed-bad-status", run((4, BEGIN, 0, 2, 0), (4, END, 0, 2, 7)))
    write("run", "seed-garbage", run((0, 0, 0, 0, 0), (0, 0, 0, 0, 0xFFFFFFF0)))
    write("run", "seed-raw-message", run((0, 0, 0, 0, 0), ram=msg(LOG, 1, strs=["raw"])))
    write("run", "seed-flood", run(*[(4, LOG, 40, 1, 0)] * 300))
    write("run", "seed-no-done", run(*stage(2), (9, 0, 0, 0, 0)))
    write("run", "seed-mmio", run((10, 1, 4, 0, 0xD0000000)))
    write("run", "seed-internal-error", run((12, 0, 0, 1, 0)))
    write("run", "seed-fail-entry", run((13, 0, 0, 0, 0x80000021)))
    write("run", "seed-kvm-error", run((14, 0, 0, 0, 0)))
    write("run", "seed-other-port", run((8, 0, 1, 0x3F8 | (1 << 16), 0)))
    write("run", "seed-port-bad-offset", run((8, 1, 4, PORT | (1 << 16), 0xFFFFFFFF)))
    write("run", "seed-unknown-exit", run((99, 0, 0, 0, 0)))
    write("run", "seed-assert", run(*stage(2), (4, BEGIN, 0, 3, 0), (4, FAIL, 12, 77, 0)))
    write("run", "seed-exception", run((4, BEGIN, 0, 2, 0), (4, EXC, 8, 14, 0)))
    # Host steps: str0 is the start of RAM, so RAM starts with the action.
    step_ram = b"migrate" + b"\0" * 57
    write("run", "seed-step-migrate", run((4, BEGIN, 0, 2, 0), (4, STEP, 7, 2, 1), (4, STEP, 7, 2, 2),
                                          (4, STEP, 7, 2, 3), (4, END, 0, 2, 0), (4, DONE, 0, 0, 0),
                                          ram=step_ram))
    write("run", "seed-step-outside-test", run((4, STEP, 7, 2, 0), ram=step_ram))
    write("run", "seed-step-other-test", run((4, BEGIN, 0, 2, 0), (4, STEP, 7, 3, 0), ram=step_ram))
    write("run", "seed-step-unknown-action", run((4, BEGIN, 0, 2, 0), (4, STEP, 5, 2, 0), ram=step_ram))


def host_seeds():
    fixtures = os.path.join(HERE, "..", "fixtures", "host")
    for tree in sorted(os.listdir(fixtures)):
        with open(os.path.join(fixtures, tree, "proc", "cpuinfo"), "rb") as f:
            text = f.read()
        vendor = b"\x01" if b"GenuineIntel" in text else b"\x00"
        write("host", "seed-" + tree, vendor + text)
    write("host", "seed-long-model-colon-at-8191",
          b"\x00processor\t: 0\nmodel name" + b"x" * 8180 + b":\nflags\t\t: fpu svm npt\n")
    write("host", "seed-eof-model-colon", b"\x00processor\t: 0\nflags\t\t: fpu svm\nmodel name:")
    write("host", "seed-no-blank-no-newline", b"\x01model name\t:Intel\nflags\t:vmx ept")
    write("host", "seed-escapes", b"\x00model name\t: AMD \x1b[2J\x1b[31mEVIL\r\x9b1m\nflags\t: svm\n")
    write("host", "seed-nested-Y", b"\x00Y\n")


def main():
    elf_seeds(sys.argv[1] if len(sys.argv) > 1 else None)
    chan_seeds()
    options_seeds()
    fdt_seeds()
    run_seeds()
    host_seeds()


if __name__ == "__main__":
    main()
