"""What the world hands the renderer: plain numpy data, no USD objects, no device arrays.

Conventions (as USD's defaults): Y is up, one unit is one metre, a camera looks down its local -Z
with +Y up. Triangles wind counter-clockwise seen from the side their normal points to.
This module is the contract between ``backrooms.world`` (producer) and ``backrooms.render``
(consumer); change it only by adding fields with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Camera:
    """A pinhole camera at one instant."""

    position: np.ndarray  # (3,) float32, world metres
    rotation: np.ndarray  # (3, 3) float32, columns: camera right, up, back (+Z) in world space
    fov_y: float = 60.0  # vertical field of view, degrees
    steps: float = 0.0  # the operator's steps so far: a new whole number is a footfall
    speed: float = 0.0  # the operator's walking speed, m/s (0 while standing)

    @property
    def step_phase(self) -> float:
        """0 at a footfall, rising to 1 at the next."""
        return self.steps % 1.0

    @property
    def walking(self) -> bool:
        return self.speed > 0.05

    @property
    def forward(self) -> np.ndarray:
        return -self.rotation[:, 2]


@dataclass(frozen=True)
class Material:
    """A UsdPreviewSurface reduced to what the shader uses, plus a procedural pattern name."""

    name: str
    albedo: tuple[float, float, float]
    roughness: float = 0.8
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)
    pattern: str = "plain"  # plain | wallpaper | carpet | ceiling_tile | light_panel | trim
    # A diffuse image (UsdUVTexture): linear RGB, usd_read.TEXTURE_SIZE square, row 0 at v = 1.
    texture: np.ndarray | None = field(default=None, compare=False, repr=False)


@dataclass
class Mesh:
    """One prototype's triangulated geometry in prototype-local coordinates."""

    name: str
    points: np.ndarray  # (N, 3) float32
    triangles: np.ndarray  # (M, 3) int32 indices into points
    normals: np.ndarray  # (N, 3) float32, unit
    uvs: np.ndarray  # (N, 2) float32, metres along the surface (patterns tile by world size)
    tri_material: np.ndarray  # (M,) int32 indices into PrototypeLibrary.materials


@dataclass
class PrototypeLibrary:
    """All meshes the world can place; it never grows while walking."""

    meshes: list[Mesh]
    materials: list[Material]
    cell_size: float = 4.0


@dataclass
class InstanceSet:
    """Placed copies of library meshes."""

    mesh: np.ndarray  # (K,) int32 index into PrototypeLibrary.meshes
    transform: np.ndarray  # (K, 4, 4) float32 local-to-world, column-vector convention (p' = T @ p)
    look: np.ndarray  # (K, 4) int32 material variant per instance: wallpaper, carpet, ceiling, wear
    key: np.ndarray  # (K,) uint32 stable per-instance id for seeded surface detail


@dataclass
class LightSet:
    """Ceiling panels as rectangular area lights facing down."""

    position: np.ndarray  # (L, 3) float32 panel centre
    half_size: np.ndarray  # (L, 2) float32 half extents along world X and Z
    intensity: np.ndarray  # (L,) float32 radiance scale, 0 for dead panels
    state: np.ndarray  # (L,) int32 0 on, 1 flickering, 2 dead
    key: np.ndarray  # (L,) uint32 stable per-light id, seeds flicker


@dataclass
class SceneView:
    """The loaded neighbourhood of the camera; ``version`` changes whenever chunks change."""

    library: PrototypeLibrary
    instances: InstanceSet
    lights: LightSet
    version: int = 0
    meta: dict = field(default_factory=dict)
