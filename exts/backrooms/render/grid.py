"""A uniform grid over the scene: the top level of ray traversal and the index of nearby lights.

Rays walk its cells front to back and stop in the first cell that holds their closest hit, so a ray
down a corridor tests the pieces it passes and nothing beyond the wall it meets. The world is built
from equal square cells; a grid with the same pitch and origin puts about one module, its panels and
its loose tiles in each cell, which a BVH over 5,000 instance boxes cannot exploit (docs/render.md
has the measurements).

Built with numpy on the host whenever the instance set changes (about 10 ms for the world's ~5,000
instances, once per chunk crossing).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

MAX_CELLS = 1 << 21  # a sparse scene spread over kilometres coarsens the pitch rather than exhaust memory
# (cell, panel) pairs ``bin_near`` may weigh: about 1 GB while binning. The default world at the
# largest render.light_radius weighs 2.2M; a 64-cell chunk's neighbourhood at 50 m weighed 88M (24 GB)
MAX_NEAR_PAIRS = 8_000_000
_TOUCH = 5.0e-3  # metres; a box reaching into a cell by no more than this (padding, a shared wall) skips it


@dataclass(frozen=True)
class Grid:
    """Cells of edge ``pitch`` from ``lower``; ``dims`` cells along x, y, z; cell (i, j, k) is
    number ``(k * dims[1] + j) * dims[0] + i``."""

    lower: np.ndarray  # (3,) float32
    pitch: float
    dims: np.ndarray  # (3,) int32

    @property
    def count(self) -> int:
        return int(np.prod(self.dims))


def fit_grid(lowers: np.ndarray, uppers: np.ndarray, pitch: float | None = None) -> Grid:
    """A grid covering the boxes. ``pitch`` is the scene's own cell size when it has one; otherwise
    about two boxes per cell of the occupied volume. Cell planes sit where most boxes start, so a
    modular scene's cells and the grid's coincide."""
    if len(lowers) == 0:
        return Grid(np.zeros(3, np.float32), float(pitch or 1.0), np.ones(3, np.int32))
    lo = lowers.min(axis=0).astype(np.float64)
    hi = uppers.max(axis=0).astype(np.float64)
    extent = np.maximum(hi - lo, 1.0e-3)
    if pitch is None or pitch <= 0.0:
        pitch = float(np.cbrt(np.prod(extent) * 2.0 / max(len(lowers), 1)))
        pitch = max(pitch, float(extent.max()) / 1024.0)
    volume = np.prod(uppers - lowers, axis=1)
    while True:
        phase = _phase(lowers, volume, pitch)
        origin = phase + np.floor((lo - phase) / pitch) * pitch
        dims = np.maximum(np.ceil((hi - origin) / pitch - 1.0e-9), 1).astype(np.int64)
        if np.prod(dims) <= MAX_CELLS:
            return Grid(origin.astype(np.float32), float(pitch), dims.astype(np.int32))
        pitch *= 2.0


def _phase(lowers: np.ndarray, volume: np.ndarray, pitch: float) -> np.ndarray:
    """Per axis, the offset (modulo ``pitch``) where most box volume starts, to within 1 mm: big
    modules, not the many small panels inside them, set the rhythm."""
    step = max(1.0e-3, pitch / 4096.0)
    bins = round(pitch / step)
    found = np.zeros(3)
    for a in range(3):
        slot = np.round(np.mod(lowers[:, a].astype(np.float64), pitch) / step).astype(np.int64) % bins
        found[a] = np.bincount(slot, weights=volume, minlength=bins).argmax() * step
    return found


def bin_boxes(grid: Grid, lowers: np.ndarray, uppers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(start, items): the boxes overlapping cell ``c`` are ``items[start[c]:start[c + 1]]``, in
    ascending box order (so traversal, and with it every image, is deterministic)."""
    return _by_cell(grid, *_pairs(grid, lowers, uppers))


def _pairs(
    grid: Grid, lowers: np.ndarray, uppers: np.ndarray, near: tuple | None = None
) -> tuple[np.ndarray, ...]:
    """Every (box, i, j, k) of a box and a cell it overlaps, box by box in ascending order; with
    ``near`` = (lowers, uppers, radius), only the cells within ``radius`` of those boxes.

    A slice of boxes lays out the cells of its widest span along each axis and masks what each box
    does not reach, so no pair is counted out by integer division; the gap to ``near``'s boxes is
    summed axis by axis on the same layout before any pair exists."""
    a, span = _cells_under(grid, lowers, uppers)
    found = [(np.zeros(0, np.int64),) * 4]
    for s, e in _box_slices(span):
        first, count = a[s:e], span[s:e]
        steps = [np.arange(m) for m in count.max(axis=0)]
        cells = [first[:, axis, None] + steps[axis] for axis in range(3)]  # (boxes, widest) per axis
        reached = [steps[axis] < count[:, axis, None] for axis in range(3)]
        mask = reached[2][:, :, None, None] & reached[1][:, None, :, None] & reached[0][:, None, None, :]
        if near is not None:  # summed x, y, z as the pairs' gaps were: the same float64 sums
            lower, upper, radius = near
            gx, gy, gz = (_gap2(grid, ax, cells[ax], lower[s:e, ax], upper[s:e, ax]) for ax in range(3))
            mask &= (gx[:, None, None, :] + gy[:, None, :, None]) + gz[:, :, None, None] <= radius * radius
        box, z, y, x = np.nonzero(mask)  # in C order: box by box
        found.append((box + s, cells[0][box, x], cells[1][box, y], cells[2][box, z]))
    return tuple(np.concatenate(column) for column in zip(*found, strict=True))


def _box_slices(span: np.ndarray, size: int = 4096) -> Iterator[tuple[int, int]]:
    """Consecutive runs of boxes, in order, whose widest spans lay out at most about twice the
    cells the boxes overlap: one long box is not laid out at every short one's size."""
    todo = [(s, min(s + size, len(span))) for s in range(0, len(span), size)][::-1]  # popped in order
    while todo:
        s, e = todo.pop()
        laid_out = (e - s) * int(span[s:e].max(axis=0).prod())
        if e - s > 1 and laid_out > 2 * int(span[s:e].prod(axis=1).sum()) + 65536:
            todo += [((s + e) // 2, e), (s, (s + e) // 2)]
        else:
            yield s, e


def _gap2(grid: Grid, axis: int, cells: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Squared distance along ``axis`` from each box [lower, upper] to each of its ``cells``."""
    cell_lo = grid.lower[axis] + grid.pitch * cells
    gap = np.maximum(np.maximum(lower[:, None] - (cell_lo + grid.pitch), cell_lo - upper[:, None]), 0.0)
    return gap * gap


def _by_cell(
    grid: Grid, box: np.ndarray, i: np.ndarray, j: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The pairs as ``bin_boxes`` returns them: ordered by cell, keeping the boxes' order within
    one. A stable sort on 16-bit numbers is numpy's radix sort (7x its timsort of int64 on 130,000
    shuffled cells), so cell numbers past 65,536 are sorted in two such passes, low half first
    (3x a timsort of 32-bit numbers on 3.5 million)."""
    dims = grid.dims.astype(np.int64)
    cell = (k * dims[1] + j) * dims[0] + i
    order = np.argsort(cell.astype(np.uint16), kind="stable")  # the low 16 bits
    if grid.count > 1 << 16:
        order = order[np.argsort((cell[order] >> 16).astype(np.uint16), kind="stable")]
    start = np.concatenate([[0], np.cumsum(np.bincount(cell, minlength=grid.count))])
    return start.astype(np.int32), box[order].astype(np.int32)


def _cells_under(grid: Grid, lowers: np.ndarray, uppers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per box, its first cell (i, j, k) and how many cells it spans along each axis."""
    dims = grid.dims.astype(np.int64)
    scale = 1.0 / grid.pitch
    a = np.floor((lowers + _TOUCH - grid.lower) * scale).astype(np.int64)
    b = np.floor((uppers - _TOUCH - grid.lower) * scale).astype(np.int64)
    a = np.clip(a, 0, dims - 1)
    b = np.clip(np.maximum(a, b), 0, dims - 1)  # boxes thinner than 2 * touch keep one cell
    return a, b - a + 1


def _widened(lowers: np.ndarray, uppers: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """The boxes grown by ``radius`` and the touch margin: ``bin_boxes`` ignores boxes that only
    touch a cell, and a box within ``radius`` of one must not be lost."""
    reach = radius + _TOUCH
    return lowers - reach, uppers + reach


def reach_within(grid: Grid, lowers: np.ndarray, uppers: np.ndarray, radius: float) -> float:
    """``radius``, or the largest reach below it (to 1 mm) whose ``bin_near`` weighs no more than
    ``MAX_NEAR_PAIRS`` pairs: counted from the boxes' spans, without binning anything."""

    def pairs(reach: float) -> int:
        return int(_cells_under(grid, *_widened(lowers, uppers, reach))[1].prod(axis=1).sum())

    if pairs(radius) <= MAX_NEAR_PAIRS:
        return radius
    low, high = 0.0, radius
    while high - low > 1.0e-3:
        mid = 0.5 * (low + high)
        low, high = (mid, high) if pairs(mid) <= MAX_NEAR_PAIRS else (low, mid)
    return low


def bin_near(
    grid: Grid, lowers: np.ndarray, uppers: np.ndarray, radius: float
) -> tuple[np.ndarray, np.ndarray]:
    """Like ``bin_boxes``, but each cell lists the boxes within ``radius`` of it (not just touching).

    The widened boxes' cells are filtered before they become pairs (``_pairs``); a
    ``render.light_radius`` glide or a panel changing state bins again every frame. The default
    world's panels at 7 m, median of nine: 14.9-19.9 ms when the pairs were made first and filtered
    after, 7.3-8.6 now (the best of nine alike, 5.6-6.4: the old way's big temporaries made it
    uneven); 64-cell chunks at load radius 2, best of five: 530 -> 300 ms (AMD EPYC)."""
    return _by_cell(grid, *_pairs(grid, *_widened(lowers, uppers, radius), near=(lowers, uppers, radius)))
