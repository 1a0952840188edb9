"""Seekable randomness: every random stream is a pure function of (seed, what, where).

No stream carries state from one frame, chunk or row to the next, so any of them can be
produced alone; that is what makes resumed and sharded renders equal to one long run.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np


def stream_key(seed: int, *parts: object) -> int:
    """A stable 64-bit key for (seed, purpose, coordinates...), identical on every machine."""
    text = "\x1f".join([str(int(seed)), *(str(p) for p in parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def warp_seed(seed: int, *parts: object) -> int:
    """A 31-bit seed for ``wp.rand_init(seed, offset)``; kernels add their own pixel/row offset."""
    return stream_key(seed, *parts) & 0x7FFFFFFF


def numpy_rng(seed: int, *parts: object) -> np.random.Generator:
    """A counter-based (Philox) generator for one purpose at one place."""
    return np.random.Generator(np.random.Philox(key=stream_key(seed, *parts)))


def smooth_noise(t: float, seed: int, *parts: object) -> float:
    """1-D value noise in [-1, 1] at time ``t`` (a pure function of seed, purpose and time)."""
    k = math.floor(t)
    a, b = (numpy_rng(seed, *parts, k + j).uniform(-1.0, 1.0) for j in (0, 1))
    s = t - k
    return a + (b - a) * s * s * (3.0 - 2.0 * s)
