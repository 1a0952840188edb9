"""The same frames give the same clip.mp4 bytes, whatever the CPU count: encoded in a process pinned
to one CPU and in one that sees them all (FFmpeg's converter and x264 used to size their threads to
the CPUs they saw, and the bytes followed)."""

import hashlib
import os
import subprocess
import sys

import pytest

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []

ENCODE = """
import hashlib, sys
from pathlib import Path
import numpy as np
from backrooms.io.mp4 import write_mp4
rng = np.random.default_rng(1)
base = rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)
noise = [rng.integers(0, 60, base.shape, dtype=np.uint8) for _ in range(24)]
frames = [np.roll(base, 3 * i, axis=1) // 2 + n for i, n in enumerate(noise)]
write_mp4(Path(sys.argv[1]), iter(frames), 24.0)
"""


def _encode(tmp_path, name: str, one_cpu: bool) -> str:
    out = tmp_path / name
    pin = (lambda: os.sched_setaffinity(0, CPUS[:1])) if one_cpu else None
    subprocess.run([sys.executable, "-c", ENCODE, str(out)], check=True, capture_output=True, preexec_fn=pin)
    return hashlib.sha256(out.read_bytes()).hexdigest()


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs to encode once with one and once with all")
def test_the_same_frames_encode_to_the_same_bytes_on_one_cpu_and_on_all(tmp_path):
    assert _encode(tmp_path, "one.mp4", one_cpu=True) == _encode(tmp_path, "all.mp4", one_cpu=False)


RENDER_ONLY = """nodes = ["render"]
[output]
seed = 0
size = "96x64"
fps = 24
device = "cpu"
"""


def _render(tmp_path, name: str, perturb: str | None) -> bytes:
    recipe = tmp_path / "render.toml"
    recipe.write_text(RENDER_ONLY)
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}
    if perturb is not None:
        env["MALLOC_PERTURB_"] = perturb
    out = tmp_path / name
    cli = "from backrooms.cli import main; raise SystemExit(main())"
    args = ["render", "--recipe", str(recipe), "--frames", "3", "--quiet", "--out", str(out)]
    subprocess.run([sys.executable, "-c", cli, *args], check=True, capture_output=True, env=env)
    return (out / "clip.mp4").read_bytes()


def test_two_renders_give_the_same_clip_bytes_whatever_the_heap_held(tmp_path):
    """x264's AVX-512 code read memory nobody wrote: one render in a few gave another H.264 stream.
    glibc's MALLOC_PERTURB_ fills fresh allocations with a byte pattern, so the second render sees
    what a busy heap would hold every time (this fails on an AVX-512 CPU without the fix)."""
    assert _render(tmp_path, "clean", None) == _render(tmp_path, "perturbed", "165")
