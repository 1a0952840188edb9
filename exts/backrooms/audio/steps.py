"""Footsteps on carpet, one at every footfall of the camera operator's gait.

The render node gives the operator's steps taken at the frames around this one
(``camera["steps_taken"]`` at frames ``camera["steps_from"]`` ...); a footfall falls where that count
crosses a whole number, placed to the sample by interpolating across the frame. A stop in the walk
is silence.
Each step is a pure function of its number, so a step begun in an earlier frame rings on unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal

from backrooms.audio.clock import frame_span
from backrooms.audio.filters import butter
from backrooms.seeds import numpy_rng

STEP_SECONDS = 0.09  # a footfall on carpet: a dull thud and a short scuff
STEP_GAIN = 0.12
STEP_PAN = 0.12  # left and right foot, slightly off centre


def footfalls(camera: Mapping[str, Any], fps: float, rate: int) -> list[tuple[int, int]]:
    """(step number, first sample) of every footfall between the frames the camera record covers."""
    taken = np.asarray(camera["steps_taken"], np.float64)
    first = int(camera["steps_from"])
    found = []
    for j in range(len(taken) - 1):
        a, b = taken[j], taken[j + 1]
        s0, s1 = frame_span(first + j, fps, rate)
        for m in range(int(np.floor(a)) + 1, int(np.floor(b)) + 1):
            found.append((m, s0 + round((m - a) / (b - a) * (s1 - s0))))
    return found


@lru_cache(maxsize=16)
def step_sound(seed: int, number: int, rate: int) -> np.ndarray:
    """(L, 2) the sound of step ``number``: the same every time it is asked for (and cached, as the
    frames it rings through ask for it in turn)."""
    length = round(STEP_SECONDS * rate)
    rng = numpy_rng(seed, "audio.step", number)
    t = np.arange(length) / rate
    thud = signal.sosfilt(butter(2, 160.0, "lowpass", rate), rng.standard_normal(length))
    scuff = signal.sosfilt(butter(2, (700.0, 3000.0), "bandpass", rate), rng.standard_normal(length))
    sound = 6.0 * thud * np.exp(-t / 0.022) + 0.5 * scuff * np.exp(-t / 0.010)
    sound *= 0.8 + 0.4 * rng.random()
    pan = STEP_PAN if number % 2 else -STEP_PAN
    angle = (pan + 1.0) * (np.pi / 4)
    stereo = sound[:, None] * np.array([np.cos(angle), np.sin(angle)])[None, :]
    stereo.flags.writeable = False
    return stereo


def steps(
    camera: Mapping[str, Any],
    start: int,
    count: int,
    values: Mapping[str, Any],
    seed: int,
    fps: float,
    rate: int,
) -> np.ndarray:
    """(count, 2) every footstep sounding in absolute samples ``[start, start + count)``."""
    out = np.zeros((count, 2))
    if values["steps"] == 0.0 or "steps_taken" not in camera:
        return out
    length = round(STEP_SECONDS * rate)
    for number, at in footfalls(camera, fps, rate):
        lo, hi = max(at, start), min(at + length, start + count)
        if lo < hi:
            out[lo - start : hi - start] += step_sound(seed, number, rate)[lo - at : hi - at]
    return STEP_GAIN * values["steps"] * out
