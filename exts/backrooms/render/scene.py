"""Device-side acceleration structures for a :class:`~backrooms.world.types.SceneView`.

Two levels, so memory grows with the number of prototypes rather than with the size of the world:
small ``wp.Mesh`` BVHs per library mesh (one per flat part, :mod:`backrooms.render.parts`), built
once per library; and, rebuilt only when the view's ``version`` changes (chunks streaming in and
out), the world boxes of the placed instances and of their parts, a uniform grid over the instances
(:mod:`backrooms.render.grid`), whose cells also list the ceiling panels within the light
radius of each cell, so shading finds nearby lights without a search. The parts' world boxes feed
the per-frame camera tiles (:mod:`backrooms.render.bins`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from itertools import count

import numpy as np
import warp as wp

from backrooms.render.grid import MAX_NEAR_PAIRS, Grid, bin_boxes, bin_near, fit_grid, reach_within
from backrooms.render.parts import planar_parts
from backrooms.world.types import InstanceSet, LightSet, PrototypeLibrary, SceneView

LOG = logging.getLogger("backrooms.render")

PATTERNS = ("plain", "wallpaper", "carpet", "ceiling_tile", "light_panel", "trim")
LIGHT_PANEL = PATTERNS.index("light_panel")
_BOUNDS_PAD = 1.0e-3  # flat quads have zero-thickness boxes; pad them so slab tests stay robust
_UPLOADS = count(1)  # process-wide, so no two instance uploads of any two scenes share a number


@wp.struct
class GridData:
    """A :class:`~backrooms.render.grid.Grid` and what each cell holds: ``items[start[c]:start[c + 1]]``."""

    lower: wp.vec3
    pitch: float
    inv_pitch: float
    dims: wp.vec3i
    start: wp.array(dtype=wp.int32)
    items: wp.array(dtype=wp.int32)


@wp.struct
class SceneData:
    """Everything a kernel needs to trace and shade, passed by value (ids and array views only)."""

    grid: GridData  # instances by grid cell (rays walk it)
    placed_count: int  # every part of every instance in world space (instance i's come together)
    placed_instance: wp.array(dtype=wp.int32)
    placed_part: wp.array(dtype=wp.int32)  # index into part_ids
    placed_lower: wp.array(dtype=wp.vec3)
    placed_upper: wp.array(dtype=wp.vec3)
    placed_thin: wp.array(dtype=wp.int32)  # the axis along which the placed part's box is thinnest
    instance_mesh: wp.array(dtype=wp.int32)
    instance_first_placed: wp.array(dtype=wp.int32)  # instance i's placed parts: [i] .. [i + 1] - 1
    instance_lower: wp.array(dtype=wp.vec3)  # world bounds
    instance_upper: wp.array(dtype=wp.vec3)
    instance_thin: wp.array(dtype=wp.int32)  # the axis along which the instance's box is thinnest
    world_to_local: wp.array(dtype=wp.mat44)
    instance_look: wp.array(dtype=wp.vec4i)
    instance_key: wp.array(dtype=wp.uint32)
    part_ids: wp.array(dtype=wp.uint64)  # see backrooms.render.parts
    part_first_triangle: wp.array(dtype=wp.int32)  # a part's face f is part_triangles[first + f]
    part_triangles: wp.array(dtype=wp.int32)  # index into triangles
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
    lights: GridData  # the same cells as ``grid``, listing the panels within the light radius of each
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
        self.upload = 0  # names the current instance upload (caches built from it compare this)
        self._meshes: list[wp.Mesh] = []  # one per part
        self._mesh_box = np.zeros((0, 2, 3), np.float32)  # prototype-local (lower, upper) per mesh
        self._part_box = np.zeros((0, 2, 3), np.float32)  # ... and per part
        self._mesh_first_part = np.zeros(1, np.int64)
        self._grid: Grid | None = None
        self._placed: _Placed | None = None  # what the boxes were built from, and the boxes
        self._panels: tuple[np.ndarray, np.ndarray] | None = None  # (centres, half sizes) uploaded
        self._told_reach = False  # the log said once that the panels' reach was cut
        self._reach: float | None = None  # the light radius the per-cell panel lists were built for
        self.panel_emission = 0.0  # a light panel's emitted radiance per unit of gain (its material's)
        self.panel_albedo = (0.0, 0.0, 0.0)  # ... and the share of the light around it it reflects

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
            self.version = self._placed = None  # the boxes were the old library's
        if view.version != self.version:
            cell = view.meta.get("cell_size")
            self._upload_instances(view.instances, cell)
            self._upload_lights(view.lights)
            self.version = view.version

    def reach_lights(self, radius: float) -> None:
        """List, per grid cell, the panels within ``radius`` of it; rebuilt only when the radius
        (a live parameter) or the view changed. Where that list would outgrow memory (a wide
        neighbourhood at a long reach) the panels reach as far as ``MAX_NEAR_PAIRS`` allows, and
        the log says so once."""
        if radius == self._reach:
            return
        panels = self.panel_boxes()
        reach = reach_within(self._grid, *panels, radius)
        if reach < radius and not self._told_reach:
            LOG.warning(
                "render.light_radius %g m: the panels reach %.1f m in this neighbourhood "
                "(at most %s light pairs)",
                radius,
                reach,
                f"{MAX_NEAR_PAIRS:,}",
            )
            self._told_reach = True
        self.data.lights = self._grid_data(self._grid, *bin_near(self._grid, *panels, reach))
        self._reach = radius

    def panel_boxes(self) -> tuple[np.ndarray, np.ndarray]:
        """(lowers, uppers) of the view's light panels, flat in Y."""
        centre, half = self._panels
        extent = np.stack([half[:, 0], np.zeros(len(half), np.float32), half[:, 1]], axis=1)
        return centre - extent, centre + extent

    def _array(self, values: np.ndarray, dtype: object) -> wp.array:
        return wp.array(values, dtype=dtype, device=self.device)

    def _upload_library(self, library: PrototypeLibrary) -> None:
        meshes = library.meshes
        if not meshes:
            raise ValueError("prototype library has no meshes")
        tri_counts = np.array([len(m.triangles) for m in meshes], np.int32)
        vert_counts = np.array([len(m.points) for m in meshes], np.int32)
        first_triangle = np.concatenate([[0], np.cumsum(tri_counts)[:-1]])
        self._meshes, boxes, part_tris, parts_per_mesh = [], [], [], []
        for m, base in zip(meshes, first_triangle, strict=True):
            points = self._array(np.ascontiguousarray(m.points, np.float32), wp.vec3)
            parts = planar_parts(m)
            for tris in parts:
                used = m.points[m.triangles[tris].ravel()]
                boxes.append((used.min(axis=0), used.max(axis=0)))
                part_tris.append(base + tris)
                indices = np.ascontiguousarray(m.triangles[tris], np.int32).ravel()
                self._meshes.append(wp.Mesh(points=points, indices=self._array(indices, wp.int32)))
            parts_per_mesh.append(len(parts))
        part_sizes = [len(t) for t in part_tris]
        self._part_box = np.array(boxes, np.float32).reshape(-1, 2, 3)
        self._mesh_box = np.array([(m.points.min(axis=0), m.points.max(axis=0)) for m in meshes], np.float32)
        self._mesh_first_part = np.concatenate([[0], np.cumsum(parts_per_mesh)]).astype(np.int64)
        mats = library.materials
        d = self.data
        d.part_ids = self._array(np.array([m.id for m in self._meshes], np.uint64), wp.uint64)
        d.part_first_triangle = self._array(np.concatenate([[0], np.cumsum(part_sizes)[:-1]]), wp.int32)
        d.part_triangles = self._array(np.concatenate([np.zeros(0, np.int32), *part_tris]), wp.int32)
        d.mesh_first_vertex = self._array(np.concatenate([[0], np.cumsum(vert_counts)[:-1]]), wp.int32)
        d.triangles = self._array(np.concatenate([m.triangles for m in meshes]).astype(np.int32), wp.vec3i)
        d.normals = self._array(np.concatenate([m.normals for m in meshes]).astype(np.float32), wp.vec3)
        d.uvs = self._array(np.concatenate([m.uvs for m in meshes]).astype(np.float32), wp.vec2)
        d.triangle_material = self._array(
            np.concatenate([m.tri_material for m in meshes]).astype(np.int32), wp.int32
        )
        d.material_albedo = self._array(np.array([m.albedo for m in mats], np.float32), wp.vec3)
        d.material_emissive = self._array(np.array([m.emissive for m in mats], np.float32), wp.vec3)
        panels = [m for m in mats if _pattern_index(m.pattern) == LIGHT_PANEL]
        brightest = max(panels, key=lambda m: float(np.mean(m.emissive)), default=None)
        self.panel_emission = 0.0 if brightest is None else float(np.mean(brightest.emissive))
        self.panel_albedo = (0.0,) * 3 if brightest is None else tuple(float(a) for a in brightest.albedo)
        d.material_roughness = self._array(np.array([m.roughness for m in mats], np.float32), wp.float32)
        d.material_pattern = self._array(
            np.array([_pattern_index(m.pattern) for m in mats], np.int32), wp.int32
        )
        images = [m.texture for m in mats]
        has = np.array([img is not None for img in images])
        d.material_texture = self._array(np.where(has, np.cumsum(has) - 1, -1).astype(np.int32), wp.int32)
        stack = [img for img in images if img is not None] or [np.zeros((1, 1, 3), np.float32)]
        d.textures = self._array(np.stack(stack).astype(np.float32), wp.vec3)
        self.library = library
        self.mesh_builds += 1

    def _upload_instances(self, inst: InstanceSet, cell: float | None) -> None:
        """The instances of a new view; where only their looks changed (a variant rate moved live)
        the boxes, the grid and the camera tiles built on them (``upload``) are kept."""
        d = self.data
        transforms = np.asarray(inst.transform, np.float32).reshape(-1, 4, 4)
        mesh = np.asarray(inst.mesh, np.int64)
        d.instance_look = self._array(np.asarray(inst.look, np.int32).reshape(-1, 4), wp.vec4i)
        d.instance_key = self._array(np.asarray(inst.key, np.uint32), wp.uint32)
        placed = self._placed
        if (
            placed is not None
            and placed.cell == cell
            and _same(placed.mesh, mesh)
            and _same(placed.transforms, transforms)
        ):
            return
        self._reach = None  # the panel lists use the grid's cells
        self._placed = p = _place(
            self._mesh_box, self._part_box, self._mesh_first_part, placed, cell, inst.key, mesh, transforms
        )
        d.placed_count = len(p.part)
        d.placed_instance = self._array(p.owner.astype(np.int32), wp.int32)
        d.placed_part = self._array(p.part.astype(np.int32), wp.int32)
        d.placed_lower = self._array(p.part_lowers, wp.vec3)
        d.placed_upper = self._array(p.part_uppers, wp.vec3)
        d.placed_thin = self._array(_thinnest(p.part_lowers, p.part_uppers), wp.int32)
        d.instance_mesh = self._array(mesh.astype(np.int32), wp.int32)
        d.instance_first_placed = self._array(p.first_part, wp.int32)
        d.instance_lower = self._array(p.lowers, wp.vec3)
        d.instance_upper = self._array(p.uppers, wp.vec3)
        d.instance_thin = self._array(_thinnest(p.lowers, p.uppers), wp.int32)
        d.world_to_local = self._array(p.inverse, wp.mat44)
        grid = fit_grid(p.lowers, p.uppers, cell)
        d.grid = self._grid_data(grid, *bin_boxes(grid, p.lowers, p.uppers))
        self._grid = grid  # the panel lists (reach_lights) use the same cells
        self.instance_builds += 1
        self.upload = next(_UPLOADS)

    def _grid_data(self, grid: Grid, start: np.ndarray, items: np.ndarray) -> GridData:
        g = GridData()
        g.lower = wp.vec3(*grid.lower.tolist())
        g.pitch = grid.pitch
        g.inv_pitch = 1.0 / grid.pitch
        g.dims = wp.vec3i(*grid.dims.tolist())
        g.start = self._array(start, wp.int32)
        g.items = self._array(items, wp.int32)
        return g

    def _upload_lights(self, lights: LightSet) -> None:
        """The panels of a new view; where they are where they were (their states changed) the
        per-cell panel lists (``reach_lights``) are kept."""
        d = self.data
        d.light_intensity = self._array(np.asarray(lights.intensity, np.float32), wp.float32)
        d.light_state = self._array(np.asarray(lights.state, np.int32), wp.int32)
        d.light_key = self._array(np.asarray(lights.key, np.uint32), wp.uint32)
        position = np.asarray(lights.position, np.float32).reshape(-1, 3)
        half = np.asarray(lights.half_size, np.float32).reshape(-1, 2)
        panels = self._panels
        if panels is not None and _same(panels[0], position) and _same(panels[1], half):
            return
        self._panels = (position, half)
        d.light_count = len(position)
        d.light_position = self._array(position, wp.vec3)
        d.light_half_size = self._array(half, wp.vec2)
        d.light_gain = wp.zeros(d.light_count, dtype=wp.float32, device=self.device)
        self._reach = None


@dataclass(frozen=True)
class _Placed:
    """An instance upload's boxes and inverse transforms, with what they were computed from: the
    next upload copies them for the instances it places alike (a light knob moved live adds or
    takes a few panels out of thousands of instances; a crossing keeps six chunks of nine)."""

    cell: float | None
    key: np.ndarray  # (N,) uint32
    mesh: np.ndarray  # (N,) int64
    transforms: np.ndarray  # (N, 4, 4) float32
    lowers: np.ndarray
    uppers: np.ndarray
    inverse: np.ndarray  # (N, 4, 4) float32
    first_part: np.ndarray  # (N + 1,) each instance's first placed part
    owner: np.ndarray  # (P,) the instance of each placed part
    part: np.ndarray  # (P,) the library part of each placed part
    part_lowers: np.ndarray
    part_uppers: np.ndarray


def _place(
    mesh_box: np.ndarray,
    part_box: np.ndarray,
    mesh_first_part: np.ndarray,
    before: _Placed | None,
    cell: float | None,
    key: np.ndarray,
    mesh: np.ndarray,
    transforms: np.ndarray,
) -> _Placed:
    """World boxes of the instances and their parts, and the inverse transforms: copied from
    ``before`` for each instance placed there alike (same key, mesh and transform), computed for
    the rest. Row by row the same numbers as computing them all (each row is its own sum)."""
    key = np.asarray(key, np.uint32)
    n = len(mesh)
    row = np.full(n, -1, np.int64)  # each instance's row in ``before``, where placed alike
    if before is not None and len(before.key) and n:
        order = np.argsort(before.key, kind="stable")
        at = order[np.minimum(np.searchsorted(before.key, key, sorter=order), len(order) - 1)]
        alike = (before.key[at] == key) & (before.mesh[at] == mesh)
        alike &= (before.transforms[at] == transforms).all(axis=(1, 2))
        row[alike] = at[alike]
    new, kept = row < 0, row >= 0
    counts = np.diff(mesh_first_part)[mesh]
    first_part = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    owner = np.repeat(np.arange(n), counts)
    rank = np.arange(len(owner)) - first_part[owner]
    part = mesh_first_part[mesh][owner] + rank
    lowers, uppers = np.empty((n, 3), np.float32), np.empty((n, 3), np.float32)
    inverse = np.empty((n, 4, 4), np.float32)
    part_lowers = np.empty((len(part), 3), np.float32)
    part_uppers = np.empty((len(part), 3), np.float32)
    lowers[new], uppers[new] = _world_boxes(mesh_box[mesh[new]], transforms[new])
    inverse[new] = np.linalg.inv(transforms[new])
    fresh = new[owner]
    part_lowers[fresh], part_uppers[fresh] = _world_boxes(part_box[part[fresh]], transforms[owner[fresh]])
    if kept.any():
        for mine, theirs in ((lowers, before.lowers), (uppers, before.uppers), (inverse, before.inverse)):
            mine[kept] = theirs[row[kept]]
        source = before.first_part[row[owner[~fresh]]] + rank[~fresh]
        part_lowers[~fresh] = before.part_lowers[source]
        part_uppers[~fresh] = before.part_uppers[source]
    return _Placed(
        cell,
        key,
        mesh,
        transforms,
        lowers,
        uppers,
        inverse,
        first_part,
        owner,
        part,
        part_lowers,
        part_uppers,
    )


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.array_equal(a, b))


def _world_boxes(local: np.ndarray, transforms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padded world (lowers, uppers) of prototype-space boxes (N, 2, 3) placed by (N, 4, 4) transforms."""
    if len(local) == 0:
        return np.zeros((0, 3), np.float32), np.zeros((0, 3), np.float32)
    rotation = transforms[:, :3, :3]
    centre = np.einsum("kij,kj->ki", rotation, local.mean(axis=1)) + transforms[:, :3, 3]
    half = np.einsum("kij,kj->ki", np.abs(rotation), (local[:, 1] - local[:, 0]) / 2) + _BOUNDS_PAD
    return (centre - half).astype(np.float32), (centre + half).astype(np.float32)


def _thinnest(lowers: np.ndarray, uppers: np.ndarray) -> np.ndarray:
    """Per box, the axis of its smallest extent (tested first: flat pieces fail there)."""
    return np.argmin(uppers - lowers, axis=1).astype(np.int32) if len(lowers) else np.zeros(0, np.int32)


def _pattern_index(name: str) -> int:
    try:
        return PATTERNS.index(name)
    except ValueError:
        raise ValueError(f"material pattern {name!r} is not one of {', '.join(PATTERNS)}") from None
