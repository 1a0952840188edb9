"""What a render leaves in its folder: nothing after a failure, only its own frames after a fresh start."""

from pathlib import Path

import pytest

from backrooms.cli import main


def _recipe(tmp_path: Path) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text('nodes = ["render", "decay"]\n[output]\nfps = 24\n')
    return path


def _render(tmp_path: Path, out: Path, frames: int, *extra: str) -> int:
    argv = ["render", "--recipe", str(_recipe(tmp_path)), "--size", "32x24", "--quiet"]
    return main([*argv, "--frames", str(frames), "--out", str(out), *extra])


def test_a_render_that_fails_before_its_first_frame_leaves_no_folder(tmp_path, capsys):
    pytest.importorskip("torch")
    from backrooms.diffusion.backends.tensorrt_backend import tensorrt_available

    if tensorrt_available():
        pytest.skip("TensorRT is installed: the backend would load")
    out = tmp_path / "out"
    recipe = tmp_path / "diffusion.toml"
    recipe.write_text('nodes = ["render", "diffusion"]\n[params.diffusion]\nbackend = "tensorrt"\n')
    argv = [
        "render",
        "--recipe",
        str(recipe),
        "--size",
        "32x24",
        "--frames",
        "2",
        "--quiet",
        "--out",
        str(out),
    ]
    assert main(argv) == 2
    assert "tensorrt" in capsys.readouterr().err
    assert not out.exists()


def test_a_fresh_short_render_into_the_folder_of_a_longer_one_removes_the_old_frames(tmp_path, capsys):
    out = tmp_path / "out"
    assert _render(tmp_path, out, 6) == 0
    assert len(list((out / "frames").glob("*.png"))) == 6
    capsys.readouterr()
    assert _render(tmp_path, out, 2, "--seed", "3") == 0
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["frame_000000.png", "frame_000001.png"]
    assert "removed 6 frames" in capsys.readouterr().err


@pytest.mark.parametrize(
    "theirs",
    [
        {"clip.mp4": b"a film of mine"},
        {"clip.wav": b"RIFF of mine"},
        {"manifest.json": b'{"name": "some other tool"}'},
        {"frames/frame_000000.png": b"a still of mine"},
    ],
)
def test_a_fresh_render_never_replaces_a_file_no_render_made(tmp_path, capsys, theirs):
    """Only an earlier render's files are replaced (it has a render's manifest): ``--out ~/Videos``
    holding a clip.mp4 of the user's is refused, the clip kept (it was deleted and written over)."""
    out = tmp_path / "Videos"
    for name, data in theirs.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_bytes(data)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert _render(tmp_path, out, 2) == 2
    assert "that no render made here; choose another folder" in capsys.readouterr().err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert all((out / name).read_bytes() == data for name, data in theirs.items())
