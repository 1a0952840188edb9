"""The process-pool engine, and a render killed midway then resumed, as a user would run them."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from backrooms.batch import render_clip
from backrooms.errors import UserError
from backrooms.graph.recipe import load_recipe
from backrooms.io.mp4 import read_mp4
from backrooms.io.png import read_png
from backrooms.params import ParamStore
from backrooms.scale.local import ProcessPoolEngine, cpu_slots
from backrooms.scale.shard import FixedParams
from scale_nodes import CLI, ENV, save_tiny_style, tape_recipe

FRAMES = 40


def frames_of(out):
    return {p.name: p.read_bytes() for p in sorted((out / "frames").glob("*"))}


def render(out, frames=24, params=None, engine=None):
    params = params or FixedParams({})
    return render_clip(
        tape_recipe(frames), params.snapshot, out, params_at=params, progress=False, engine=engine
    )


def test_two_worker_processes_write_the_bytes_of_one_process(tmp_path):
    render(tmp_path / "one")
    render(tmp_path / "pool", engine=ProcessPoolEngine(workers=2, shards=3))
    assert frames_of(tmp_path / "pool") == frames_of(tmp_path / "one")


def test_workers_get_disjoint_equal_shares_of_the_cores(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5, 6, 7})
    assert cpu_slots(3) == [[0, 1], [2, 3, 4], [5, 6, 7]]
    assert cpu_slots(10)[8:] == [[0], [1]]


def test_a_failing_shard_fails_the_render_with_its_error(tmp_path):
    params = FixedParams({"test.fail_at": 5, "test.markers": str(tmp_path), "test.fail_how": "user"})
    with pytest.raises(UserError, match="bad tape"):
        render(tmp_path / "out", params=params, engine=ProcessPoolEngine(workers=2))


def test_a_dead_worker_process_is_one_line_that_says_to_resume(tmp_path):
    params = FixedParams({"test.fail_at": 5, "test.markers": str(tmp_path), "test.fail_how": "exit"})
    with pytest.raises(UserError, match=r"worker process died.*--resume"):
        render(tmp_path / "out", params=params, engine=ProcessPoolEngine(workers=2))


@pytest.fixture
def recipe_file(tmp_path):
    path = tmp_path / "tape.toml"
    path.write_text('nodes = ["render"]\n[output]\nsize = "32x24"\nseed = 7\n')
    return path


def kill_midway(command, out, env, frames):
    """Start a render, SIGKILL it once 8 frames are done; returns its processes, now dead or not."""
    proc = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 120
    while len(list((out / "frames").glob("frame_*.png"))) < 8 and time.monotonic() < deadline:
        assert proc.poll() is None, "the render ended before it could be killed"
        time.sleep(0.02)
    children = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    psutil.wait_procs(children, timeout=10)
    done = sorted((out / "frames").glob("frame_*.png"))
    assert 8 <= len(done) < frames
    for png in done:  # every file under its final name is whole
        read_png(png)
    return children


def assert_same_complete_render(out, whole, frames):
    assert frames_of(out) == frames_of(whole)
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(int(f) for f in manifest["frames"]) == list(range(frames))
    assert len(read_mp4(out / "clip.mp4")) == frames
    assert not list(out.rglob(".*.tmp*"))


@pytest.mark.slow
def test_a_killed_worker_pool_render_resumes_to_the_bytes_of_an_uninterrupted_one(tmp_path, recipe_file):
    out, whole = tmp_path / "out", tmp_path / "whole"
    args = ["render", "--recipe", str(recipe_file), "--frames", str(FRAMES), "--quiet"]
    slow = {**ENV, "TAPE_SLEEP": "0.1"}
    workers = kill_midway([*CLI, *args, "--workers", "2", "--out", str(out)], out, slow, FRAMES)
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]

    subprocess.run([*CLI, *args, "--out", str(out), "--resume", "--workers", "2"], env=ENV, check=True)
    subprocess.run([*CLI, *args, "--out", str(whole)], env=ENV, check=True)
    assert_same_complete_render(out, whole, FRAMES)


@pytest.fixture
def tiny_style(tmp_path):
    return save_tiny_style(tmp_path / "style")


@pytest.mark.slow
def test_a_killed_default_pipeline_render_resumes_to_the_same_bytes(tmp_path, tiny_style):
    """`backrooms render` with render -> diffusion -> decay; the kill lands inside a diffusion run."""
    frames, out, whole = 48, tmp_path / "out", tmp_path / "whole"
    backrooms = [str(Path(sys.executable).parent / "backrooms"), "render", "--frames", str(frames)]
    args = [*backrooms, "--size", "64x48", "--quiet", "--set", f"diffusion.style={tiny_style}"]
    args += ["--set", "diffusion.reset_interval=12"]
    kill_midway([*args, "--out", str(out)], out, os.environ, frames)

    subprocess.run([*args, "--out", str(out), "--resume"], check=True, capture_output=True)
    subprocess.run([*args, "--out", str(whole)], check=True, capture_output=True)
    assert_same_complete_render(out, whole, frames)


@pytest.mark.gpu
def test_cuda_workers_write_the_bytes_of_one_cuda_process(tmp_path, tiny_style):
    recipe = load_recipe().with_overrides(frames=12, width=64, height=48, device="cuda")
    store = ParamStore(values=recipe.params)
    store.update({"diffusion.style": tiny_style, "diffusion.reset_interval": 8})
    render_clip(recipe, store.snapshot(), tmp_path / "one", progress=False)
    engine = ProcessPoolEngine(workers=2, shards=3)
    render_clip(recipe, store.snapshot(), tmp_path / "pool", progress=False, engine=engine)
    assert frames_of(tmp_path / "pool") == frames_of(tmp_path / "one")
