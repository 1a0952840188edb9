"""A render of every frame in one process encodes clip.mp4 while it renders (``EncodeAlong``): the
same bytes as the clip joined from the PNGs afterwards, no PNG read back, nothing left by a failure."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import backrooms.batch as batch
from backrooms.batch import render_clip
from backrooms.cli import main
from backrooms.io.audio import as_stored
from backrooms.io.mp4 import EncodeAlong, read_mp4, write_mp4
from backrooms.scale.shard import FixedParams
from scale_nodes import tape_recipe

# frames whose sound does not split evenly (1601.6 samples a frame), from a frame other than 0
SOUND = 'nodes = ["render", "audio"]\n[output]\nsize = "32x24"\nfps = 29.97\n'


def test_a_fresh_render_is_encoded_along_and_joining_it_again_gives_the_same_bytes(tmp_path, monkeypatch):
    recipe = tmp_path / "sound.toml"
    recipe.write_text(SOUND)
    out = tmp_path / "out"
    args = ["render", "--recipe", str(recipe), "--start", "7", "--frames", "20", "--quiet", "--out", str(out)]

    def no_read_back(path):
        raise AssertionError(f"{path}: read back, the clip was not encoded along")

    with monkeypatch.context() as patch:
        patch.setattr(batch, "read_png", no_read_back)
        assert main(args) == 0
    along = (out / "clip.mp4").read_bytes()
    assert len(read_mp4(out / "clip.mp4")) == 20
    assert main([*args, "--resume"]) == 0  # nothing left to render: joined from the PNGs
    assert (out / "clip.mp4").read_bytes() == along


def test_a_render_failing_midway_leaves_no_clip_and_its_resume_joins_the_clip_of_one_run(tmp_path):
    recipe = tape_recipe(16)
    broken = FixedParams({"test.fail_at": 9, "test.markers": str(tmp_path), "test.fail_how": "runtime"})
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="tape snapped"):
        render_clip(recipe, broken.snapshot, out, progress=False)
    assert not (out / "clip.mp4").exists()
    assert not list(out.glob(".*tmp*"))
    render_clip(recipe, broken.snapshot, out, resume=True, progress=False)  # fails only once
    whole = tmp_path / "whole"
    render_clip(recipe, broken.snapshot, whole, progress=False)  # its marker is there: no failure
    assert (out / "clip.mp4").read_bytes() == (whole / "clip.mp4").read_bytes()


def _frames_and_sound(count: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(count)]
    sound = [rng.uniform(-1.2, 1.2, (1601 + i % 2, 2)) for i in range(count)]  # some beyond full scale
    return frames, sound


def test_encoding_along_gives_the_bytes_of_encoding_the_stored_soundtrack_afterwards(tmp_path):
    frames, sound = _frames_and_sound(12)
    along = EncodeAlong(tmp_path / "along.mp4", 29.97, 48000, depth=2)
    for rgb, samples in zip(frames, sound, strict=True):
        along.add(rgb, samples)
    assert along.finish() == (12, sum(len(s) for s in sound))
    after = tmp_path / "after.mp4"
    write_mp4(after, iter(frames), 29.97, audio=as_stored(np.concatenate(sound)), rate=48000)
    assert (tmp_path / "along.mp4").read_bytes() == after.read_bytes()


def test_an_abandoned_encode_leaves_nothing(tmp_path):
    frames, _ = _frames_and_sound(3)
    along = EncodeAlong(tmp_path / "clip.mp4", 24.0)
    for rgb in frames:
        along.add(rgb)
    along.abandon()
    assert list(tmp_path.iterdir()) == []


QUIT_MID_CLIP = """
import sys, time
from pathlib import Path
import numpy as np
from backrooms.io.mp4 import EncodeAlong
folder = Path(sys.argv[1])
clip = EncodeAlong(folder / "clip.mp4", 24.0)
rng = np.random.default_rng(0)
for _ in range(200):  # until the encoder has written into its temporary
    clip.add(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))
    if any(p.stat().st_size for p in folder.iterdir()):
        break
print(sum(p.stat().st_size for p in folder.iterdir()))
"""


def test_a_host_quitting_mid_clip_leaves_no_temporary(tmp_path):
    """A Kit session closed before its final frame: the interpreter's exit abandons the encode."""
    run = subprocess.run(
        [sys.executable, "-c", QUIT_MID_CLIP, str(tmp_path)], check=True, timeout=120, capture_output=True
    )
    assert int(run.stdout) > 0  # there was a temporary to remove
    assert list(tmp_path.iterdir()) == []


def test_a_failing_encoder_is_raised_to_the_caller_instead_of_blocking_it(tmp_path):
    frames, _ = _frames_and_sound(1)
    along = EncodeAlong(tmp_path / "missing" / "clip.mp4", 24.0, depth=1)
    with pytest.raises(OSError):
        for _ in range(50):  # far more than the queue holds: a dead encoder must not block add
            along.add(frames[0])
        along.finish()
