"""The linear audio track of a VHS tape: wow and flutter, the bandwidth of the tape speed, hiss, and
dropouts on the frames where the picture's tape events strike.

Speed deviation (documented in ``audio/params.py`` and docs/audio.md) is
``wow * sin(2 pi wow_rate t + a) + flutter * sin(2 pi flutter_rate t + b)`` (fractions of nominal
speed, phases seeded); the track is read back at the integral of that speed, so a tone of ``f`` Hz
comes back at ``f * (1 + deviation(t))``. Times are absolute, so any stretch of the track is the same
whichever frame asks for it.

Linear-track bandwidth and hiss per speed (NTSC decks, after Sony/JVC service data): SP reaches about
10 kHz, LP 7 kHz, EP 4.5 kHz; hiss rises as the tape slows.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal

from backrooms.audio.clock import noise
from backrooms.audio.filters import butter
from backrooms.seeds import numpy_rng

BANDWIDTH = {"sp": 10000.0, "lp": 7000.0, "ep": 4500.0}  # Hz, upper edge of the linear track
LOW_EDGE = 40.0  # Hz, where the head's low end rolls off
HISS = {"sp": 0.002, "lp": 0.0035, "ep": 0.006}  # RMS of the hiss at hiss = 1
DROPOUT_DEPTH = 0.85  # a dropout of strength 1 takes this much of the level away ...
DROPOUT_NOISE = 0.04  # ... and leaves this much crackle
DRIVE = 1.4  # the record head's soft saturation


@lru_cache(maxsize=16)
def wow_phases(seed: int) -> tuple[float, float]:
    """The seeded phases of wow and flutter (drawn once per seed)."""
    phase_w, phase_f = numpy_rng(seed, "audio.wow").uniform(0.0, 2 * np.pi, 2)
    return float(phase_w), float(phase_f)


def deviation_offset(seed: int, n: np.ndarray, values: Mapping[str, Any], rate: int) -> np.ndarray:
    """Where on the tape (in samples, relative to ``n``) sample ``n`` is played back from."""
    phase_w, phase_f = wow_phases(seed)
    t = n / rate
    offset = np.zeros(len(n))
    for depth, hz, phase in (
        (values["wow"], values["wow_rate"], phase_w),
        (values["flutter"], values["flutter_rate"], phase_f),
    ):
        if depth > 0.0:
            # the integral of depth * sin(2 pi hz t + phase), in samples
            offset -= rate * (depth / 100.0) / (2 * np.pi * hz) * np.cos(2 * np.pi * hz * t + phase)
    return offset


def max_offset(values: Mapping[str, Any], rate: int) -> int:
    """The furthest (in samples) wow and flutter ever read away from the nominal sample."""
    reach = sum(
        d / 100.0 / (2 * np.pi * hz)
        for d, hz in ((values["wow"], values["wow_rate"]), (values["flutter"], values["flutter_rate"]))
    )
    return int(np.ceil(rate * reach)) + 2


@lru_cache(maxsize=8)
def track_filter(speed: str, rate: int) -> np.ndarray:
    """The track's band edge then its low roll-off, as one cascade of second-order sections (a
    cascade filters exactly as the two filters one after the other)."""
    return np.concatenate(
        [butter(4, BANDWIDTH[speed], "lowpass", rate), butter(1, LOW_EDGE, "highpass", rate)]
    )


def tape(
    sound: np.ndarray,
    start: int,
    span: tuple[int, int],
    values: Mapping[str, Any],
    speed: str,
    events: np.ndarray | None,
    seed: int,
    rate: int,
) -> np.ndarray:
    """The samples ``span`` of ``sound`` (which holds absolute samples from ``start`` on, with room
    around ``span`` for the filters to settle and for wow to reach) as the tape plays them back.

    ``events`` is the strength of the tape's events per sample of ``sound`` (None = clean tape): the
    level dips and crackles where they strike, as the picture tears there.
    """
    n = np.arange(start, start + len(sound))
    read = n + deviation_offset(seed, n, values, rate)
    warped = np.stack([np.interp(read, n, sound[:, c]) for c in range(sound.shape[1])], axis=1)
    recorded = np.tanh(DRIVE * warped) / DRIVE
    hiss = values["hiss"] * HISS[speed] * noise(seed, "hiss", start, len(sound))
    if events is not None and values["dropouts"] > 0.0:
        strength = np.minimum(events * values["dropouts"], 1.0)
        recorded = recorded * (1.0 - DROPOUT_DEPTH * strength)[:, None]
        hiss = hiss + DROPOUT_NOISE * strength * noise(seed, "dropout", start, len(sound))
    played = (recorded + hiss[:, None]).T  # (channels, n): each channel filtered in place of memory
    track = track_filter(speed, rate)
    return signal.sosfilt(track, played)[:, span[0] - start : span[1] - start].T
