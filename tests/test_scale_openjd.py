"""The Open Job Description template, checked and run locally by `openjd` on the real render + decay."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).parents[1] / "scale-templates" / "backrooms-render.openjd.yaml"
BIN = Path(sys.executable).parent
OPENJD = shutil.which("openjd", path=str(BIN)) or shutil.which("openjd")

pytestmark = pytest.mark.skipif(OPENJD is None, reason="openjd-cli is not installed")


def openjd(*args, cwd):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}  # `backrooms` of this venv
    return subprocess.run([OPENJD, *args], cwd=cwd, env=env, capture_output=True, text=True, check=True)


def frames_of(out):
    return {p.name: p.read_bytes() for p in sorted((out / "frames").glob("*.png"))}


def test_template_passes_openjd_validation(tmp_path):
    assert "passes validation" in openjd("check", str(TEMPLATE), cwd=tmp_path).stdout


@pytest.mark.slow
def test_shard_tasks_then_join_give_the_bytes_of_a_single_process_render(tmp_path):
    recipe = tmp_path / "r.toml"
    recipe.write_text('nodes = ["render", "decay"]\n[output]\nsize = "48x32"\n')
    out, whole = tmp_path / "out", tmp_path / "whole"
    params = ["-p", f"RecipeFile={recipe}", "-p", f"OutputDir={out}", "-p", "Frames=9", "-p", "Shards=3"]
    openjd("run", str(TEMPLATE), "--step", "Render", *params, cwd=tmp_path)
    rendered = {p.name: p.stat().st_mtime_ns for p in (out / "frames").glob("*.png")}
    assert len(rendered) == 9
    assert not (out / "clip.mp4").exists()

    openjd("run", str(TEMPLATE), "--step", "Join", "--no-run-dependencies", *params, cwd=tmp_path)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "frames").glob("*.png")} == rendered  # joined only
    assert (out / "clip.mp4").exists()

    backrooms = [str(BIN / "backrooms"), "render", "--recipe", str(recipe), "--frames", "9", "--quiet"]
    subprocess.run([*backrooms, "--out", str(whole)], check=True, capture_output=True)
    assert frames_of(out) == frames_of(whole)
