"""Two-level ray queries: the instance BVH finds candidate instances, each instance's mesh BVH is
queried with the ray moved into its local space.

The local direction is the world direction transformed, not renormalised, so the mesh query's ``t``
is the world distance even for scaled instances, and ``t`` of the closest hit so far prunes both levels.
"""

from __future__ import annotations

import warp as wp

from backrooms.render.scene import SceneData


@wp.struct
class Hit:
    t: float
    instance: int  # -1 for a miss
    triangle: int  # index into SceneData.triangles
    u: float  # barycentric weight of the triangle's first vertex
    v: float  # ... of its second vertex


BATCH = wp.constant(8)
batch_f = wp.types.vector(length=8, dtype=wp.float32)
batch_i = wp.types.vector(length=8, dtype=wp.int32)


@wp.func
def entry_distance(lower: wp.vec3, upper: wp.vec3, origin: wp.vec3, inv_dir: wp.vec3) -> float:
    """Where the ray enters a box (0 if it starts inside)."""
    a = wp.cw_mul(lower - origin, inv_dir)
    b = wp.cw_mul(upper - origin, inv_dir)
    near = wp.max(wp.max(wp.min(a[0], b[0]), wp.min(a[1], b[1])), wp.min(a[2], b[2]))
    return wp.max(near, 0.0)


@wp.func
def test_instance(scene: SceneData, i: int, origin: wp.vec3, direction: wp.vec3, hit: Hit) -> Hit:
    """``hit`` updated with instance ``i``'s closest triangle, if it is nearer."""
    to_local = scene.world_to_local[i]
    mesh = scene.instance_mesh[i]
    q = wp.mesh_query_ray(
        scene.mesh_ids[mesh],
        wp.transform_point(to_local, origin),
        wp.transform_vector(to_local, direction),
        hit.t,
    )
    if q.result:
        hit.t = q.t
        hit.instance = i
        hit.triangle = scene.mesh_first_triangle[mesh] + q.face
        hit.u = q.u
        hit.v = q.v
    return hit


@wp.func
def test_nearest_first(
    scene: SceneData, near: batch_f, ids: batch_i, count: int, origin: wp.vec3, direction: wp.vec3, hit: Hit
) -> Hit:
    """Test buffered candidates in order of entry distance, stopping once the rest lie behind the hit."""
    for _ in range(count):
        best = wp.int32(-1)
        best_t = wp.float32(wp.inf)
        for k in range(count):
            if near[k] < best_t:
                best_t = near[k]
                best = k
        if best < 0 or best_t >= hit.t:
            return hit
        near[best] = wp.inf
        hit = test_instance(scene, ids[best], origin, direction, hit)
    return hit


@wp.func
def trace_closest(scene: SceneData, origin: wp.vec3, direction: wp.vec3, t_max: float) -> Hit:
    """Closest hit along a unit ``direction`` within ``t_max`` metres.

    The instance BVH yields candidates in no particular order; testing them nearest-first lets the
    first hit cull the instances behind it, so fewer mesh BVHs are walked.
    """
    hit = Hit()
    hit.t = t_max
    hit.instance = -1
    if scene.instance_count == 0:
        return hit
    inv_dir = wp.vec3(1.0 / direction[0], 1.0 / direction[1], 1.0 / direction[2])
    near = batch_f()
    ids = batch_i()
    count = wp.int32(0)
    query = wp.bvh_query_ray(scene.instance_bvh, origin, direction)
    i = wp.int32(0)
    while wp.bvh_query_next(query, i, hit.t):
        if count == BATCH:
            hit = test_nearest_first(scene, near, ids, count, origin, direction, hit)
            count = 0
        near[count] = entry_distance(scene.instance_lower[i], scene.instance_upper[i], origin, inv_dir)
        ids[count] = i
        count += 1
    return test_nearest_first(scene, near, ids, count, origin, direction, hit)


@wp.func
def occluded(scene: SceneData, origin: wp.vec3, direction: wp.vec3, t_max: float) -> bool:
    """Whether anything lies along a unit ``direction`` within ``t_max`` metres (any hit, no sorting)."""
    if scene.instance_count == 0:
        return False
    query = wp.bvh_query_ray(scene.instance_bvh, origin, direction)
    i = wp.int32(0)
    while wp.bvh_query_next(query, i, t_max):
        to_local = scene.world_to_local[i]
        if wp.mesh_query_ray_anyhit(
            scene.mesh_ids[scene.instance_mesh[i]],
            wp.transform_point(to_local, origin),
            wp.transform_vector(to_local, direction),
            t_max,
        ):
            return True
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
