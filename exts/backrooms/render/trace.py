"""Ray queries over the two levels: instances placed in the world, thin parts
(:mod:`backrooms.render.parts`) queried with the ray moved into their instance's space.

Rays from a camera (primary, disocclusion) test the parts listed in their screen tile, nearest first
(:mod:`backrooms.render.bins`); any other ray (shadows, occlusion) walks the scene grid front to back
(:mod:`backrooms.render.grid`).

The local direction is the world direction transformed, not renormalised, so the mesh query's ``t``
is the world distance even for scaled instances, and ``t`` of the closest hit so far prunes both levels.
"""

from __future__ import annotations

import warp as wp

from backrooms.render.bins import KEY_UNIT, BinData
from backrooms.render.scene import GridData, SceneData


@wp.struct
class Hit:
    t: float
    instance: int  # -1 for a miss
    triangle: int  # index into SceneData.triangles
    u: float  # barycentric weight of the triangle's first vertex
    v: float  # ... of its second vertex


@wp.struct
class Walk:
    """A ray's place in the grid: its cell, and the ray distance to the next cell plane per axis."""

    cell: wp.vec3i
    step: wp.vec3i
    next_t: wp.vec3
    delta: wp.vec3  # ray distance between two planes of one axis
    entry: float  # where the ray enters the current cell
    exit: float  # where the ray leaves the grid (inf if it starts inside: the cell index tells)
    done: bool


@wp.func
def inverse(direction: wp.vec3) -> wp.vec3:
    """1 / direction, with zero components made tiny first so slab tests never compute 0 * inf."""
    tiny = 1.0e-20
    return wp.vec3(
        1.0 / wp.where(direction[0] == 0.0, tiny, direction[0]),
        1.0 / wp.where(direction[1] == 0.0, tiny, direction[1]),
        1.0 / wp.where(direction[2] == 0.0, tiny, direction[2]),
    )


@wp.func
def slab(lower: wp.vec3, upper: wp.vec3, origin: wp.vec3, inv_dir: wp.vec3) -> wp.vec2:
    """(entry, exit) ray distances of a box; the ray misses it when entry > exit."""
    a = wp.cw_mul(lower - origin, inv_dir)
    b = wp.cw_mul(upper - origin, inv_dir)
    near = wp.max(wp.max(wp.min(a[0], b[0]), wp.min(a[1], b[1])), wp.min(a[2], b[2]))
    far = wp.min(wp.min(wp.max(a[0], b[0]), wp.max(a[1], b[1])), wp.max(a[2], b[2]))
    return wp.vec2(near, far)


@wp.func
def cell_of(grid: GridData, p: wp.vec3) -> wp.vec3i:
    """The grid cell holding ``p`` (clamped to the grid)."""
    c = wp.vec3i()
    for a in range(3):
        i = int(wp.floor((p[a] - grid.lower[a]) * grid.inv_pitch))
        c[a] = wp.clamp(i, 0, grid.dims[a] - 1)
    return c


@wp.func
def cell_number(grid: GridData, c: wp.vec3i) -> int:
    return (c[2] * grid.dims[1] + c[1]) * grid.dims[0] + c[0]


@wp.func
def walk_start(grid: GridData, origin: wp.vec3, direction: wp.vec3, inv_dir: wp.vec3) -> Walk:
    """The cell where the ray enters the grid (or starts, inside it: most rays, and no box test)."""
    w = Walk()
    upper = grid.lower + grid.pitch * wp.vec3(float(grid.dims[0]), float(grid.dims[1]), float(grid.dims[2]))
    w.entry = 0.0
    w.exit = wp.inf  # inside, the walk ends when the cell index leaves the grid
    w.done = False
    if wp.min(origin - grid.lower) < 0.0 or wp.max(origin - upper) >= 0.0:
        span = slab(grid.lower, upper, origin, inv_dir)
        w.entry = wp.max(span[0], 0.0)
        w.exit = span[1]
        w.done = w.entry > span[1]
    w.cell = cell_of(grid, origin + w.entry * direction)
    for a in range(3):
        forward = direction[a] > 0.0
        w.step[a] = wp.where(forward, 1, wp.where(direction[a] < 0.0, -1, 0))
        plane = grid.lower[a] + grid.pitch * float(w.cell[a] + wp.where(forward, 1, 0))
        w.next_t[a] = wp.where(w.step[a] == 0, wp.inf, (plane - origin[a]) * inv_dir[a])
        w.delta[a] = wp.where(w.step[a] == 0, wp.inf, grid.pitch * wp.abs(inv_dir[a]))
    return w


@wp.func
def cell_exit(w: Walk) -> float:
    """Where the ray leaves its current cell."""
    return wp.min(wp.min(w.next_t[0], w.next_t[1]), w.next_t[2])


@wp.func
def walk_next(grid: GridData, w: Walk) -> Walk:
    """Step into the neighbouring cell the ray crosses into; ``done`` once it leaves the grid."""
    t = cell_exit(w)
    a = wp.where(w.next_t[0] == t, 0, wp.where(w.next_t[1] == t, 1, 2))
    w.cell[a] = w.cell[a] + w.step[a]
    w.next_t[a] = w.next_t[a] + w.delta[a]
    w.entry = t
    w.done = t >= w.exit or w.cell[a] < 0 or w.cell[a] >= grid.dims[a]
    return w


@wp.func
def through_thin_box(
    lower: wp.vec3, upper: wp.vec3, thin: int, origin: wp.vec3, inv_dir: wp.vec3, t_max: float
) -> bool:
    """Whether the ray passes through a box before ``t_max``, trying first the box's thinnest axis
    alone: most flat parts are rejected by that one slab, at a fifth of the cost of all three."""
    a = (lower[thin] - origin[thin]) * inv_dir[thin]
    b = (upper[thin] - origin[thin]) * inv_dir[thin]
    if wp.max(a, b) < 0.0 or wp.min(a, b) >= t_max:
        return False
    span = slab(lower, upper, origin, inv_dir)
    return span[0] <= span[1] and span[0] < t_max and span[1] >= 0.0


@wp.func
def pierces(scene: SceneData, i: int, origin: wp.vec3, inv_dir: wp.vec3, t_max: float) -> bool:
    """Whether the ray passes through instance ``i``'s box before ``t_max``."""
    lower, upper = scene.instance_lower[i], scene.instance_upper[i]
    return through_thin_box(lower, upper, scene.instance_thin[i], origin, inv_dir, t_max)


@wp.func
def test_part(scene: SceneData, i: int, part: int, o: wp.vec3, d: wp.vec3, hit: Hit) -> Hit:
    """``hit`` updated with the closest triangle of ``part`` of instance ``i`` (ray in its space)."""
    q = wp.mesh_query_ray(scene.part_ids[part], o, d, hit.t)
    if q.result:
        hit.t = q.t
        hit.instance = i
        hit.triangle = scene.part_triangles[scene.part_first_triangle[part] + q.face]
        hit.u = q.u
        hit.v = q.v
    return hit


@wp.func
def through_placed(scene: SceneData, k: int, origin: wp.vec3, inv_dir: wp.vec3, t_max: float) -> bool:
    """Whether the ray passes through placed part ``k``'s world box before ``t_max``."""
    lower, upper, thin = scene.placed_lower[k], scene.placed_upper[k], scene.placed_thin[k]
    return through_thin_box(lower, upper, thin, origin, inv_dir, t_max)


@wp.func
def placed_blocks(
    scene: SceneData, k: int, origin: wp.vec3, direction: wp.vec3, inv_dir: wp.vec3, t_max: float
) -> bool:
    """Whether placed part ``k`` has a triangle along the ray within ``t_max``: its world box first,
    then the part itself, queried in its instance's space."""
    if not through_placed(scene, k, origin, inv_dir, t_max):
        return False
    to_local = scene.world_to_local[scene.placed_instance[k]]
    o = wp.transform_point(to_local, origin)
    d = wp.transform_vector(to_local, direction)
    return wp.mesh_query_ray_anyhit(scene.part_ids[scene.placed_part[k]], o, d, t_max)


@wp.func
def blocks(
    scene: SceneData, i: int, origin: wp.vec3, direction: wp.vec3, inv_dir: wp.vec3, t_max: float
) -> bool:
    """Whether instance ``i`` has any triangle along the ray within ``t_max``: its parts' world
    boxes are tested first, so a ray that crosses none of them costs no transform at all."""
    for k in range(scene.instance_first_placed[i], scene.instance_first_placed[i + 1]):
        if placed_blocks(scene, k, origin, direction, inv_dir, t_max):
            return True
    return False


@wp.func
def tile_near(bins: BinData, tile: int, j: int) -> float:
    """How near the camera entry ``j`` of ``tile``'s list can be (its key, rounded down)."""
    return float(bins.keys[j] - tile * bins.tile_span) * KEY_UNIT


@wp.func
def trace_tile(
    scene: SceneData, bins: BinData, tile: int, origin: wp.vec3, direction: wp.vec3, t_max: float
) -> Hit:
    """Closest hit of a ray from the camera ``bins`` was made for, through a pixel of ``tile``.

    The tile's parts come nearest first; the first one whose box lies beyond the closest hit so far
    ends the search.
    """
    hit = Hit()
    hit.t = t_max
    hit.instance = -1
    inv_dir = inverse(direction)
    for j in range(bins.start[tile], bins.start[tile + 1]):
        if tile_near(bins, tile, j) >= hit.t:
            break
        k = bins.items[j]
        if through_placed(scene, k, origin, inv_dir, hit.t):
            i = scene.placed_instance[k]
            to_local = scene.world_to_local[i]
            o = wp.transform_point(to_local, origin)
            d = wp.transform_vector(to_local, direction)
            hit = test_part(scene, i, scene.placed_part[k], o, d, hit)
    return hit


@wp.func
def occluded_tile(
    scene: SceneData, bins: BinData, tile: int, origin: wp.vec3, direction: wp.vec3, t_max: float
) -> bool:
    """``occluded`` for a ray from the camera ``bins`` was made for, through a pixel of ``tile``."""
    inv_dir = inverse(direction)
    for j in range(bins.start[tile], bins.start[tile + 1]):
        if tile_near(bins, tile, j) >= t_max:
            break
        if placed_blocks(scene, bins.items[j], origin, direction, inv_dir, t_max):
            return True
    return False


@wp.func
def occluded(scene: SceneData, origin: wp.vec3, direction: wp.vec3, t_max: float) -> bool:
    """Whether anything lies along a unit ``direction`` within ``t_max`` metres (any hit, no sorting)."""
    inv_dir = inverse(direction)
    w = walk_start(scene.grid, origin, direction, inv_dir)
    while not w.done and w.entry < t_max:
        c = cell_number(scene.grid, w.cell)
        for j in range(scene.grid.start[c], scene.grid.start[c + 1]):
            i = scene.grid.items[j]
            if pierces(scene, i, origin, inv_dir, t_max) and blocks(
                scene, i, origin, direction, inv_dir, t_max
            ):
                return True
        w = walk_next(scene.grid, w)
    return False


@wp.func
def hit_normal(scene: SceneData, hit: Hit, direction: wp.vec3) -> wp.vec3:
    """Interpolated world-space normal at a hit, turned to face the incoming ray."""
    tri = scene.triangles[hit.triangle]
    base = scene.mesh_first_vertex[scene.instance_mesh[hit.instance]]
    w = 1.0 - hit.u - hit.v
    n = (
        hit.u * scene.normals[base + tri[0]]
        + hit.v * scene.normals[base + tri[1]]
        + w * scene.normals[base + tri[2]]
    )
    n = wp.normalize(wp.transform_vector(wp.transpose(scene.world_to_local[hit.instance]), n))
    if wp.dot(n, direction) > 0.0:
        n = -n
    return n


@wp.func
def hit_uv(scene: SceneData, hit: Hit) -> wp.vec2:
    """Interpolated texture coordinates at a hit."""
    tri = scene.triangles[hit.triangle]
    base = scene.mesh_first_vertex[scene.instance_mesh[hit.instance]]
    w = 1.0 - hit.u - hit.v
    return hit.u * scene.uvs[base + tri[0]] + hit.v * scene.uvs[base + tri[1]] + w * scene.uvs[base + tri[2]]
