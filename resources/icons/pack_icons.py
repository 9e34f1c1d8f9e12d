#!/usr/bin/env python3
# Packs the rendered PNGs of the application icon into a Windows .ico and a macOS .icns (standard library only).
#   pack_icons.py ico  OUT.ico  16.png 24.png ... 256.png
#   pack_icons.py icns OUT.icns 16.png 32.png ... 1024.png
# The .ico keeps sizes up to 48 px as 32-bit DIBs (every Windows version and makensis read them) and larger sizes
# as PNG; the .icns stores every size as PNG under the type codes macOS 10.7+ understands.
# SPDX-License-Identifier: GPL-3.0-or-later
import struct
import sys
import zlib


def read_png(path):
    """Returns (width, height, data) for an 8-bit RGBA, non-interlaced PNG (what rsvg-convert writes)."""
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit(f"{path}: not a PNG")
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour != 6 or interlace != 0:
                raise SystemExit(f"{path}: expected 8-bit RGBA without interlacing")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, data, zlib.decompress(idat)


def rgba_rows(width, height, raw):
    """Undoes the PNG row filters; returns a list of bytearrays of RGBA pixels, top row first."""
    stride, rows, prev, pos = width * 4, [], bytearray(width * 4), 0
    for _ in range(height):
        kind = raw[pos]
        line = bytearray(raw[pos + 1:pos + 1 + stride])
        pos += 1 + stride
        for x in range(stride):
            left = line[x - 4] if x >= 4 else 0
            up = prev[x]
            up_left = prev[x - 4] if x >= 4 else 0
            if kind == 1:
                line[x] = (line[x] + left) & 0xFF
            elif kind == 2:
                line[x] = (line[x] + up) & 0xFF
            elif kind == 3:
                line[x] = (line[x] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else (up if pb <= pc else up_left)
                line[x] = (line[x] + pred) & 0xFF
        rows.append(line)
        prev = line
    return rows


def dib(width, height, rows):
    """A 32-bit BGRA device-independent bitmap with its (all-zero) AND mask, as an .ico entry wants it."""
    header = struct.pack("<IiiHHIIiiII", 40, width, height * 2, 1, 32, 0, 0, 0, 0, 0, 0)
    pixels = bytearray()
    for row in reversed(rows):  # bottom-up
        for x in range(width):
            r, g, b, a = row[4 * x:4 * x + 4]
            pixels += bytes((b, g, r, a))
    mask_stride = ((width + 31) // 32) * 4
    return header + bytes(pixels) + bytes(mask_stride * height)


def write_ico(out, paths):
    images = []
    for path in paths:
        width, height, data, raw = read_png(path)
        body = data if width > 48 else dib(width, height, rgba_rows(width, height, raw))
        images.append((width, height, body))
    images.sort(key=lambda i: i[0])
    offset = 6 + 16 * len(images)
    directory, bodies = b"", b""
    for width, height, body in images:
        directory += struct.pack("<BBBBHHII", width % 256, height % 256, 0, 0, 1, 32, len(body), offset)
        offset += len(body)
        bodies += body
    with open(out, "wb") as f:
        f.write(struct.pack("<HHH", 0, 1, len(images)) + directory + bodies)


# Pixel size -> icns type codes holding a PNG of exactly that many pixels (1x and 2x variants).
ICNS_TYPES = {16: [b"icp4"], 32: [b"icp5", b"ic11"], 64: [b"icp6", b"ic12"], 128: [b"ic07"],
              256: [b"ic08", b"ic13"], 512: [b"ic09", b"ic14"], 1024: [b"ic10"]}


def write_icns(out, paths):
    entries = b""
    for path in paths:
        width, height, data, _ = read_png(path)
        if width != height or width not in ICNS_TYPES:
            raise SystemExit(f"{path}: {width}x{height} has no icns slot")
        for code in ICNS_TYPES[width]:
            entries += code + struct.pack(">I", 8 + len(data)) + data
    with open(out, "wb") as f:
        f.write(b"icns" + struct.pack(">I", 8 + len(entries)) + entries)


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] not in ("ico", "icns"):
        raise SystemExit("usage: pack_icons.py ico|icns OUT PNG...")
    (write_ico if sys.argv[1] == "ico" else write_icns)(sys.argv[2], sys.argv[3:])
