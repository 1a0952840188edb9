"""Two renders with the same settings give the same clip.mp4 bytes, whatever the CPU count or load."""

import hashlib
import os
import subprocess
import sys

import pytest

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []


def _render(tmp_path, name: str, one_cpu: bool) -> str:
    recipe = tmp_path / "recipe.toml"
    recipe.write_text('nodes = ["render", "decay"]\n[output]\nfps = 24\n')
    out = tmp_path / name
    command = [sys.executable, "-m", "backrooms.cli", "render", "--recipe", str(recipe), "--quiet"]
    command += ["--frames", "12", "--size", "96x64", "--out", str(out)]
    pin = (lambda: os.sched_setaffinity(0, CPUS[:1])) if one_cpu else None
    subprocess.run(command, check=True, capture_output=True, preexec_fn=pin)
    return hashlib.sha256((out / "clip.mp4").read_bytes()).hexdigest()


@pytest.mark.skipif(len(CPUS) < 2, reason="needs two CPUs to render once with one and once with all")
def test_two_renders_on_one_cpu_and_on_all_give_the_same_mp4_bytes(tmp_path):
    assert _render(tmp_path, "one", one_cpu=True) == _render(tmp_path, "all", one_cpu=False)
