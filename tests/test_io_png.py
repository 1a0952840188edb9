"""The PNG writer: any frame decodes back exactly (by Pillow, an independent decoder), same bytes."""

import numpy as np
import pytest
from PIL import Image

from backrooms.io.png import encode_png, read_png, write_png


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
