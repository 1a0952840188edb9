"""The cheap zoom lens: light falloff into the corners, depth-of-field blur around the focus
distance, and lateral chromatic aberration (red and blue images of slightly different size)."""

from __future__ import annotations

from typing import Any

import warp as wp

MAX_COC = 6.0  # widest blur radius, pixels at 320 wide (scaled with the width)
COC_PER_DIOPTER = 1.6  # blur radius in pixels at 320 wide, per diopter out of focus, at blur 1
NEAREST_M = 0.2  # the lens cannot tell anything nearer apart
NEAREST = wp.constant(NEAREST_M)


@wp.func
def sample(image: wp.array2d(dtype=Any), x: float, y: float):
    """Bilinear read at pixel coordinates (pixel (i, j) at x = i, y = j), clamped to the frame (of
    colours, or of one value per pixel: ``diffusion.relight`` reads its light grid with it)."""
    w = image.shape[1]
    h = image.shape[0]
    fx = wp.clamp(x, 0.0, float(w - 1))
    fy = wp.clamp(y, 0.0, float(h - 1))
    x0 = int(fx)
    y0 = int(fy)
    x1 = wp.min(x0 + 1, w - 1)
    y1 = wp.min(y0 + 1, h - 1)
    tx = fx - float(x0)
    ty = fy - float(y0)
    top = image[y0, x0] * (1.0 - tx) + image[y0, x1] * tx
    bottom = image[y1, x0] * (1.0 - tx) + image[y1, x1] * tx
    return top * (1.0 - ty) + bottom * ty


@wp.func
def corner_radius2(x: int, y: int, width: int, height: int) -> float:
    """Squared distance from the frame's centre, 1 at the corners."""
    cx = 0.5 * float(width)
    cy = 0.5 * float(height)
    dx = float(x) + 0.5 - cx
    dy = float(y) + 0.5 - cy
    return (dx * dx + dy * dy) / (cx * cx + cy * cy)


@wp.func
def circle_of_confusion(depth: float, focus: float, aperture: float, widest: float) -> float:
    """Blur radius in pixels of a point ``depth`` metres away with ``focus`` diopters in focus
    (``aperture``: pixels per diopter; ``widest``: the largest radius)."""
    near = 0.0
    if depth < 1.0e6:  # misses (inf) are at infinity: 0 diopters
        near = 1.0 / wp.max(depth, NEAREST)
    return wp.min(aperture * wp.abs(near - focus), widest)


@wp.func
def decoded(
    rgb: wp.array3d(dtype=wp.uint8), table: wp.array(dtype=float), x: float, y: float, k: int
) -> float:
    """Bilinear read of channel ``k``'s scene light at pixel coordinates, clamped to the frame."""
    w = rgb.shape[1]
    h = rgb.shape[0]
    fx = wp.clamp(x, 0.0, float(w - 1))
    fy = wp.clamp(y, 0.0, float(h - 1))
    x0 = int(fx)
    y0 = int(fy)
    x1 = wp.min(x0 + 1, w - 1)
    y1 = wp.min(y0 + 1, h - 1)
    tx = fx - float(x0)
    ty = fy - float(y0)
    top = table[int(rgb[y0, x0, k])] * (1.0 - tx) + table[int(rgb[y0, x1, k])] * tx
    bottom = table[int(rgb[y1, x0, k])] * (1.0 - tx) + table[int(rgb[y1, x1, k])] * tx
    return top * (1.0 - ty) + bottom * ty


@wp.kernel
def decode(
    rgb: wp.array3d(dtype=wp.uint8),
    table: wp.array(dtype=float),
    vignette: float,
    spread: float,
    first_row: int,
    lin: wp.array2d(dtype=wp.vec3),
):
    """8-bit colour to the scene light the lens lays on the sensor: corners darkened, and red
    imaged ``spread`` larger and blue as much smaller about the centre (lateral chromatic
    aberration: no fringes in the middle, the widest in the corners)."""
    row, x = wp.tid()
    y = row + first_row
    w = rgb.shape[1]
    h = rgb.shape[0]
    r2 = corner_radius2(x, y, w, h)
    shade = 1.0 - vignette * r2 * r2
    red = table[int(rgb[y, x, 0])]
    green = table[int(rgb[y, x, 1])]
    blue = table[int(rgb[y, x, 2])]
    if spread > 0.0:
        cx = 0.5 * float(w) - 0.5
        cy = 0.5 * float(h) - 0.5
        dx = float(x) - cx
        dy = float(y) - cy
        red = decoded(rgb, table, cx + dx / (1.0 + spread), cy + dy / (1.0 + spread), 0)
        blue = decoded(rgb, table, cx + dx / (1.0 - spread), cy + dy / (1.0 - spread), 2)
    lin[y, x] = wp.vec3(red, green, blue) * shade
