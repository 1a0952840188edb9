"""Metering: per-block sums the host turns into the servos' inputs (``exposure.Meter``).

The frame is cut into ``BLOCKS_X`` x ``BLOCKS_Y`` blocks; each thread sums one block, so the
host reads back a few hundred numbers instead of the frame.
"""

from __future__ import annotations

import numpy as np
import warp as wp

from backrooms.camcorder.exposure import Meter

BLOCKS_X = 16
BLOCKS_Y = 12
STATS = 6  # clipped luma, r, g, b (of pixels that are not highlights), their count, diopters
METER_CLIP = wp.constant(1.0)  # scene light above this counts as this much (a panel is not the room)
CENTRE_WEIGHT = 2.0  # the averaging meter weighs the middle of the frame this much more than the rim


@wp.func
def luma(c: wp.vec3) -> float:
    return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2]


@wp.kernel
def meter_blocks(
    lin: wp.array2d(dtype=wp.vec3),
    depth: wp.array2d(dtype=float),
    near: float,
    stats: wp.array2d(dtype=float),
):
    by, bx = wp.tid()
    h = lin.shape[0]
    w = lin.shape[1]
    y0 = by * h // BLOCKS_Y
    y1 = (by + 1) * h // BLOCKS_Y
    x0 = bx * w // BLOCKS_X
    x1 = (bx + 1) * w // BLOCKS_X
    level = wp.float32(0.0)
    colour = wp.vec3(0.0)
    count = wp.float32(0.0)
    diopters = wp.float32(0.0)
    for y in range(y0, y1):
        for x in range(x0, x1):
            c = lin[y, x]
            lum = luma(c)
            level += wp.min(lum, METER_CLIP)
            if lum < METER_CLIP:
                colour += c
                count += 1.0
            d = depth[y, x]
            if d < 1.0e6:
                diopters += 1.0 / wp.max(d, near)
    b = by * BLOCKS_X + bx
    pixels = float((y1 - y0) * (x1 - x0))
    stats[b, 0] = level / pixels
    stats[b, 1] = colour[0]
    stats[b, 2] = colour[1]
    stats[b, 3] = colour[2]
    stats[b, 4] = count
    stats[b, 5] = diopters / pixels


def centre_weights() -> np.ndarray:
    """Weights of the blocks for the exposure meter: a broad bump in the middle, summing to 1."""
    u = (np.arange(BLOCKS_X) + 0.5) / BLOCKS_X * 2.0 - 1.0
    v = (np.arange(BLOCKS_Y) + 0.5) / BLOCKS_Y * 2.0 - 1.0
    r2 = v[:, None] ** 2 + u[None, :] ** 2
    w = 1.0 + (CENTRE_WEIGHT - 1.0) * np.exp(-2.0 * r2)
    return (w / w.sum()).ravel()


def read_meter(stats: np.ndarray, weights: np.ndarray) -> Meter:
    """The frame's meter from the blocks' sums (the focus reads the four middle blocks)."""
    count = max(stats[:, 4].sum(), 1.0)
    rgb = tuple(float(stats[:, k].sum() / count) for k in (1, 2, 3))
    grid = stats[:, 5].reshape(BLOCKS_Y, BLOCKS_X)
    cy, cx = BLOCKS_Y // 2, BLOCKS_X // 2
    diopters = float(grid[cy - 1 : cy + 1, cx - 1 : cx + 1].mean())
    return Meter(float(weights @ stats[:, 0]), rgb, diopters)
