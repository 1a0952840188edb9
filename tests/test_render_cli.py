"""``backrooms frame`` writes every AOV as a PNG plus the raw arrays, and refuses bad input in one line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backrooms.cli import main
from backrooms.io.png import read_png

AOV_PICTURES = {"rgb", "depth", "normals", "motion", "instance_id", "disocclusion"}


def test_frame_writes_pictures_and_raw_aovs(tmp_path: Path) -> None:
    assert main(["frame", "--out", str(tmp_path), "--frame", "12", "--size", "64x48"]) == 0
    assert {p.stem for p in tmp_path.glob("*.png")} == AOV_PICTURES
    raw = np.load(tmp_path / "aovs.npz")
    assert raw["rgb"].shape == (48, 64, 4) and raw["distance_to_camera"].dtype == np.float32
    assert (read_png(tmp_path / "rgb.png") == raw["rgb"][..., :3]).all()


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["frame", "--out", "x", "--size", "64"], "expected WxH"),
        (["frame", "--out", "x", "--stage", "/nonexistent/stage.usda"], "no such file"),
        (["frame", "--out", "x", "--set", "render.spp=0"], "render.spp"),
        (["frame", "--out", "x", "--device", "cuda"], None),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture, argv: list[str], fragment: str | None
) -> None:
    import warp as wp

    if fragment is None:
        if wp.is_cuda_available():
            pytest.skip("a CUDA device is present")
        fragment = "no CUDA device"
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_a_stage_without_a_camera_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from pxr import Usd, UsdGeom

    path = tmp_path / "nocam.usda"
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.Mesh.Define(stage, "/M")
    stage.GetRootLayer().Save()
    assert main(["frame", "--out", str(tmp_path / "o"), "--stage", str(path)]) == 2
    assert "has no camera" in capsys.readouterr().err
