#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Print the colours of a PNG screenshot: "rrggbb PIXELS Y0-Y1 Y0-Y1..." for
every colour covering at least 100 pixels, most frequent first, with the
bands of rows (top to bottom) where it appears. Standard library
only (zlib): 8-bit RGB or RGBA, not interlaced, as Chromium writes them."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(f"{path}: not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or ctype not in (2, 6) or interlace:
                sys.exit(f"{path}: unsupported PNG (depth {depth}, colour type {ctype}, interlace {interlace})")
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main():
    width, height, bpp, rows = read_png(sys.argv[1])
    count, bands = {}, {}
    for y, line in enumerate(rows):
        for x in range(0, width * bpp, bpp):
            key = line[x:x + 3].hex()
            count[key] = count.get(key, 0) + 1
            b = bands.setdefault(key, [])
            if b and b[-1][1] >= y - 1:
                b[-1][1] = y
            else:
                b.append([y, y])
    for key, n in sorted(count.items(), key=lambda kv: -kv[1]):
        if n >= 100:
            print(key, n, " ".join(f"{a}-{z}" for a, z in bands[key]))


if __name__ == "__main__":
    main()
