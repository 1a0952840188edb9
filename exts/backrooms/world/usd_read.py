"""The one reader of ``UsdGeom.Mesh`` geometry and ``UsdPreviewSurface`` materials.

Two callers, two policies: the prototype library (:mod:`backrooms.world.library`) reads strictly and
refuses a mesh without vertex normals and UVs with one line naming the file and prim; a user's stage
(:mod:`backrooms.render.usd_scene`) is read leniently: normals are computed from the winding, UVs may
be faceVarying or missing. Both fan-triangulate polygons and honour ``orientation = leftHanded``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image
from pxr import Usd, UsdGeom, UsdShade

from backrooms.errors import UserError
from backrooms.world.types import Material

TEXTURE_SIZE = 256  # every texture is resampled to this square, so they stack in one device array


@dataclass(frozen=True)
class MeshPart:
    """One mesh in its root's space: triangles index ``points``; ``face_of`` names each one's polygon."""

    points: np.ndarray  # (V, 3) float64
    triangles: np.ndarray  # (T, 3) int64
    normals: np.ndarray  # (V, 3) float64, unit
    uvs: np.ndarray  # (V, 2) float32
    face_of: np.ndarray  # (T,) int64


def read_mesh(
    mesh: UsdGeom.Mesh, to_root: np.ndarray, time: Usd.TimeCode, strict: str | None = None
) -> MeshPart | None:
    """The mesh at ``time`` moved by ``to_root`` (a column-vector 4x4), or None when it is empty.

    ``strict`` (the name errors carry, e.g. ``"file: /prim"``) refuses what lenient reading repairs.
    Broken topology is refused either way (UserError strict, ValueError lenient).
    """
    where = strict or str(mesh.GetPath())
    points = np.asarray(mesh.GetPointsAttr().Get(time) or [], np.float64).reshape(-1, 3)
    counts = np.asarray(mesh.GetFaceVertexCountsAttr().Get(time) or [], np.int64)
    corners = np.asarray(mesh.GetFaceVertexIndicesAttr().Get(time) or [], np.int64)

    def refuse(problem: str) -> Exception:
        return UserError(f"{where}: {problem}") if strict else ValueError(f"{where}: {problem}")

    if len(points) == 0 or len(counts) == 0:
        if strict:
            raise refuse("mesh has no points or faces")
        return None
    if counts.min() < 3 or counts.sum() != len(corners):
        raise refuse("faceVertexCounts do not match faceVertexIndices")
    if corners.min() < 0 or corners.max() >= len(points):
        raise refuse(f"faceVertexIndices point outside the {len(points)} points")
    if not np.isfinite(points).all():
        raise refuse("points are not finite")

    # Fan triangulation of convex polygons, polygon by polygon, as face-corner indices.
    per_face = counts - 2
    face_of = np.repeat(np.arange(len(counts)), per_face)
    k = np.arange(len(face_of)) - np.repeat(np.cumsum(per_face) - per_face, per_face) + 1
    start = (np.cumsum(counts) - counts)[face_of]
    fan = np.stack([start, start + k, start + k + 1], 1)
    if mesh.GetOrientationAttr().Get(time) == UsdGeom.Tokens.leftHanded:
        fan = fan[:, ::-1]
    tris = corners[fan]

    normals = np.asarray(mesh.GetNormalsAttr().Get(time) or [], np.float64).reshape(-1, 3)
    vertex_normals = len(normals) == len(points) and mesh.GetNormalsInterpolation() == UsdGeom.Tokens.vertex
    if not vertex_normals:
        if strict:
            raise refuse("needs one vertex-interpolated normal per point")
        normals = _vertex_normals(points, tris)
    st = UsdGeom.PrimvarsAPI(mesh).GetPrimvar("st")
    uvs = np.asarray(st.ComputeFlattened(time) if st and st.HasValue() else [], np.float32).reshape(-1, 2)
    face_varying = bool(st) and st.GetInterpolation() == UsdGeom.Tokens.faceVarying
    if strict and (face_varying or len(uvs) != len(points)):
        raise refuse("needs vertex-interpolated primvars:st (one UV per point)")
    if face_varying and len(uvs) == len(corners):
        points, normals, tris = points[corners], normals[corners], fan  # one vertex per face corner
    elif len(uvs) != len(points):
        uvs = np.zeros((len(points), 2), np.float32)

    rot, shift = to_root[:3, :3], to_root[:3, 3]
    normals = normals @ np.linalg.inv(rot)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-12)
    return MeshPart(points @ rot.T + shift, tris, normals, uvs, face_of)


def read_material(material: UsdShade.Material, time: Usd.TimeCode) -> Material:
    """A bound UsdPreviewSurface: diffuse colour (constant or a UsdUVTexture image), roughness,
    emission, and the ``backrooms:pattern`` our prototypes tag their materials with."""
    shader = material.ComputeSurfaceSource()[0]

    def value(name: str, default: object) -> object:
        inp = shader.GetInput(name) if shader else None
        got = inp.Get(time) if inp else None
        return default if got is None else got

    texture = _diffuse_texture(shader, time) if shader else None
    albedo = texture.mean(axis=(0, 1)) if texture is not None else value("diffuseColor", (0.18, 0.18, 0.18))
    return Material(
        name=material.GetPrim().GetName(),
        albedo=tuple(float(c) for c in albedo),
        roughness=float(value("roughness", 0.5)),
        emissive=tuple(float(c) for c in value("emissiveColor", (0.0, 0.0, 0.0))),
        pattern=tag(material.GetPrim(), "pattern") or "plain",
        texture=texture,
    )


def tag(prim: Usd.Prim, name: str) -> str | None:
    """A ``backrooms:<name>`` string on the prim or its nearest ancestor that has one."""
    while prim:
        attr = prim.GetAttribute(f"backrooms:{name}")
        if attr and attr.HasValue():
            return str(attr.Get())
        prim = prim.GetParent()
    return None


def _vertex_normals(points: np.ndarray, tris: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals from the winding."""
    face = np.cross(points[tris[:, 1]] - points[tris[:, 0]], points[tris[:, 2]] - points[tris[:, 0]])
    normals = np.zeros_like(points)
    for k in range(3):
        np.add.at(normals, tris[:, k], face)
    return normals


def _diffuse_texture(shader: UsdShade.Shader, time: Usd.TimeCode) -> np.ndarray | None:
    """The image behind ``diffuseColor`` when it is connected to a UsdUVTexture, as linear RGB."""
    inp = shader.GetInput("diffuseColor")
    sources = inp.GetConnectedSources()[0] if inp else []
    if not sources:
        return None
    source = UsdShade.Shader(sources[0].source.GetPrim())
    file_input = source.GetInput("file")
    asset = file_input.Get(time) if file_input else None
    path = asset.resolvedPath if asset is not None else ""
    if not path:
        raise ValueError(f"{source.GetPath()}: texture {asset} cannot be found")
    with Image.open(path) as image:
        rgb = np.asarray(
            image.convert("RGB").resize((TEXTURE_SIZE, TEXTURE_SIZE), Image.BILINEAR), np.float32
        )
    rgb /= 255.0
    space = source.GetInput("sourceColorSpace")
    if not (space and space.Get(time) == "raw"):  # sRGB unless the file says it holds data
        rgb = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return rgb.astype(np.float32)
