"""Filters designed once and shared by every frame (scipy.signal's Butterworth designs)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from backrooms.audio.clock import RATE


@lru_cache(maxsize=64)
def butter(order: int, cutoff: float | tuple[float, float], kind: str, rate: int = RATE) -> np.ndarray:
    """A Butterworth filter as second-order sections, designed once per (order, cutoff, kind, rate)."""
    return signal.butter(order, cutoff, kind, fs=rate, output="sos")


@lru_cache(maxsize=64)
def butter_zi(order: int, cutoff: float | tuple[float, float], kind: str, rate: int = RATE) -> np.ndarray:
    """The steady-state of ``butter(...)`` for a unit step (``sosfilt_zi``), worked out once too."""
    zi = signal.sosfilt_zi(butter(order, cutoff, kind, rate))
    zi.flags.writeable = False
    return zi
