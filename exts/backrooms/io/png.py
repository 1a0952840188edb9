"""PNG frames: the lossless, byte-reproducible output of a render.

Written here rather than by Pillow, for speed: every row takes the PNG "Sub" filter (each byte minus
the same channel of the pixel to its left, one numpy subtraction for the whole frame) and zlib's
run-length strategy at level 1. On the default chain's taped frames that is 2.2-2.5x faster than
Pillow's ``compress_level=1`` (3.0 instead of 7.5 ms at 320x240, 11.5 instead of 25.5 ms at 640x480,
one thread of the 2-core EPYC) and the files come out 3-6 % smaller: film grain and tape noise leave
deflate's string matches little to find, so the filter and the entropy coder do the work. Same
pixels in, same bytes out (zlib is deterministic for a given version).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from backrooms.io.atomic import atomic_path

SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUB = 1  # PNG filter type: difference to the byte one pixel to the left


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 -> the bytes of an 8-bit RGB PNG."""
    height, width, _ = rgb.shape
    flat = rgb.reshape(height, 3 * width)
    rows = np.empty((height, 1 + 3 * width), np.uint8)
    rows[:, 0] = SUB
    rows[:, 1:4] = flat[:, :3]
    np.subtract(flat[:, 3:], flat[:, :-3], out=rows[:, 4:])  # wraps modulo 256, as the filter wants
    deflate = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    pixels = deflate.compress(rows.tobytes()) + deflate.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, no interlace
    return SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def write_png(path: Path, rgba: np.ndarray) -> None:
    """Write an (H, W, 4) or (H, W, 3) uint8 image as RGB PNG, atomically."""
    data = encode_png(np.ascontiguousarray(rgba[..., :3]))
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def read_png(path: Path) -> np.ndarray:
    """Read a PNG back as (H, W, 3) uint8."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
