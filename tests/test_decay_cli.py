"""``backrooms decay IN OUT`` on real PNG, JPEG and MP4 files, and its one-line errors."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from backrooms.cli import main
from backrooms.io.mp4 import read_mp4, write_mp4


def picture(width: int = 160, height: int = 96) -> np.ndarray:
    x = np.linspace(0, 255, width, dtype=np.uint8)
    rgb = np.zeros((height, width, 3), dtype=np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[height // 3 : 2 * height // 3, :, 2] = x, x[::-1], 230
    return rgb


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["decay", *argv])
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_an_image_is_decayed_to_the_same_size(tmp_path: Path, capsys, suffix: str):
    src, dst = tmp_path / f"in{suffix}", tmp_path / f"out{suffix}"
    Image.fromarray(picture()).save(src)
    assert run(capsys, str(src), str(dst), "--preset", "worn", "--set", "decay.snow=2")[0] == 0
    out = np.asarray(Image.open(dst).convert("RGB")).astype(int)
    assert out.shape == (96, 160, 3)
    assert np.abs(out - picture()).mean() > 5.0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([src.name, dst.name])  # no temp left


def test_a_video_is_decayed_frame_by_frame(tmp_path: Path, capsys):
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    write_mp4(src, [picture()] * 6, fps=24.0)
    code, err = run(capsys, str(src), str(dst), "--seed", "3")
    assert code == 0 and "decay:" in err and "/6 [" in err  # a film's frames are counted
    frames = read_mp4(dst)
    assert len(frames) == 6 and frames[0].shape == (96, 160, 3)
    assert np.abs(frames[0].astype(int) - frames[1]).mean() > 0.5  # every frame its own noise
    assert run(capsys, str(src), str(tmp_path / "quiet.mp4"), "--seed", "3", "--quiet") == (0, "")
    assert (tmp_path / "quiet.mp4").read_bytes() == dst.read_bytes()


def test_an_unreadable_input_is_a_one_line_error(tmp_path: Path, capsys):
    src = tmp_path / "broken.png"
    src.write_bytes(b"not a picture")
    code, err = run(capsys, str(src), str(tmp_path / "out.png"))
    assert code == 2 and "broken.png" in err and "\n" not in err
    assert not (tmp_path / "out.png").exists()


def test_a_file_that_is_no_image_asked_for_an_image_names_the_input(tmp_path: Path, capsys):
    src = tmp_path / "recipe.json"
    src.write_text("{}")
    code, err = run(capsys, str(src), str(tmp_path / "out.png"))
    assert code == 2 and err == f"backrooms: error: {src}: an image to decay is a .png, .jpg or .jpeg"


def test_a_wrong_channel_count_is_a_one_line_error(tmp_path: Path, capsys):
    src = tmp_path / "two.png"
    Image.fromarray(picture()[..., 0]).convert("LA").save(src)
    code, err = run(capsys, str(src), str(tmp_path / "out.png"))
    assert code == 2 and "2 channels" in err and "\n" not in err


def test_a_video_without_frames_is_a_one_line_error(tmp_path: Path, capsys):
    src = tmp_path / "empty.y4m"  # a valid stream header, then no frames
    src.write_text("YUV4MPEG2 W64 H48 F24:1 Ip A1:1 C420jpeg\n")
    code, err = run(capsys, str(src), str(tmp_path / "out.mp4"))
    assert code == 2 and "no frames" in err and "\n" not in err
    assert not (tmp_path / "out.mp4").exists()


def test_a_file_without_a_video_stream_is_a_one_line_error(tmp_path: Path, capsys):
    src = tmp_path / "nothing.mp4"
    with av.open(str(src), mode="w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        container.start_encoding()
    code, err = run(capsys, str(src), str(tmp_path / "out.mp4"))
    assert code == 2 and "nothing.mp4" in err and "\n" not in err


def test_a_bad_parameter_is_a_one_line_error(tmp_path: Path, capsys):
    src = tmp_path / "in.png"
    Image.fromarray(picture()).save(src)
    code, err = run(capsys, str(src), str(tmp_path / "out.png"), "--set", "decay.snow=lots")
    assert code == 2 and "decay.snow" in err and "\n" not in err


def _bomb(path: Path, width: int, height: int) -> None:
    """A real PNG whose header declares ``width`` x ``height`` (its pixel data is a few bytes)."""
    import struct
    import zlib

    Image.fromarray(picture(8, 8)).save(path)
    data = bytearray(path.read_bytes())
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr : ihdr + 8] = struct.pack(">II", width, height)
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4 : ihdr + 13])))
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("size", [(100_000, 100_000), (9000, 8000)])
def test_a_png_declaring_a_huge_size_is_refused_naming_the_largest_accepted(tmp_path: Path, capsys, size):
    src = tmp_path / "bomb.png"
    _bomb(src, *size)
    code, err = run(capsys, str(src), str(tmp_path / "out.png"))
    assert code == 2 and f"{size[0]}x{size[1]}" in err and "8192x8192" in err and "\n" not in err
    assert not (tmp_path / "out.png").exists()


def test_decaying_a_file_onto_itself_needs_overwrite(tmp_path: Path, capsys):
    src = tmp_path / "in.png"
    Image.fromarray(picture()).save(src)
    original = src.read_bytes()
    code, err = run(capsys, str(src), str(tmp_path / "." / "in.png"))
    assert code == 2 and "--overwrite" in err and "\n" not in err
    assert src.read_bytes() == original
    code, _ = run(capsys, str(src), str(src), "--overwrite")
    assert code == 0 and src.read_bytes() != original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]  # no temporary left beside it


def test_footage_gets_the_same_event_track_as_a_render(tmp_path: Path, capsys):
    """A still made with --frame inside a scheduled vertical roll rolls; one outside does not."""
    from backrooms.decay import events

    src = tmp_path / "in.png"
    Image.fromarray(picture()).save(src)
    fps = 30.0  # a still's OSD clock under NTSC
    on = [n for n in range(200) if events.scheduled(0, "vertical_roll", 15.0, n, fps)]
    off = [n for n in range(200) if not events.scheduled(0, "vertical_roll", 15.0, n, fps)]

    def still(frame: int, rate: float) -> np.ndarray:
        dst = tmp_path / f"out-{frame}-{rate}.png"
        rates = ["--set", f"decay.vertical_roll_rate={rate}", "--set", "decay.wear=1"]
        assert run(capsys, str(src), str(dst), "--frame", str(frame), *rates)[0] == 0
        return np.asarray(Image.open(dst))

    assert on and not np.array_equal(still(on[len(on) // 2], 15.0), still(on[len(on) // 2], 0.0))
    assert np.array_equal(still(off[0], 15.0), still(off[0], 0.0))
