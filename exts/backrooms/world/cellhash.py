"""Vectorised counter-based hashing of integer cell coordinates.

Every layout decision is ``uniform(key, x, z, ...)`` for a key derived from (seed, purpose) by
:func:`backrooms.seeds.stream_key`, so a cell's choices never depend on which block generated it.
"""

from __future__ import annotations

import numpy as np

from backrooms.seeds import stream_key

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def mix(h: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser: a bijective, well-avalanched 64-bit mix."""
    h = (h ^ (h >> _S30)) * _M1
    h = (h ^ (h >> _S27)) * _M2
    return h ^ (h >> _S31)


def purpose_key(seed: int, purpose: str) -> int:
    """The 64-bit key of one kind of decision for one world seed."""
    return stream_key(seed, "world", purpose)


def hash_ints(key: int, *coords: np.ndarray | int) -> np.ndarray:
    """A uint64 hash of ``key`` and integer coordinate arrays (broadcast together)."""
    with np.errstate(over="ignore"):
        h = np.full(np.broadcast_shapes(*(np.shape(c) for c in coords)), np.uint64(key), dtype=np.uint64)
        for c in coords:
            h = mix(h + _GOLDEN + np.asarray(c).astype(np.int64).astype(np.uint64))
    return h


def uniform(key: int, *coords: np.ndarray | int) -> np.ndarray:
    """Floats in [0, 1) with 53 random bits, one per broadcast coordinate tuple."""
    return (hash_ints(key, *coords) >> np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


_MASK64 = (1 << 64) - 1


def uniform_one(key: int, *coords: int) -> float:
    """:func:`uniform` for one coordinate tuple in plain Python (no numpy overhead per call)."""
    h = key & _MASK64
    for c in coords:
        h = (h + 0x9E3779B97F4A7C15 + (int(c) & _MASK64)) & _MASK64
        h = ((h ^ (h >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
        h = ((h ^ (h >> 27)) * 0x94D049BB133111EB) & _MASK64
        h ^= h >> 31
    return (h >> 11) * (1.0 / (1 << 53))
