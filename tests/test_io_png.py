"""The PNG writer: any frame decodes back exactly (by Pillow, an independent decoder), same bytes."""

import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from backrooms.io import png
from backrooms.io.png import BAND_ROWS, encode_png, read_png, write_png


@pytest.mark.parametrize("shape", [(1, 1), (7, 1), (1, 5), (24, 33), (240, 320)])
def test_random_frames_decode_back_exactly(tmp_path, shape):
    rgb = np.random.default_rng(shape[1]).integers(0, 256, (*shape, 3), dtype=np.uint8)
    write_png(tmp_path / "f.png", rgb)
    with Image.open(tmp_path / "f.png") as image:
        image.verify()  # chunk CRCs and structure
    assert np.array_equal(read_png(tmp_path / "f.png"), rgb)


def test_alpha_is_dropped_and_views_are_accepted(tmp_path):
    rgba = np.random.default_rng(1).integers(0, 256, (16, 20, 4), dtype=np.uint8)
    write_png(tmp_path / "f.png", rgba[:, ::-1])  # a strided view
    assert np.array_equal(read_png(tmp_path / "f.png"), rgba[:, ::-1, :3])


def test_smooth_frames_compress_and_bytes_repeat():
    ramp = np.broadcast_to(np.arange(320, dtype=np.uint8)[None, :, None] // 2, (240, 320, 3)).copy()
    data = encode_png(ramp)
    assert len(data) < ramp.nbytes / 4  # the Sub filter turns a ramp into few distinct bytes
    assert encode_png(ramp.copy()) == data


def _idat(data: bytes) -> bytes:
    at, found = 8, b""
    while at < len(data):
        (size,), kind = struct.unpack(">I", data[at : at + 4]), data[at + 4 : at + 8]
        found += data[at + 8 : at + 8 + size] if kind == b"IDAT" else b""
        at += 12 + size
    return found


@pytest.mark.parametrize("height", [BAND_ROWS - 1, BAND_ROWS, BAND_ROWS + 1, 3 * BAND_ROWS + 5])
def test_bands_join_into_one_checked_zlib_stream(tmp_path, height):
    """zlib itself inflates the joined bands and checks their Adler-32; Pillow reads the pixels."""
    rgb = np.random.default_rng(height).integers(0, 256, (height, 17, 3), dtype=np.uint8)
    data = encode_png(rgb)
    rows = zlib.decompress(_idat(data))  # raises on a broken stream or a wrong checksum
    assert len(rows) == height * (1 + 3 * 17)
    assert rows[:: 1 + 3 * 17] == bytes([1]) * height  # every row's filter byte: Sub
    (tmp_path / "f.png").write_bytes(data)
    assert np.array_equal(read_png(tmp_path / "f.png"), rgb)


def test_the_bytes_do_not_depend_on_the_threads_that_deflate_them(monkeypatch):
    """In turn on the caller's thread, on the pool, on a pool of one: the same bytes."""
    rgb = np.random.default_rng(3).integers(0, 256, (5 * BAND_ROWS + 3, 40, 3), dtype=np.uint8)
    assert rgb.nbytes < png.POOLED_BYTES
    in_turn = encode_png(rgb)
    monkeypatch.setattr(png, "POOLED_BYTES", 0)
    assert encode_png(rgb) == in_turn
    monkeypatch.setitem(png._pools, os.getpid(), ThreadPoolExecutor(1))
    assert encode_png(rgb) == in_turn


def test_bands_cost_the_file_almost_nothing():
    """Run-length matches reach back one byte, so cutting the stream into bands loses ~nothing:
    within 0.5 % of the same rows deflated as one stream with the same settings."""
    ramp = (np.arange(480 * 640 * 3) % 251).reshape(480, 640, 3)
    noise = np.random.default_rng(0).integers(-4, 5, ramp.shape)
    banded = _idat(encode_png(np.clip(ramp + noise, 0, 255).astype(np.uint8)))
    one = zlib.compressobj(1, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    rows = zlib.decompress(banded)
    single = one.compress(rows) + one.flush()
    assert len(single) < len(banded) < 1.005 * len(single)
