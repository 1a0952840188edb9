"""The audio clock: which samples belong to which video frame, and seeded noise addressed by sample.

Frame ``f`` at ``fps`` covers samples ``[round(f * rate / fps), round((f + 1) * rate / fps))``, so the
boundaries are exact for 24, 25 and 30 fps at 48 kHz and frames tile the track without gap or overlap.
Noise is drawn in fixed blocks keyed by (seed, purpose, block), so any stretch of it is the same
whichever frame asks for it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from backrooms.seeds import numpy_rng

RATE = 48000
NOISE_BLOCK = 4096


def frame_span(frame: int, fps: float, rate: int = RATE) -> tuple[int, int]:
    """The first sample of ``frame`` and the first sample of the next one."""
    return round(frame * rate / fps), round((frame + 1) * rate / fps)


def noise(seed: int, purpose: str, start: int, count: int) -> np.ndarray:
    """White Gaussian noise (unit variance) for absolute samples ``[start, start + count)``."""
    first, last = start // NOISE_BLOCK, (start + count - 1) // NOISE_BLOCK
    joined = np.concatenate([_noise_block(seed, purpose, b) for b in range(first, last + 1)])
    offset = start - first * NOISE_BLOCK
    return joined[offset : offset + count]


@lru_cache(maxsize=256)
def _noise_block(seed: int, purpose: str, block: int) -> np.ndarray:
    """One block of noise; cached, since neighbouring frames read the same blocks."""
    values = numpy_rng(seed, "audio", purpose, block).standard_normal(NOISE_BLOCK)
    values.flags.writeable = False
    return values


def frame_bump(start: int, count: int, span: tuple[int, int]) -> np.ndarray:
    """A sin^2 window over the frame's samples and zero outside: what starts and ends within a frame."""
    s0, s1 = span
    bump = np.zeros(count)
    lo, hi = max(s0, start), min(s1, start + count)
    if lo < hi:
        n = np.arange(lo, hi)
        bump[lo - start : hi - start] = np.sin(np.pi * (n - s0 + 0.5) / (s1 - s0)) ** 2
    return bump


def ramp(start: int, count: int, span: tuple[int, int]) -> np.ndarray:
    """0 before the frame, rising linearly to 1 at its end, 1 after: from the previous pose to this."""
    n = np.arange(start, start + count)
    return np.clip((n - span[0]) / (span[1] - span[0]), 0.0, 1.0)
