"""Device-side acceleration structures for a :class:`~backrooms.world.types.SceneView`.

Two levels, so memory grows with the number of prototypes rather than with the size of the world:
one ``wp.Mesh`` (triangle BVH) per library mesh, built once per library, and a ``wp.Bvh`` over the
world bounds of the placed instances, rebuilt only when the view's ``version`` changes (chunks
streaming in and out). Ceiling panels get their own small ``wp.Bvh`` so shading finds nearby lights
without looping over all of them.
"""

from __future__ import annotations

import numpy as np
import warp as wp

from backrooms.world.types import InstanceSet, LightSet, PrototypeLibrary, SceneView

PATTERNS = ("plain", "wallpaper", "carpet", "ceiling_tile", "light_panel", "trim")
LIGHT_PANEL = PATTERNS.index("light_panel")
_BOUNDS_PAD = 1.0e-3  # flat quads have zero-thickness boxes; pad them so slab tests stay robust


@wp.struct
class SceneData:
    """Everything a kernel needs to trace and shade, passed by value (ids and array views only)."""

    instance_bvh: wp.uint64
    instance_count: int
    instance_mesh: wp.array(dtype=wp.int32)
    instance_lower: wp.array(dtype=wp.vec3)  # world bounds, for nearest-first candidate order
    instance_upper: wp.array(dtype=wp.vec3)
    world_to_local: wp.array(dtype=wp.mat44)
    instance_look: wp.array(dtype=wp.vec4i)
    instance_key: wp.array(dtype=wp.uint32)
    mesh_ids: wp.array(dtype=wp.uint64)
    mesh_first_triangle: wp.array(dtype=wp.int32)
    mesh_first_vertex: wp.array(dtype=wp.int32)
    triangles: wp.array(dtype=wp.vec3i)
    normals: wp.array(dtype=wp.vec3)
    uvs: wp.array(dtype=wp.vec2)
    triangle_material: wp.array(dtype=wp.int32)
    material_albedo: wp.array(dtype=wp.vec3)
    material_emissive: wp.array(dtype=wp.vec3)
    material_roughness: wp.array(dtype=wp.float32)
    material_pattern: wp.array(dtype=wp.int32)
    material_texture: wp.array(dtype=wp.int32)  # index into textures, -1 for a constant colour
    textures: wp.array3d(dtype=wp.vec3)  # (count, size, size) linear RGB, row 0 at v = 1
    light_bvh: wp.uint64
    light_count: int
    light_position: wp.array(dtype=wp.vec3)
    light_half_size: wp.array(dtype=wp.vec2)
    light_intensity: wp.array(dtype=wp.float32)
    light_state: wp.array(dtype=wp.int32)
    light_key: wp.array(dtype=wp.uint32)
    light_gain: wp.array(dtype=wp.float32)  # this frame's radiance per panel, written by the renderer


class Scene:
    """Owns the device copies of one view; ``update`` rebuilds only what changed."""

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self.data = SceneData()
        self.library: PrototypeLibrary | None = None
        self.version: int | None = None
        self.mesh_builds = 0  # library uploads so far (tests check that streaming does not rebuild)
        self.instance_builds = 0
        self._meshes: list[wp.Mesh] = []
        self._local_corners = np.zeros((0, 8, 3), np.float32)
        self._instance_bvh: wp.Bvh | None = None
        self._light_bvh: wp.Bvh | None = None

    @classmethod
    def from_view(cls, view: SceneView, device: str = "cpu") -> Scene:
        scene = cls(device)
        scene.update(view)
        return scene

    @classmethod
    def from_stage(cls, stage: object, device: str = "cpu") -> Scene:
        """Load a USD stage of instanced meshes (see :mod:`backrooms.render.usd_scene`)."""
        from backrooms.render.usd_scene import view_from_stage

        return cls.from_view(view_from_stage(stage), device)

    def update(self, view: SceneView) -> None:
        """Adopt ``view``: upload the library if it is a new one, the instances if the version moved."""
        if view.library is not self.library:
            self._upload_library(view.library)
            self.version = None
        if view.version != self.version:
            self._upload_instances(view.instances)
            self._upload_lights(view.lights)
            self.version = view.version

    def _array(self, values: np.ndarray, dtype: object) -> wp.array:
        return wp.array(values, dtype=dtype, device=self.device)

    def _upload_library(self, library: PrototypeLibrary) -> None:
        meshes = library.meshes
        if not meshes:
            raise ValueError("prototype library has no meshes")
        self._meshes = [
            wp.Mesh(
                points=self._array(np.ascontiguousarray(m.points, np.float32), wp.vec3),
                indices=self._array(np.ascontiguousarray(m.triangles, np.int32).ravel(), wp.int32),
            )
            for m in meshes
        ]
        corners = []
        for m in meshes:
            lo, hi = m.points.min(axis=0), m.points.max(axis=0)
            corners.append([[(hi if (c >> a) & 1 else lo)[a] for a in range(3)] for c in range(8)])
        self._local_corners = np.asarray(corners, np.float32)
        tri_counts = np.array([len(m.triangles) for m in meshes], np.int32)
        vert_counts = np.array([len(m.points) for m in meshes], np.int32)
        mats = library.materials
        d = self.data
        d.mesh_ids = self._array(np.array([m.id for m in self._meshes], np.uint64), wp.uint64)
        d.mesh_first_triangle = self._array(np.concatenate([[0], np.cumsum(tri_counts)[:-1]]), wp.int32)
        d.mesh_first_vertex = self._array(np.concatenate([[0], np.cumsum(vert_counts)[:-1]]), wp.int32)
        d.triangles = self._array(np.concatenate([m.triangles for m in meshes]).astype(np.int32), wp.vec3i)
        d.normals = self._array(np.concatenate([m.normals for m in meshes]).astype(np.float32), wp.vec3)
        d.uvs = self._array(np.concatenate([m.uvs for m in meshes]).astype(np.float32), wp.vec2)
        d.triangle_material = self._array(
            np.concatenate([m.tri_material for m in meshes]).astype(np.int32), wp.int32
        )
        d.material_albedo = self._array(np.array([m.albedo for m in mats], np.float32), wp.vec3)
        d.material_emissive = self._array(np.array([m.emissive for m in mats], np.float32), wp.vec3)
        d.material_roughness = self._array(np.array([m.roughness for m in mats], np.float32), wp.float32)
        d.material_pattern = self._array(
            np.array([_pattern_index(m.pattern) for m in mats], np.int32), wp.int32
        )
        images = [getattr(m, "texture", None) for m in mats]  # see usd_scene.TexturedMaterial
        has = np.array([img is not None for img in images])
        d.material_texture = self._array(np.where(has, np.cumsum(has) - 1, -1).astype(np.int32), wp.int32)
        stack = [img for img in images if img is not None] or [np.zeros((1, 1, 3), np.float32)]
        d.textures = self._array(np.stack(stack).astype(np.float32), wp.vec3)
        self.library = library
        self.mesh_builds += 1

    def _upload_instances(self, inst: InstanceSet) -> None:
        d = self.data
        transforms = np.asarray(inst.transform, np.float32).reshape(-1, 4, 4)
        count = len(transforms)
        corners = self._local_corners[np.asarray(inst.mesh, np.int64)]  # (K, 8, 3)
        world = np.einsum("kij,kcj->kci", transforms[:, :3, :3], corners) + transforms[:, None, :3, 3]
        lowers = world.min(axis=1) - _BOUNDS_PAD if count else np.zeros((0, 3), np.float32)
        uppers = world.max(axis=1) + _BOUNDS_PAD if count else np.zeros((0, 3), np.float32)
        d.instance_count = count
        d.instance_mesh = self._array(np.asarray(inst.mesh, np.int32), wp.int32)
        d.world_to_local = self._array(np.linalg.inv(transforms).astype(np.float32), wp.mat44)
        d.instance_look = self._array(np.asarray(inst.look, np.int32).reshape(-1, 4), wp.vec4i)
        d.instance_key = self._array(np.asarray(inst.key, np.uint32), wp.uint32)
        d.instance_lower = self._array(lowers.astype(np.float32), wp.vec3)
        d.instance_upper = self._array(uppers.astype(np.float32), wp.vec3)
        self._instance_bvh = self._bvh(lowers, uppers)
        d.instance_bvh = self._instance_bvh.id if self._instance_bvh else wp.uint64(0)
        self.instance_builds += 1

    def _upload_lights(self, lights: LightSet) -> None:
        d = self.data
        pos = np.asarray(lights.position, np.float32).reshape(-1, 3)
        half = np.asarray(lights.half_size, np.float32).reshape(-1, 2)
        extent = np.stack([half[:, 0], np.full(len(half), _BOUNDS_PAD, np.float32), half[:, 1]], axis=1)
        d.light_count = len(pos)
        d.light_position = self._array(pos, wp.vec3)
        d.light_half_size = self._array(half, wp.vec2)
        d.light_intensity = self._array(np.asarray(lights.intensity, np.float32), wp.float32)
        d.light_state = self._array(np.asarray(lights.state, np.int32), wp.int32)
        d.light_key = self._array(np.asarray(lights.key, np.uint32), wp.uint32)
        d.light_gain = wp.zeros(len(pos), dtype=wp.float32, device=self.device)
        self._light_bvh = self._bvh(pos - extent, pos + extent)
        d.light_bvh = self._light_bvh.id if self._light_bvh else wp.uint64(0)

    def _bvh(self, lowers: np.ndarray, uppers: np.ndarray) -> wp.Bvh | None:
        if len(lowers) == 0:
            return None
        return wp.Bvh(
            self._array(lowers.astype(np.float32), wp.vec3), self._array(uppers.astype(np.float32), wp.vec3)
        )


def _pattern_index(name: str) -> int:
    try:
        return PATTERNS.index(name)
    except ValueError:
        raise ValueError(f"material pattern {name!r} is not one of {', '.join(PATTERNS)}") from None
