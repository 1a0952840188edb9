"""``diffusion.generate`` = k: frame generation. Only frames 0, k, 2k, ... are traced; the frames
between are the last traced frame's output reprojected with the camera's exact poses and that
frame's depth, without a ray traced.

Generated frame g from key (traced) frame a: every key pixel is lifted to its world point (key
camera, key depth) and splatted to the nearest pixel of g's camera, nearest surface winning (a depth
buffer). Pixels no key pixel lands on (disocclusions, cracks where a surface magnifies) are filled
from the farthest valid pixel within ``FILL_PASSES`` pixels, since what a camera move reveals is the
background behind an edge; a hole still empty after that keeps the key pixel at the same place. The
colour is then resampled where each generated pixel's centre came from (bilinear over the key
pixels there that hold the same surface), not taken from the nearest key pixel: nearest alone
jitters every edge by up to half a pixel. That place is found by inverting the splat about the key
pixel that landed there, with the derivatives its neighbours on the same surface give (first order,
within a twentieth of a pixel of the exact ray on a walk; no ray, no lens inversion per pixel); a
pixel filled from further away takes the exact ray. The model does not run on the whole of a
generated frame (that is the saving), so a hole inside the key frame's view takes this
nearest-background fill; what lies outside it the render node traces, and the diffusion node runs
the model over those strips alone (``diffusion.uncovered``). Every AOV of g
is written (colour, distance, normals, instance ids, motion vectors against g - 1's pose,
disocclusion = holes wider than a one-pixel crack), so the nodes after see a complete product.
Extrapolation from the past only: no latency is added.

On a traced frame the node's memory chains need each pixel's position in the previous *traced*
frame, k frames back: :meth:`FrameGenerator.source` reprojects backwards (this frame's depth into
the key camera) and tests visibility against the key frame's depth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import warp as wp

from backrooms.diffusion.pixels import FAR, lens_camera, pixel_point
from backrooms.diffusion.relight import Relighter
from backrooms.graph.product import (
    DEPTH,
    DISOCCLUSION,
    INSTANCE_ID,
    MOTION_VECTORS,
    NORMALS,
    RGB,
    TRACED,
    RenderProduct,
)
from backrooms.launch import Bands
from backrooms.render.camera import CameraData, camera_ray, project

wp.set_module_options({"enable_backward": False})

FILL_PASSES = 6  # holes up to this many pixels wide are filled from the background beside them
DEPTH_TOLERANCE = 0.05  # relative distance mismatch still counted as the same surface
LOCAL_REACH = wp.constant(1.5)  # key pixels: how far a first-order inverse of the splat is trusted
SMOOTH_RADIUS = wp.constant(2)  # pixels: the window the render node's traced pixels are smoothed over


@wp.func
def same_surface(key_dist: float, dist: float, far: bool) -> bool:
    """Whether a key pixel at ``key_dist`` shows the point at ``dist`` (both misses when ``far``)."""
    if far:
        return not (key_dist < FAR)
    return wp.abs(key_dist - dist) <= DEPTH_TOLERANCE * dist


@wp.func
def texel(image: wp.array3d(dtype=wp.uint8), y: int, x: int) -> wp.vec4:
    """Pixel (y, x) of a uint8 RGBA image as floats."""
    return wp.vec4(float(image[y, x, 0]), float(image[y, x, 1]), float(image[y, x, 2]), float(image[y, x, 3]))


@wp.func
def offset_from(point: wp.vec3, far: bool, cam: CameraData) -> wp.vec3:
    if far:
        return point
    return point - cam.position


@wp.kernel
def place(
    key: CameraData,
    cam: CameraData,
    depth: wp.array2d(dtype=wp.float32),
    first_row: int,
    landing: wp.array2d(dtype=wp.int32),
    reach: wp.array2d(dtype=wp.float32),
    seen: wp.array2d(dtype=wp.vec3),
):
    """Each key pixel's place in the new camera (``seen``: image point, z = 0 behind it), the pixel
    it lands in (``landing``, -1 outside) and its distance (``reach``)."""
    row, x = wp.tid()
    y = row + first_row
    far = not (depth[y, x] < FAR)
    offset = offset_from(pixel_point(key, depth, y, x), far, cam)
    p = project(cam, offset)
    dist = FAR
    if not far:
        dist = wp.length(offset)
    seen[y, x] = p
    reach[y, x] = dist
    landing[y, x] = -1
    if p[2] > 0.0 and p[0] >= 0.0 and p[1] >= 0.0:
        j, i = int(p[0]), int(p[1])
        if j < cam.width and i < cam.height:
            landing[y, x] = i * cam.width + j


@wp.kernel
def splat_depth(
    landing: wp.array2d(dtype=wp.int32),
    reach: wp.array2d(dtype=wp.float32),
    zbuf: wp.array2d(dtype=wp.float32),
):
    """The nearest distance landing in each new pixel (one launch: atomics across bands are not
    atomic on the CPU)."""
    y, x = wp.tid()
    t = landing[y, x]
    if t >= 0:
        w = zbuf.shape[1]
        wp.atomic_min(zbuf, t // w, t % w, reach[y, x])


@wp.kernel
def splat_index(
    landing: wp.array2d(dtype=wp.int32),
    reach: wp.array2d(dtype=wp.float32),
    zbuf: wp.array2d(dtype=wp.float32),
    index: wp.array2d(dtype=wp.int32),
):
    """The nearest surface's key pixel per target pixel (ties: the highest index, on any device)."""
    y, x = wp.tid()
    t = landing[y, x]
    if t >= 0:
        w = zbuf.shape[1]
        if reach[y, x] == zbuf[t // w, t % w]:
            wp.atomic_max(index, t // w, t % w, y * landing.shape[1] + x)


@wp.kernel
def fill_holes(
    depth: wp.array2d(dtype=wp.float32),
    listed: wp.array(dtype=wp.int32),
    index_in: wp.array2d(dtype=wp.int32),
    index_out: wp.array2d(dtype=wp.int32),
):
    """One pass over the pixels ``listed`` (y * width + x): an empty pixel takes the farthest
    (background) key pixel among its 8 neighbours. Every other pixel holds the same key pixel in
    ``index_in`` and ``index_out`` already."""
    at = listed[wp.tid()]
    h, w = index_in.shape[0], index_in.shape[1]
    i, j = at // w, at % w
    best = index_in[i, j]
    if best < 0:
        far = -1.0
        for di in range(-1, 2):
            for dj in range(-1, 2):
                ni, nj = i + di, j + dj
                if ni >= 0 and nj >= 0 and ni < h and nj < w:
                    s = index_in[ni, nj]
                    if s >= 0:
                        d = depth[s // w, s % w]
                        if d > far:
                            far = d
                            best = s
    index_out[i, j] = best


@wp.func
def bilinear_same_surface(
    key_rgb: wp.array3d(dtype=wp.uint8),
    key_depth: wp.array2d(dtype=wp.float32),
    px: float,
    py: float,
    dist: float,
    far: bool,
) -> wp.vec4:
    """The key frame's colour at image point (px, py), bilinear over the key pixels around it that
    hold the surface at ``dist`` (renormalised); alpha -1 when none does."""
    fx, fy = px - 0.5, py - 0.5
    x0, y0 = int(wp.floor(fx)), int(wp.floor(fy))
    tx, ty = fx - float(x0), fy - float(y0)
    total = wp.vec4(0.0, 0.0, 0.0, 0.0)
    weight = 0.0
    for di in range(2):
        for dj in range(2):
            ki, kj = y0 + di, x0 + dj
            # nested, not joined by `and`: the bounds must hold before key_depth is indexed
            if ki >= 0 and kj >= 0 and ki < key_depth.shape[0] and kj < key_depth.shape[1]:  # noqa: SIM102
                if same_surface(key_depth[ki, kj], dist, far):
                    k = wp.where(di == 0, 1.0 - ty, ty) * wp.where(dj == 0, 1.0 - tx, tx)
                    total += k * texel(key_rgb, ki, kj)
                    weight += k
    if weight > 1.0e-6:
        return total / weight
    return wp.vec4(0.0, 0.0, 0.0, -1.0)


@wp.func
def resampled(
    key: CameraData,
    cam: CameraData,
    key_rgb: wp.array3d(dtype=wp.uint8),
    key_depth: wp.array2d(dtype=wp.float32),
    dist: float,
    i: int,
    j: int,
) -> wp.vec4:
    """The key frame's colour at the exact place pixel (i, j)'s centre came from (its ray, at the
    distance ``dist`` of the key pixel that landed there); alpha -1 when no key pixel there holds
    that surface.

    The splat alone is nearest-pixel: half a pixel of jitter on every wallpaper edge, which the
    eye (and the warping error) reads as shimmer between traced and generated frames."""
    d = camera_ray(cam, float(j) + 0.5, float(i) + 0.5)
    offset = d
    far = not (dist < FAR)
    if not far:
        offset = cam.position + dist * d - key.position
    p = project(key, offset)
    if p[2] > 0.0:
        return bilinear_same_surface(key_rgb, key_depth, p[0], p[1], wp.length(offset), far)
    return wp.vec4(0.0, 0.0, 0.0, -1.0)


@wp.func
def step_along(
    seen: wp.array2d(dtype=wp.vec3),
    key_depth: wp.array2d(dtype=wp.float32),
    y: int,
    x: int,
    dy: int,
    dx: int,
    far: bool,
) -> wp.vec3:
    """How far the new image moves for one key pixel along (dx, dy) at key pixel (y, x): from the
    neighbour on that side that holds the same surface, else the one on the other side; z = 0
    when neither does."""
    here = seen[y, x]
    for k in range(2):
        sign = 1 - 2 * k
        ny, nx = y + sign * dy, x + sign * dx
        if ny >= 0 and nx >= 0 and ny < seen.shape[0] and nx < seen.shape[1]:  # noqa: SIM102
            if seen[ny, nx][2] > 0.0 and same_surface(key_depth[ny, nx], key_depth[y, x], far):
                step = (seen[ny, nx] - here) * float(sign)
                return wp.vec3(step[0], step[1], 1.0)
    return wp.vec3(0.0)


@wp.func
def came_from(
    seen: wp.array2d(dtype=wp.vec3), key_depth: wp.array2d(dtype=wp.float32), y: int, x: int, i: int, j: int
) -> wp.vec3:
    """Where in the key image new pixel (i, j)'s centre came from, to first order about key pixel
    (y, x), which landed near it: the key->new mapping is inverted locally with its derivatives
    taken from the neighbours on the same surface (z = 0 where they give none, or when the centre
    lies more than ``LOCAL_REACH`` key pixels away: too far for a first-order step)."""
    far = not (key_depth[y, x] < FAR)
    along_x = step_along(seen, key_depth, y, x, 0, 1, far)
    along_y = step_along(seen, key_depth, y, x, 1, 0, far)
    det = along_x[0] * along_y[1] - along_y[0] * along_x[1]
    if along_x[2] == 0.0 or along_y[2] == 0.0 or wp.abs(det) < 1.0e-4:
        return wp.vec3(0.0)
    here = seen[y, x]
    rx = float(j) + 0.5 - here[0]
    ry = float(i) + 0.5 - here[1]
    dx = (along_y[1] * rx - along_y[0] * ry) / det
    dy = (along_x[0] * ry - along_x[1] * rx) / det
    if wp.abs(dx) > LOCAL_REACH or wp.abs(dy) > LOCAL_REACH:
        return wp.vec3(0.0)
    return wp.vec3(float(x) + 0.5 + dx, float(y) + 0.5 + dy, 1.0)


@wp.kernel
def gather(
    key: CameraData,
    cam: CameraData,
    previous: CameraData,
    previous_is_key: bool,
    index: wp.array2d(dtype=wp.int32),
    revealed: wp.array2d(dtype=wp.int32),
    landed: wp.array2d(dtype=wp.int32),
    key_rgb: wp.array3d(dtype=wp.uint8),
    key_depth: wp.array2d(dtype=wp.float32),
    key_normals: wp.array3d(dtype=wp.float32),
    key_ids: wp.array2d(dtype=wp.uint32),
    reach: wp.array2d(dtype=wp.float32),
    seen: wp.array2d(dtype=wp.vec3),
    first_row: int,
    rgb: wp.array3d(dtype=wp.uint8),
    depth: wp.array2d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    motion: wp.array3d(dtype=wp.float32),
    ids: wp.array2d(dtype=wp.uint32),
    disocclusion: wp.array2d(dtype=wp.uint8),
    traced: wp.array2d(dtype=wp.uint8),
):
    """Every AOV of the generated frame from its key pixel (the same place where none was found),
    but where the render node traced the pixel (``traced``: its view lay outside the key frame's)
    and no key pixel ``landed`` on it: there the trace stays (newly seen), and ``traced`` is left 1
    only there.

    The colour is resampled where the pixel's centre came from: by the local inverse of the splat
    (``came_from``) where the key pixel landed near it, by the exact ray otherwise (holes filled
    from a neighbour several pixels away). ``previous_is_key``: the frame before is the key frame
    (every generated frame at ``generate`` 2), so a key pixel's place there is its own centre."""
    row, j = wp.tid()
    i = row + first_row
    if traced[i, j] != wp.uint8(0):
        if landed[i, j] < 0:
            disocclusion[i, j] = wp.uint8(1)  # newly seen
            return
        traced[i, j] = wp.uint8(0)
    w = index.shape[1]
    s = index[i, j]
    if s < 0:
        s = i * w + j
    y, x = s // w, s % w
    far = not (key_depth[y, x] < FAR)
    colour = wp.vec4(0.0, 0.0, 0.0, -1.0)
    source = came_from(seen, key_depth, y, x, i, j)
    if source[2] > 0.0:
        colour = bilinear_same_surface(key_rgb, key_depth, source[0], source[1], key_depth[y, x], far)
    else:
        colour = resampled(key, cam, key_rgb, key_depth, reach[y, x], i, j)
    if colour[3] < 0.0:  # no key pixel around the exact place holds this surface: the nearest one
        colour = texel(key_rgb, y, x)
    for c in range(4):
        rgb[i, j, c] = wp.uint8(wp.clamp(wp.floor(colour[c] + 0.5), 0.0, 255.0))
        normals[i, j, c] = key_normals[y, x, c]
    ids[i, j] = key_ids[y, x]
    depth[i, j] = wp.inf
    if not far:
        depth[i, j] = reach[y, x]
    now = seen[y, x]
    before = wp.vec3(float(x) + 0.5, float(y) + 0.5, 1.0)
    if not previous_is_key:
        before = project(previous, offset_from(pixel_point(key, key_depth, y, x), far, previous))
    motion[i, j, 0] = 0.0
    motion[i, j, 1] = 0.0
    if now[2] > 0.0 and before[2] > 0.0:
        motion[i, j, 0] = now[0] - before[0]
        motion[i, j, 1] = now[1] - before[1]
    motion[i, j, 2] = 0.0
    motion[i, j, 3] = 0.0
    disocclusion[i, j] = wp.where(revealed[i, j] < 0, wp.uint8(1), wp.uint8(0))


@wp.kernel
def smooth_traced(
    rgb: wp.array3d(dtype=wp.uint8),
    ids: wp.array2d(dtype=wp.uint32),
    normals: wp.array3d(dtype=wp.float32),
    traced: wp.array2d(dtype=wp.uint8),
    listed: wp.array(dtype=wp.int32),
    smoothed: wp.array(dtype=wp.vec3),
):
    """Each pixel ``listed`` (y * width + x) that the render node ``traced`` as the mean of the
    traced pixels of its surface (instance, facing) within ``SMOOTH_RADIUS``: the trace is one sample
    per pixel, beside a denoised frame (the 1-sample noise drops about 5x; a one-frame strip loses
    some texture). Written to ``smoothed`` (a pixel not traced keeps its own colour)."""
    k = wp.tid()
    h, w = rgb.shape[0], rgb.shape[1]
    y = listed[k] // w
    x = listed[k] % w
    if traced[y, x] == wp.uint8(0):
        smoothed[k] = wp.vec3(float(rgb[y, x, 0]), float(rgb[y, x, 1]), float(rgb[y, x, 2]))
        return
    n = wp.vec3(normals[y, x, 0], normals[y, x, 1], normals[y, x, 2])
    total = wp.vec3(0.0)
    count = wp.float32(0.0)
    for dy in range(-SMOOTH_RADIUS, SMOOTH_RADIUS + 1):
        for dx in range(-SMOOTH_RADIUS, SMOOTH_RADIUS + 1):
            i = wp.clamp(y + dy, 0, h - 1)
            j = wp.clamp(x + dx, 0, w - 1)
            m = wp.vec3(normals[i, j, 0], normals[i, j, 1], normals[i, j, 2])
            if traced[i, j] != wp.uint8(0) and ids[i, j] == ids[y, x] and wp.dot(n, m) > 0.9:
                total += wp.vec3(float(rgb[i, j, 0]), float(rgb[i, j, 1]), float(rgb[i, j, 2]))
                count += 1.0
    smoothed[k] = total / count


@wp.kernel
def put_listed(
    listed: wp.array(dtype=wp.int32), smoothed: wp.array(dtype=wp.vec3), rgb: wp.array3d(dtype=wp.uint8)
):
    """Write ``smoothed`` back to the pixels ``listed``, rounded."""
    k = wp.tid()
    y = listed[k] // rgb.shape[1]
    x = listed[k] % rgb.shape[1]
    for c in range(3):
        rgb[y, x, c] = wp.uint8(wp.floor(smoothed[k][c] + 0.5))


@wp.kernel
def backward_source(
    cam: CameraData,
    key: CameraData,
    depth: wp.array2d(dtype=wp.float32),
    key_depth: wp.array2d(dtype=wp.float32),
    revealed: wp.array2d(dtype=wp.uint8),
    exact: bool,
    first_row: int,
    grid: wp.array3d(dtype=wp.float32),
    valid: wp.array2d(dtype=wp.float32),
):
    """Each pixel's place in the key frame as grid_sample coordinates, and whether the key frame saw
    the same surface there: inside its image, and not ``revealed`` when ``exact`` (the renderer's
    disocclusion against the key camera), else its distance within ``DEPTH_TOLERANCE`` of one of
    the key pixels around it."""
    row, x = wp.tid()
    y = row + first_row
    far = not (depth[y, x] < FAR)
    offset = offset_from(pixel_point(cam, depth, y, x), far, key)
    before = project(key, offset)
    grid[y, x, 0] = 2.0 * before[0] / float(key.width) - 1.0
    grid[y, x, 1] = 2.0 * before[1] / float(key.height) - 1.0
    seen = 0.0
    inside = before[2] > 0.0 and before[0] >= 0.0 and before[1] >= 0.0
    inside = inside and before[0] <= float(key.width) and before[1] <= float(key.height)
    if inside and exact:
        seen = wp.where(revealed[y, x] == wp.uint8(0), 1.0, 0.0)
    elif inside:
        # the nearest key pixel, or one beside it, holds the same surface
        dist = wp.length(offset)
        for di in range(2):
            for dj in range(2):
                ki = wp.max(wp.min(int(before[1] - 0.5) + di, key.height - 1), 0)
                kj = wp.max(wp.min(int(before[0] - 0.5) + dj, key.width - 1), 0)
                if same_surface(key_depth[ki, kj], dist, far):
                    seen = 1.0
    valid[y, x] = seen


class FrameGenerator:
    """Keeps the last traced frame (its output and AOVs, copied) and makes frames from it."""

    def __init__(self, width: int, height: int, device: str) -> None:
        self.width, self.height, self.device = width, height, device
        # the per-pixel passes without atomics run as bands of rows, one per core, on the CPU
        self._bands = Bands(device, name="generate", rows=height)
        shape = (height, width)
        self.key_frame: int | None = None
        self._key_camera: CameraData | None = None
        self._key_pose: dict[str, Any] | None = None
        self._key_lights: dict[str, Any] | None = None
        self._key_shading: dict[str, Any] | None = None
        self._packed: tuple = (None, None, None)  # (meta["camera"], frame, its CameraData)
        self._relighter = Relighter(width, height, device)
        self._rgb = wp.zeros((*shape, 4), dtype=wp.uint8, device=device)
        self._depth = wp.zeros(shape, dtype=wp.float32, device=device)
        self._normals = wp.zeros((*shape, 4), dtype=wp.float32, device=device)
        self._ids = wp.zeros(shape, dtype=wp.uint32, device=device)
        self._zbuf = wp.zeros(shape, dtype=wp.float32, device=device)
        self._landing = wp.zeros(shape, dtype=wp.int32, device=device)
        self._reach = wp.zeros(shape, dtype=wp.float32, device=device)
        self._seen = wp.zeros(shape, dtype=wp.vec3, device=device)
        self._splatted = wp.zeros(shape, dtype=wp.int32, device=device)
        self._revealed = wp.zeros(shape, dtype=wp.int32, device=device)  # after the first fill pass
        self._index = [wp.zeros(shape, dtype=wp.int32, device=device) for _ in range(2)]
        self._every_pixel = wp.array(np.arange(width * height, dtype=np.int32), device=device)
        self._grid = wp.zeros((*shape, 2), dtype=wp.float32, device=device)
        self._valid = wp.zeros(shape, dtype=wp.float32, device=device)
        self._unread = wp.zeros((1, 1), dtype=wp.uint8, device=device)  # ``revealed`` when not ``exact``

    def reset(self) -> None:
        self.key_frame = None

    def keep(self, product: RenderProduct) -> None:
        """Remember a traced frame after the node wrote its output into ``rgb``."""
        for target, name in (
            (self._rgb, RGB),
            (self._depth, DEPTH),
            (self._normals, NORMALS),
            (self._ids, INSTANCE_ID),
        ):
            wp.copy(target, product[name])
        self._key_camera = self._camera(product)
        self._key_pose = product.meta["camera"]
        self._key_lights = product.meta.get("lights")
        self._key_shading = dict(product.meta.get("shading", {}))  # its exposure, ambient, haze as they were
        self.key_frame = product.frame

    def source(self, product: RenderProduct) -> tuple[torch.Tensor, torch.Tensor] | None:
        """For a traced frame: (grid (1, H, W, 2), valid (1, 1, H, W)) of its pixels in the key frame,
        or None without a key frame. Where the renderer's disocclusion looks back to the key frame
        (``meta["revealed_since"]``) it says what the key frame saw; otherwise (the first frame
        after ``generate`` changed) distances are compared, which below full size misses surfaces
        at edges: the product's distances are the nearest jittered sample's, not the pixel centre's."""
        if self.key_frame is None:
            return None
        cam = self._camera(product)
        exact = product.meta.get("revealed_since") == self.key_frame and DISOCCLUSION in product
        revealed = product[DISOCCLUSION] if exact else self._unread
        inputs = [cam, self._key_camera, product[DEPTH], self._depth, revealed, exact]
        self._bands.launch_split(backward_source, self.height, inputs, [self._grid, self._valid], self.width)
        return wp.to_torch(self._grid).unsqueeze(0), wp.to_torch(self._valid).unsqueeze(0).unsqueeze(0)

    def generate(self, product: RenderProduct) -> None:
        """Write every AOV of an untraced frame from the key frame (black without one)."""
        outputs = [
            product.allocate(n) for n in (RGB, DEPTH, NORMALS, MOTION_VECTORS, INSTANCE_ID, DISOCCLUSION)
        ]
        if self.key_frame is None:  # only when a host skips a replay: never from the executor
            for buffer in outputs:
                buffer.zero_()
            return
        meta = product.meta["camera"]
        cam = self._camera(product)
        previous = lens_camera(meta, self.width, self.height, meta["previous"])
        size = (self.height, self.width)
        self._zbuf.fill_(FAR * 2.0)
        self._splatted.fill_(-1)
        splat = [self._landing, self._reach, self._seen]
        self._bands.launch_split(place, self.height, [self._key_camera, cam, self._depth], splat, self.width)
        wp.launch(splat_depth, size, [self._landing, self._reach], [self._zbuf], device=self.device)
        wp.launch(
            splat_index, size, [self._landing, self._reach, self._zbuf, self._splatted], device=self.device
        )
        holes = self._holes()
        for target in (self._revealed, *self._index):  # a pass writes only the holes
            wp.copy(target, self._splatted)
        current = self._splatted
        for n in range(FILL_PASSES):
            target = self._revealed if n == 0 else self._index[n % 2]
            wp.launch(fill_holes, holes.shape, [self._depth, holes, current], [target], device=self.device)
            current = target
        key = [self._rgb, self._depth, self._normals, self._ids, self._reach, self._seen]
        # still empty after the first pass: wider than a crack, newly seen
        follows_key = _same_view(meta, meta["previous"], self._key_pose)
        inputs = [self._key_camera, cam, previous, follows_key, current, self._revealed, self._splatted, *key]
        traced = product[TRACED]  # the render node's: what it traced of this frame
        self._bands.launch_split(gather, self.height, inputs, [*outputs, traced], self.width)
        listed = product.meta.get("uncovered")
        if listed is not None:  # the pixels the render node traced: smoothed where kept
            smoothed = wp.empty(listed.shape, dtype=wp.vec3, device=self.device)
            smooth = [product[RGB], product[INSTANCE_ID], product[NORMALS], traced, listed]
            wp.launch(smooth_traced, listed.shape, smooth, [smoothed], device=self.device)
            wp.launch(put_listed, listed.shape, [listed, smoothed], [product[RGB]], device=self.device)
        if self._light_changed(product, cam):
            self._relighter.codes(product[RGB], traced)

    def _holes(self) -> wp.array:
        """The pixels (y * width + x) the fill passes visit: on the CPU those no key pixel landed
        on (a few percent: six passes over the whole frame were a tenth of a generated frame's
        time); on CUDA every pixel, so the host never waits for the device to count them."""
        if self.device != "cpu":
            return self._every_pixel
        return wp.array(np.flatnonzero(self._splatted.numpy() < 0).astype(np.int32), device=self.device)

    def relit_history(self, product: RenderProduct) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """For a traced frame: what re-lights an image of the key frame's (in [0, 1], warped to this
        frame's pixels) by the panels' change since, or None when none changed."""
        if self.key_frame is None or "camera" not in product.meta:
            return None
        cam = self._camera(product)
        return self._relighter.values if self._light_changed(product, cam) else None

    def _camera(self, product: RenderProduct) -> CameraData:
        """``product``'s camera packed for kernels, once per frame (source, re-lighting and keeping
        a traced frame all read it)."""
        meta = product.meta["camera"]
        if meta is not self._packed[0] or product.frame != self._packed[1]:
            self._packed = (meta, product.frame, lens_camera(meta, self.width, self.height))
        return self._packed[2]

    def _light_changed(self, product: RenderProduct, cam: CameraData) -> bool:
        """Whether the panels, ``render.ambient``, ``render.exposure`` or ``render.haze`` changed since
        the key frame (then measured at ``product``'s surfaces)."""
        if self._key_lights is None or not self._key_shading or "shading" not in product.meta:
            return False
        return self._relighter.measure(product, cam, self._key_lights, self._key_shading)


def _same_view(meta: dict[str, Any], pose: dict[str, Any], key: dict[str, Any] | None) -> bool:
    """Whether ``pose`` seen through ``meta``'s lens is exactly the key frame's view."""
    if key is None or (meta["fov_y"], meta.get("lens")) != (key["fov_y"], key.get("lens")):
        return False
    return all(np.array_equal(np.asarray(pose[k]), np.asarray(key[k])) for k in ("position", "rotation"))
