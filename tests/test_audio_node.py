"""The audio node on a room it is told about: hum follows distance, direction and the panels' state."""

from __future__ import annotations

import itertools
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import backrooms.decay.settings  # noqa: F401  (declares decay.standard)
from backrooms.audio.clock import RATE, frame_span
from backrooms.audio.node import AudioNode
from backrooms.audio.steps import footfalls
from backrooms.graph.node import GraphContext
from backrooms.params import ParamStore

FPS = 24.0
QUIET = {
    "audio.steps": 0.0,
    "audio.room_tone": 0.0,
    "audio.hiss": 0.0,
    "audio.agc": 0.0,
    "audio.crackle": 0.0,
}


def pose(x: float, z: float = 0.0) -> dict[str, np.ndarray]:
    """A camera at (x, 1.6, z) looking down -z (right is +x)."""
    return {
        "position": np.array([x, 1.6, z]),
        "forward": np.array([0.0, 0.0, -1.0]),
        "right": np.array([1.0, 0.0, 0.0]),
    }


def lights(*panels: tuple[float, float], on=None, flicker=None) -> dict[str, np.ndarray]:
    count = len(panels)
    return {
        "position": np.array([[x, 2.7, z] for x, z in panels]).reshape(-1, 3),
        "intensity": np.ones(count),
        "on": np.ones(count, bool) if on is None else np.asarray(on),
        "flicker": np.zeros(count) if flicker is None else np.asarray(flicker, float),
        "key": np.arange(1, count + 1, dtype=np.uint32),
    }


def render(meta_at, frames: range, **params: object) -> np.ndarray:
    """The node's samples of ``frames``, joined; ``meta_at(frame)`` gives each frame's meta."""
    node = AudioNode(GraphContext(seed=3, width=8, height=8, fps=FPS, device="cpu"))
    store = ParamStore()
    store.update({**QUIET, **params})
    snapshot = store.snapshot()
    return np.concatenate([node.samples(f, meta_at(f), snapshot) for f in frames])


def still(camera_x: float, room: dict[str, np.ndarray]):
    def meta(_frame: int) -> dict[str, object]:
        return {"lights": room, "camera": {**pose(camera_x), "previous": pose(camera_x)}}

    return meta


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


@pytest.mark.parametrize("fps", [24, 25, 30])
def test_frames_tile_the_track_sample_exactly(fps: int) -> None:
    spans = [frame_span(f, fps) for f in range(3 * fps)]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert {s1 - s0 for s0, s1 in spans} == {RATE // fps}
    assert spans[-1][1] == 3 * RATE


def test_hum_grows_as_the_camera_nears_a_panel() -> None:
    room = lights((0.0, 0.0))
    levels = [rms(render(still(x, room), range(4, 10))) for x in (12.0, 8.0, 4.0, 2.0, 1.0)]
    assert all(b > a for a, b in itertools.pairwise(levels)), levels
    assert levels[-2] > 3.0 * levels[0]  # 2 m away is far louder than 12 m away


@pytest.mark.parametrize(
    ("knobs", "expected"),
    [
        ({}, 60.0),
        ({"audio.mains": "50"}, 50.0),
        ({"decay.standard": "pal"}, 50.0),  # auto follows the video standard
        ({"decay.standard": "pal", "audio.mains": "60"}, 60.0),
    ],
)
def test_the_mains_frequency_is_the_loudest_tone(knobs: dict[str, str], expected: float) -> None:
    sound = render(still(1.5, lights((0.0, 0.0), (3.0, 1.0))), range(24, 48), **knobs)
    spectrum = np.abs(np.fft.rfft(sound.mean(axis=1) * np.hanning(len(sound))))
    freqs = np.fft.rfftfreq(len(sound), 1.0 / RATE)
    assert abs(freqs[np.argmax(spectrum)] - expected) <= 1.0


def test_a_dead_panel_is_silent() -> None:
    alive = lights((0.0, 0.0), (2.0, 0.0))
    one_dead = lights((0.0, 0.0), (2.0, 0.0), on=[True, False])
    only_first = lights((0.0, 0.0))
    dead = render(still(1.0, one_dead), range(3))
    np.testing.assert_array_equal(dead, render(still(1.0, only_first), range(3)))
    assert rms(render(still(1.0, alive), range(3)) - dead) > 0.1 * rms(dead)


def test_a_panel_on_the_right_is_louder_on_the_right() -> None:
    sound = render(still(0.0, lights((4.0, 0.0))), range(6), **{"audio.width": 1.0})
    assert rms(sound[:, 1]) > 2.0 * rms(sound[:, 0])


def test_each_frame_is_the_same_alone_or_in_sequence() -> None:
    def walking(frame: int) -> dict[str, object]:
        return {
            "lights": lights((0.0, 0.0), (3.0, -3.0), flicker=[0.0, 0.5 * (frame % 3 == 0)]),
            "camera": {**pose(0.1 * frame), "previous": pose(0.1 * (frame - 1))},
        }

    sequence = render(walking, range(10), **{"audio.crackle": 1.0, "audio.hiss": 1.0, "audio.agc": 0.6})
    s0, s1 = frame_span(7, FPS)
    np.testing.assert_array_equal(render(walking, range(7, 8)), render(walking, range(7, 8)))
    alone = render(walking, range(7, 8), **{"audio.crackle": 1.0, "audio.hiss": 1.0, "audio.agc": 0.6})
    np.testing.assert_array_equal(alone, sequence[s0:s1])


def test_the_hum_runs_on_across_frame_boundaries() -> None:
    """Frames are made alone, yet the hum of a walking camera has no step at their joins."""

    def walking(frame: int) -> dict[str, object]:
        return {
            "lights": lights((0.0, 0.0)),
            "camera": {**pose(0.05 * frame), "previous": pose(0.05 * (frame - 1))},
        }

    sound = render(walking, range(12)).mean(axis=1)
    jumps = np.abs(np.diff(sound))
    joins = [frame_span(f, FPS)[0] - 1 for f in range(1, 12)]
    assert jumps[joins].max() < 1.5 * np.percentile(jumps, 99.5)


def test_footfalls_follow_the_operators_steps() -> None:
    camera = {"steps_taken": np.array([0.0, 2 / 3, 4 / 3, 2.0, 8 / 3]), "steps_from": 10}
    steps = footfalls(camera, FPS, RATE)
    assert [number for number, _ in steps] == [1, 2]
    assert steps[0][1] == frame_span(11, FPS)[0] + 1000  # step 1 is half-way through frame 11
    assert steps[1][1] == frame_span(13, FPS)[0]
    standing = {**camera, "steps_taken": np.full(5, 2.5)}
    assert footfalls(standing, FPS, RATE) == []


WALK_SOUND = """
import hashlib
import numpy as np
from backrooms.audio.node import AudioNode
from backrooms.graph.node import GraphContext
from backrooms.params import ParamStore

def pose(x):
    return {"position": np.array([x, 1.6, 0.3 * x]), "forward": np.array([0.0, 0.0, -1.0]),
            "right": np.array([1.0, 0.0, 0.0])}

rng = np.random.default_rng(5)
count = 60
room = {"position": np.c_[rng.uniform(-6, 6, count), np.full(count, 2.7), rng.uniform(-6, 6, count)],
        "intensity": rng.uniform(0.5, 1.0, count), "on": rng.uniform(size=count) < 0.9,
        "flicker": rng.uniform(size=count) * (rng.uniform(size=count) < 0.2),
        "key": np.arange(1, count + 1, dtype=np.uint32)}
node = AudioNode(GraphContext(seed=3, width=8, height=8, fps=24.0, device="cpu"))
snapshot = ParamStore().snapshot()
meta = [{"lights": room, "camera": {**pose(0.1 * f), "previous": pose(0.1 * (f - 1))}} for f in range(12)]
sound = [node.samples(f, meta[f], snapshot) for f in range(12)]
print(hashlib.sha256(np.concatenate(sound).tobytes()).hexdigest())
"""


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64"), reason="OpenBLAS's x86 kernel names")
def test_the_sound_is_the_same_bytes_whichever_blas_kernel_the_cpu_gets() -> None:
    """numpy's OpenBLAS picks its kernels by CPU (AVX-512 on the Xeon, AVX2 on the EPYC), and their
    float32 sums round differently: the hum is summed without it, so a take sounds the same on
    every machine. ``OPENBLAS_CORETYPE`` stands in for another CPU (the SSE4.2 kernels run on any)."""
    heard = {
        core: subprocess.run(
            [sys.executable, "-c", WALK_SOUND],
            env={**os.environ, "OPENBLAS_CORETYPE": core},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for core in ("", "Nehalem")
    }
    assert len(heard[""]) == 65 and heard[""] == heard["Nehalem"]
