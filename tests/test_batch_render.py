"""End to end with the default recipe (render -> diffusion -> camcorder -> decay) at a small size."""

import json

import numpy as np
import pytest

from backrooms.cli import main
from backrooms.io.mp4 import read_mp4
from backrooms.io.png import read_png

pytestmark = pytest.mark.slow

SMALL = ["--size", "64x48", "--quiet"]


def frames_of(out):
    return {p.name: p.read_bytes() for p in sorted((out / "frames").glob("*.png"))}


def test_render_writes_frames_mp4_and_manifest(tmp_path):
    out = tmp_path / "out"
    assert main(["render", "--frames", "6", *SMALL, "--out", str(out)]) == 0
    decoded = read_mp4(out / "clip.mp4")
    assert len(decoded) == 6
    assert decoded[0].shape == (48, 64, 3)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["frames"]) == [str(i) for i in range(6)]
    assert manifest["job"]["recipe"]["nodes"] == ["render", "diffusion", "camcorder", "decay", "audio"]
    assert "warp-lang" in manifest["versions"]
    assert all(v["seconds"] > 0 for v in manifest["frames"].values())


def test_seeking_gives_byte_identical_frames(tmp_path):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["render", "--start", "0", "--frames", "30", *SMALL, "--out", str(whole)]) == 0
    assert main(["render", "--start", "10", "--frames", "10", *SMALL, "--out", str(part)]) == 0
    expected = {name: data for name, data in frames_of(whole).items() if 10 <= int(name[6:12]) < 20}
    assert frames_of(part) == expected


def test_consecutive_frames_differ_and_seeds_matter(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert main(["render", "--frames", "2", "--seed", "1", *SMALL, "--out", str(a)]) == 0
    assert main(["render", "--frames", "2", "--seed", "2", *SMALL, "--out", str(b)]) == 0
    f0, f1 = (read_png(a / f"frames/frame_00000{i}.png") for i in range(2))
    assert not np.array_equal(f0, f1)
    assert frames_of(a) != frames_of(b)


def test_a_pal_render_without_fps_is_25_fps_in_the_manifest_and_the_mp4(tmp_path):
    import av

    out = tmp_path / "out"
    assert main(["render", "--seconds", "0.2", "--set", "decay.standard=pal", *SMALL, "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["job"]["recipe"]["fps"] == 25.0
    assert len(manifest["frames"]) == 5  # 0.2 s at 25 fps
    with av.open(str(out / "clip.mp4")) as container:
        assert container.streams.video[0].average_rate == 25
