"""Measuring repetition: repeated k x k windows of cells, and what chance alone would give.

A cell's token is everything a viewer could tell apart: prototype, quarter turn and the four
variant choices (solid cells are all alike). Two windows repeat when all k*k tokens match.
"""

from __future__ import annotations

import numpy as np

from backrooms.world.cellhash import hash_ints
from backrooms.world.layout import CellBlock
from backrooms.world.placement import PlacementTable


def cell_tokens(cells: CellBlock, table: PlacementTable) -> np.ndarray:
    """(H, W) int64 token per cell; 0 for solid cells."""
    placement = table.place(cells)
    token = (placement.prototype.astype(np.int64) + 1) * 4 + placement.turns
    for name, base in (("wallpaper", 3), ("carpet", 3), ("ceiling", 3), ("lights", 4)):
        token = token * base + getattr(cells, name)
    return np.where(placement.prototype >= 0, token, 0)


def window_hashes(tokens: np.ndarray, size: int) -> np.ndarray:
    """A 64-bit hash of every size x size window (row-major over window origins)."""
    mixed = hash_ints(0x5EED, tokens)
    with np.errstate(over="ignore"):
        rows = np.zeros((tokens.shape[0], tokens.shape[1] - size + 1), np.uint64)
        for i in range(size):
            rows = rows * np.uint64(0x100000001B3) + mixed[:, i : i + rows.shape[1]]
        out = np.zeros((tokens.shape[0] - size + 1, rows.shape[1]), np.uint64)
        for j in range(size):
            out = hash_ints(0, out * np.uint64(0x9E3779B1) + rows[j : j + out.shape[0]])
    return out.ravel()


def repeated_windows(tokens: np.ndarray, size: int = 6) -> int:
    """How many windows equal some other window seen earlier (0 when every window is unique)."""
    hashes = window_hashes(tokens, size)
    return int(len(hashes) - len(np.unique(hashes)))


def expected_repeats(tokens: np.ndarray, size: int = 6) -> float:
    """Repeats expected if cells were independent draws with the observed token frequencies
    (the number of equal window pairs, which bounds repeated windows for small values)."""
    _, counts = np.unique(tokens, return_counts=True)
    p_same = float(((counts / tokens.size) ** 2).sum()) ** (size * size)
    windows = (tokens.shape[0] - size + 1) * (tokens.shape[1] - size + 1)
    return windows * (windows - 1) / 2 * p_same
