"""Screen tiles listing the parts a camera can see, nearest first: for rays that start at a camera.

Every primary ray starts at the camera and every disocclusion ray at the previous camera, so the
only parts such a ray can meet are those whose projection covers its pixel. Once per frame and
camera, each placed part's box is projected (conservatively, through the lens distortion) onto
24-pixel tiles, and every tile lists its parts sorted by their distance from the camera. A ray then
tests its tile's parts in that order and stops at the first part that lies beyond its closest hit:
a handful of thin-box tests instead of a walk through the grid. Rays from anywhere else (shadows,
occlusion) still walk the grid.
"""

from __future__ import annotations

import warp as wp

from backrooms.render.camera import CameraData
from backrooms.render.scene import Scene, SceneData

wp.set_module_options({"enable_backward": False})

TILE = 24  # pixels per tile side
NEAR = wp.constant(1.0e-3)  # metres: a box reaching closer than this to the camera plane covers every tile
KEY_UNIT = wp.constant(0.01)  # metres: sort keys are tile * tile_span + distance in whole centimetres


@wp.struct
class BinData:
    """Tile ``t`` lists placed parts ``items[start[t]:start[t + 1]]`` with sort ``keys`` alongside."""

    tile: int
    tiles_x: int
    tile_span: int  # keys of tile t are t * tile_span + distance (capped at tile_span - 1)
    start: wp.array(dtype=wp.int32)
    keys: wp.array(dtype=wp.int32)
    items: wp.array(dtype=wp.int32)


@wp.func
def box_tiles(
    cam: CameraData, lower: wp.vec3, upper: wp.vec3, tile: int, tiles_x: int, tiles_y: int
) -> wp.vec4i:
    """Tile rectangle (x0, y0, x1, y1) covering the box's image; x1 < x0 when it is off screen.

    The pinhole image of the box is bounded by its corners' projections; the lens maps a pinhole
    point Q to p = Q s with s in [1 / (1 + k |Q|^2), 1] (``camera.py``), so each coordinate of p
    lies between Q's and Q's scaled by the smallest s over the rectangle.
    """
    to_camera = wp.transpose(cam.rotation)
    behind = wp.int32(0)
    lo = wp.vec2(wp.inf, wp.inf)
    hi = wp.vec2(-wp.inf, -wp.inf)
    for c in range(8):
        corner = wp.vec3(
            wp.where((c & 1) != 0, upper[0], lower[0]),
            wp.where((c & 2) != 0, upper[1], lower[1]),
            wp.where((c & 4) != 0, upper[2], lower[2]),
        )
        v = to_camera * (corner - cam.position)
        depth = -v[2]
        if depth <= NEAR:
            behind += 1
        else:
            q = wp.vec2(v[0], v[1]) / (depth * cam.tan_half_fov)
            lo = wp.min(lo, q)
            hi = wp.max(hi, q)
    if behind == 8:
        return wp.vec4i(0, 0, -1, -1)
    if behind > 0:
        return wp.vec4i(0, 0, tiles_x - 1, tiles_y - 1)
    reach = wp.max(lo[0] * lo[0], hi[0] * hi[0]) + wp.max(lo[1] * lo[1], hi[1] * hi[1])
    s = 1.0 / (1.0 + cam.distortion * reach)
    plo = wp.vec2(wp.min(lo[0], lo[0] * s), wp.min(lo[1], lo[1] * s))
    phi = wp.vec2(wp.max(hi[0], hi[0] * s), wp.max(hi[1], hi[1] * s))
    w = float(cam.width)
    h = float(cam.height)
    x0 = (plo[0] / cam.aspect + 1.0) * 0.5 * w - 1.0
    x1 = (phi[0] / cam.aspect + 1.0) * 0.5 * w + 1.0
    y0 = (1.0 - phi[1]) * 0.5 * h - 1.0
    y1 = (1.0 - plo[1]) * 0.5 * h + 1.0
    if x1 < 0.0 or y1 < 0.0 or x0 >= w or y0 >= h:
        return wp.vec4i(0, 0, -1, -1)
    return wp.vec4i(
        int(wp.max(x0, 0.0)) // tile,
        int(wp.max(y0, 0.0)) // tile,
        int(wp.min(x1, w - 1.0)) // tile,
        int(wp.min(y1, h - 1.0)) // tile,
    )


@wp.func
def tile_at(bins: BinData, x: float, y: float, width: int, height: int) -> int:
    """The tile holding image point (x, y), clamped to the image."""
    tx = wp.clamp(int(x), 0, width - 1) // bins.tile
    ty = wp.clamp(int(y), 0, height - 1) // bins.tile
    return ty * bins.tiles_x + tx


@wp.func
def box_distance(p: wp.vec3, lower: wp.vec3, upper: wp.vec3) -> float:
    gap = wp.max(wp.max(lower - p, p - upper), wp.vec3(0.0))
    return wp.length(gap)


@wp.kernel
def seen_instances(
    scene: SceneData, cam: CameraData, tile: int, tiles_x: int, tiles_y: int, seen: wp.array(dtype=wp.int32)
):
    """Whether any of an instance's box reaches the image (parts of unseen instances are skipped)."""
    i = wp.tid()
    r = box_tiles(cam, scene.instance_lower[i], scene.instance_upper[i], tile, tiles_x, tiles_y)
    seen[i] = wp.where(r[2] >= r[0], 1, 0)


@wp.kernel
def part_tiles(
    scene: SceneData,
    cam: CameraData,
    tile: int,
    tiles_x: int,
    tiles_y: int,
    seen: wp.array(dtype=wp.int32),
    rects: wp.array(dtype=wp.vec4i),
    counts: wp.array(dtype=wp.int32),
):
    k = wp.tid()
    r = wp.vec4i(0, 0, -1, -1)
    if seen[scene.placed_instance[k]] != 0:
        r = box_tiles(cam, scene.placed_lower[k], scene.placed_upper[k], tile, tiles_x, tiles_y)
    rects[k] = r
    counts[k] = wp.where(r[2] >= r[0], (r[2] - r[0] + 1) * (r[3] - r[1] + 1), 0)


@wp.kernel
def emit(
    scene: SceneData,
    eye: wp.vec3,
    tiles_x: int,
    tile_span: int,
    rects: wp.array(dtype=wp.vec4i),
    ends: wp.array(dtype=wp.int32),
    counts: wp.array(dtype=wp.int32),
    keys: wp.array(dtype=wp.int32),
    items: wp.array(dtype=wp.int32),
):
    """One (tile, distance) key per tile a part covers; sorting them groups tiles, nearest first.
    Distances are rounded down (and capped), so a key never says a part is farther than it is."""
    k = wp.tid()
    r = rects[k]
    distance = box_distance(eye, scene.placed_lower[k], scene.placed_upper[k]) / KEY_UNIT
    near = int(wp.min(distance, float(tile_span - 1)))
    n = ends[k] - counts[k]
    for ty in range(r[1], r[3] + 1):
        for tx in range(r[0], r[2] + 1):
            keys[n] = (ty * tiles_x + tx) * tile_span + near
            items[n] = k
            n += 1


@wp.kernel
def tile_starts(keys: wp.array(dtype=wp.int32), total: int, tile_span: int, start: wp.array(dtype=wp.int32)):
    """start[t] = the first sorted key of tile t or later (a binary search per tile)."""
    t = wp.tid()
    target = t * tile_span
    a = wp.int32(0)
    b = total
    while a < b:
        m = (a + b) // 2
        if keys[m] < target:
            a = m + 1
        else:
            b = m
    start[t] = a


class Binner:
    """Owns one camera's tile lists for one resolution; ``bin`` refills them for a frame."""

    def __init__(self, width: int, height: int, device: str) -> None:
        self.device = device
        self.tiles_x = -(-width // TILE)
        self.tiles_y = -(-height // TILE)
        self.tile_span = 1 << (31 - (self.tiles_x * self.tiles_y).bit_length())  # 320x240: 84 km in cm
        self._start = wp.zeros(self.tiles_x * self.tiles_y + 1, dtype=wp.int32, device=device)
        self._keys = wp.zeros(0, dtype=wp.int32, device=device)
        self._items = wp.zeros(0, dtype=wp.int32, device=device)
        self._seen = self._rects = self._counts = self._ends = None
        self.key: object = None  # what the current tiles were built for
        self._out: BinData | None = None

    def bin(self, scene: Scene, cam: CameraData, key: object = None) -> BinData:
        """Tiles of ``cam`` over ``scene``; ``key`` names that pair, and the same key again reuses
        the last tiles (a walking camera's previous position was last frame's position)."""
        if key is not None and key == self.key:
            return self._out
        self.key = key
        data, device = scene.data, self.device
        parts, instances = data.placed_count, data.instance_mesh.shape[0]
        if self._rects is None or self._rects.shape[0] != parts:
            self._rects = wp.zeros(parts, dtype=wp.vec4i, device=device)
            self._counts = wp.zeros(parts, dtype=wp.int32, device=device)
            self._ends = wp.zeros(parts, dtype=wp.int32, device=device)
        if self._seen is None or self._seen.shape[0] != instances:
            self._seen = wp.zeros(instances, dtype=wp.int32, device=device)
        total = 0
        if parts:
            dims = [TILE, self.tiles_x, self.tiles_y]
            wp.launch(seen_instances, instances, [data, cam, *dims, self._seen], device=device)
            outputs = [self._seen, self._rects, self._counts]
            wp.launch(part_tiles, parts, [data, cam, *dims, *outputs], device=device)
            wp.utils.array_scan(self._counts, self._ends, inclusive=True)
            total = int(self._ends[parts - 1 : parts].numpy()[0])  # the frame's one readback
        if 2 * total > self._keys.shape[0]:  # radix sort needs twice the room
            size = max(2 * total, 2 * self._keys.shape[0], 1024)
            self._keys = wp.zeros(size, dtype=wp.int32, device=device)
            self._items = wp.zeros(size, dtype=wp.int32, device=device)
        if total:
            inputs = [data, cam.position, self.tiles_x, self.tile_span, self._rects, self._ends, self._counts]
            wp.launch(emit, parts, [*inputs, self._keys, self._items], device=device)
            wp.utils.radix_sort_pairs(self._keys, self._items, total)
        starts = [self._keys, total, self.tile_span, self._start]
        wp.launch(tile_starts, self._start.shape[0], starts, device=device)
        out = BinData()
        out.tile = TILE
        out.tiles_x = self.tiles_x
        out.tile_span = self.tile_span
        out.start = self._start
        out.keys = self._keys
        out.items = self._items
        self._out = out
        return out
