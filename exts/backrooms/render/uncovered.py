"""What a generated frame sees that its key frame did not: the pixels whose view lies outside the key
camera's image, which a turn brings in from the frame's edge.

The diffusion node makes a frame between traced ones by reprojecting the key frame's output, which
has nothing there; until issue 17's twenty-fourth round such pixels kept the key pixel at the same
place, a strip of stale picture at the frame's edge on every generated frame of a turn (the card's
walk at the defaults: up to 3.7 % of a frame, 12 columns; another held-out walk 9.8 %, 31). The
render node lists and traces them instead (``Renderer.trace`` with ``listed``). A view is tested at infinity
(exact for a turn) and at ``NEAR`` (a near wall's parallax when the camera sways or sidesteps);
what the test misses still takes the diffusion node's fill.
"""

from __future__ import annotations

import numpy as np
import warp as wp

from backrooms.render.camera import CameraData, camera_ray, project

NEAR = 1.0  # metres: the nearest surface the test allows for
STEP = 4  # pixels: the grid the test runs on first


@wp.func
def outside(cam: CameraData, key: CameraData, px: float, py: float, near: float) -> wp.uint8:
    """1 if the view through image point (px, py) at ``near`` metres or at infinity falls outside
    ``key``'s image, else 0."""
    d = camera_ray(cam, px, py)
    hit = wp.uint8(0)
    for at_infinity in range(2):
        offset = cam.position + d * near - key.position
        if at_infinity == 1:
            offset = d
        seen = project(key, offset)
        inside = seen[2] > 0.0 and seen[0] >= 0.0 and seen[1] >= 0.0
        inside = inside and seen[0] <= float(key.width) and seen[1] <= float(key.height)
        if not inside:
            hit = wp.uint8(1)
    return hit


@wp.kernel
def outside_grid(cam: CameraData, key: CameraData, near: float, grid: wp.array2d(dtype=wp.uint8)):
    """:func:`outside` at every ``STEP``-th pixel's centre each way (the last row and column clamped
    to the image's)."""
    i, j = wp.tid()
    px = float(wp.min(j * STEP, cam.width - 1)) + 0.5
    py = float(wp.min(i * STEP, cam.height - 1)) + 0.5
    grid[i, j] = outside(cam, key, px, py, near)


@wp.kernel
def outside_listed(
    cam: CameraData,
    key: CameraData,
    near: float,
    listed: wp.array(dtype=wp.int32),
    only: wp.array2d(dtype=wp.uint8),
):
    """:func:`outside` at the centre of each pixel ``listed`` (y * width + x)."""
    at = listed[wp.tid()]
    y = at // cam.width
    x = at % cam.width
    only[y, x] = outside(cam, key, float(x) + 0.5, float(y) + 0.5, near)


def uncovered(cam: CameraData, key: CameraData, only: wp.array) -> wp.array | None:
    """Mark in ``only`` (H, W) the pixels whose view lies outside the key frame's image, and list
    them (y * width + x, int32); None when there are none (``only`` all 0).

    The test runs on a grid first and then only on the pixels of the cells with a grid point
    outside at a corner: the key frame's view is a convex region of this image, so a cell whose
    corners all lie in it lies in it (a thread for every pixel cost as much as tracing a strip)."""
    height, width = only.shape
    only.zero_()
    grid = wp.empty((-(-height // STEP) + 1, -(-width // STEP) + 1), dtype=wp.uint8, device=only.device)
    wp.launch(outside_grid, grid.shape, [cam, key, NEAR], [grid], device=only.device)
    points = grid.numpy().astype(bool)
    if not points.any():
        return None
    cells = points[:-1, :-1] | points[1:, :-1] | points[:-1, 1:] | points[1:, 1:]
    near_edge = np.repeat(np.repeat(cells, STEP, axis=0), STEP, axis=1)[:height, :width]
    candidates = wp.array(np.flatnonzero(near_edge).astype(np.int32), dtype=wp.int32, device=only.device)
    inputs = [cam, key, NEAR, candidates]
    wp.launch(outside_listed, candidates.shape, inputs, [only], device=only.device)
    listed = np.flatnonzero(only.numpy()).astype(np.int32)
    return wp.array(listed, dtype=wp.int32, device=only.device) if listed.size else None
