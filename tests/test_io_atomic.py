"""Atomic writers never leave a half-written file under the final name."""

import numpy as np
import pytest

from backrooms.io.atomic import atomic_path
from backrooms.io.mp4 import read_mp4, write_mp4
from backrooms.io.png import read_png, write_png


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_png_round_trips_exactly(tmp_path):
    rgba = np.random.default_rng(0).integers(0, 256, (24, 32, 4), dtype=np.uint8)
    write_png(tmp_path / "f.png", rgba)
    assert np.array_equal(read_png(tmp_path / "f.png"), rgba[..., :3])


def test_mp4_decodes_back_with_frame_count_and_size(tmp_path):
    frames = [np.full((48, 64, 3), 40 * i, np.uint8) for i in range(5)]
    assert write_mp4(tmp_path / "c.mp4", frames, fps=24) == 5
    decoded = read_mp4(tmp_path / "c.mp4")
    assert len(decoded) == 5
    assert decoded[0].shape == (48, 64, 3)
    assert abs(int(decoded[3].mean()) - 120) <= 3
