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
