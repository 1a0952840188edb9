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


@wp.func
def trace_closest(scene: SceneData, origin: wp.vec3, direction: wp.vec3, t_max: float) -> Hit:
    """Closest hit along a unit ``direction`` within ``t_max`` metres."""
    hit = Hit()
    hit.t = t_max
    hit.instance = -1
    if scene.instance_count == 0:
        return hit
    query = wp.bvh_query_ray(scene.instance_bvh, origin, direction)
    i = wp.int32(0)
    while wp.bvh_query_next(query, i, hit.t):
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
