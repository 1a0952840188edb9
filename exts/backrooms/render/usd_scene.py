"""Read a USD stage of instanced meshes into a :class:`SceneView` the renderer can upload.

What is understood: ``UsdGeom.Mesh`` prims (polygons fan-triangulated, vertex normals or computed
ones, material bindings incl. ``materialBind`` GeomSubsets), instanceable prims (one library mesh
per prototype, merged from all its visible meshes), ``UsdGeom.PointInstancer`` (one library mesh per
prototype target), ``UsdLux.RectLight`` panels (also inside instance prototypes), and
``UsdPreviewSurface`` diffuseColor (a constant, or a ``UsdUVTexture`` image read through the ``st``
primvar, vertex or faceVarying) / roughness / emissiveColor plus the ``backrooms:pattern``
attribute on the material prim. Nested instancing inside prototypes is not expanded.
"""

from __future__ import annotations

import zlib

import numpy as np
from pxr import Usd, UsdGeom, UsdLux, UsdShade

from backrooms.world.types import Camera, InstanceSet, LightSet, Material, Mesh, PrototypeLibrary, SceneView
from backrooms.world.usd_read import read_material, read_mesh, tag

HEALTHY_PANEL = 12.0  # UsdLux intensity of a healthy ceiling panel as backrooms.world authors it
DEFAULT_MATERIAL = Material("default", (0.18, 0.18, 0.18))


def view_from_stage(stage: Usd.Stage, time: Usd.TimeCode | None = None) -> SceneView:
    """All visible geometry and rect lights of ``stage`` at ``time`` (default time if None)."""
    return _StageReader(stage, Usd.TimeCode.Default() if time is None else time).read()


def camera_from_stage(stage: Usd.Stage, time: float, path: str | None = None) -> Camera:
    """The stage's camera (``path``, or the first ``UsdGeom.Camera``) at a time code."""
    prim = stage.GetPrimAtPath(path) if path else None
    if prim is None:
        prim = next((p for p in stage.Traverse() if p.IsA(UsdGeom.Camera)), None)
    if not prim or not prim.IsA(UsdGeom.Camera):
        raise ValueError(
            f"stage {stage.GetRootLayer().identifier} has no camera{f' at {path}' if path else ''}"
        )
    code = Usd.TimeCode(time)
    gf = UsdGeom.Camera(prim).GetCamera(code)
    to_world = _column_major(UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(code))
    axes = to_world[:3, :3] / np.linalg.norm(to_world[:3, :3], axis=0)
    fov = 2.0 * np.degrees(np.arctan(gf.verticalAperture / (2.0 * gf.focalLength)))
    return Camera(
        position=to_world[:3, 3].astype(np.float32), rotation=axes.astype(np.float32), fov_y=float(fov)
    )


def _column_major(m: object) -> np.ndarray:
    """Gf matrices act on row vectors; the world contract uses column vectors."""
    return np.array(m, np.float64).T


class _StageReader:
    def __init__(self, stage: Usd.Stage, time: Usd.TimeCode) -> None:
        self.stage = stage
        self.time = time
        self.xforms = UsdGeom.XformCache(time)
        self.meshes: list[Mesh] = []
        self.mesh_index: dict[str, int] = {}
        self.materials: list[Material] = [DEFAULT_MATERIAL]
        self.material_index: dict[str, int] = {}
        self.inst_mesh: list[int] = []
        self.inst_transform: list[np.ndarray] = []
        self.inst_key: list[int] = []
        self.lights: list[tuple[np.ndarray, np.ndarray, float, int, int]] = []

    def read(self) -> SceneView:
        prims = iter(Usd.PrimRange.Stage(self.stage, Usd.TraverseInstanceProxies()))
        for prim in prims:
            if not prim.IsActive() or self._invisible(prim):
                prims.PruneChildren()
            elif prim.IsA(UsdGeom.PointInstancer):
                self._point_instancer(UsdGeom.PointInstancer(prim))
                prims.PruneChildren()
            elif prim.IsInstance():
                mesh = self._library_mesh(str(prim.GetPrototype().GetPath()), prim.GetPrototype())
                self._place(mesh, self.xforms.GetLocalToWorldTransform(prim), str(prim.GetPath()))
            elif prim.IsA(UsdGeom.Mesh) and not prim.IsInstanceProxy():
                mesh = self._library_mesh(str(prim.GetPath()), prim, single=True)
                self._place(mesh, self.xforms.GetLocalToWorldTransform(prim), str(prim.GetPath()))
            elif prim.IsA(UsdLux.RectLight):
                self._light(UsdLux.RectLight(prim))
        return self._view()

    def _invisible(self, prim: Usd.Prim) -> bool:
        img = UsdGeom.Imageable(prim)
        return bool(img) and img.GetVisibilityAttr().Get(self.time) == UsdGeom.Tokens.invisible

    def _place(self, mesh: int, to_world: object, path: str) -> None:
        if mesh < 0:
            return
        self.inst_mesh.append(mesh)
        self.inst_transform.append(_column_major(to_world))
        self.inst_key.append(zlib.crc32(path.encode()))

    def _point_instancer(self, instancer: UsdGeom.PointInstancer) -> None:
        targets = instancer.GetPrototypesRel().GetTargets()
        meshes = [self._library_mesh(str(t), self.stage.GetPrimAtPath(t)) for t in targets]
        indices = np.asarray(instancer.GetProtoIndicesAttr().Get(self.time) or [], np.int64)
        local = instancer.ComputeInstanceTransformsAtTime(self.time, self.time)
        to_world = _column_major(self.xforms.GetLocalToWorldTransform(instancer.GetPrim()))
        base = str(instancer.GetPath())
        for k, (proto, m) in enumerate(zip(indices, local, strict=True)):
            if meshes[proto] >= 0:
                self.inst_mesh.append(meshes[proto])
                self.inst_transform.append(to_world @ _column_major(m))
                self.inst_key.append(zlib.crc32(f"{base}[{k}]".encode()))

    def _library_mesh(self, key: str, root: Usd.Prim, single: bool = False) -> int:
        """Index of the library mesh merging every visible Mesh under ``root`` (in ``root``'s space)."""
        if key in self.mesh_index:
            return self.mesh_index[key]
        parts = []
        prims = iter(Usd.PrimRange(root))
        for prim in prims:
            if self._invisible(prim) or (single and prim != root):
                prims.PruneChildren()
            elif prim.IsA(UsdGeom.Mesh):
                to_root = (
                    np.eye(4)
                    if single
                    else _column_major(self.xforms.ComputeRelativeTransform(prim, root)[0])
                )
                part = self._mesh_part(UsdGeom.Mesh(prim), to_root)
                if part is not None:
                    parts.append(part)
        index = -1
        if parts:
            offsets = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
            self.meshes.append(
                Mesh(
                    name=key,
                    points=np.concatenate([p[0] for p in parts]).astype(np.float32),
                    triangles=np.concatenate([p[1] + o for p, o in zip(parts, offsets, strict=True)]).astype(
                        np.int32
                    ),
                    normals=np.concatenate([p[2] for p in parts]).astype(np.float32),
                    uvs=np.concatenate([p[3] for p in parts]).astype(np.float32),
                    tri_material=np.concatenate([p[4] for p in parts]).astype(np.int32),
                )
            )
            index = len(self.meshes) - 1
        self.mesh_index[key] = index
        return index

    def _mesh_part(self, mesh: UsdGeom.Mesh, to_root: np.ndarray) -> tuple | None:
        part = read_mesh(mesh, to_root, self.time)
        if part is None:
            return None
        face_material = self._face_materials(mesh, len(mesh.GetFaceVertexCountsAttr().Get(self.time)))
        return part.points, part.triangles, part.normals, part.uvs, face_material[part.face_of]

    def _face_materials(self, mesh: UsdGeom.Mesh, faces: int) -> np.ndarray:
        binding = UsdShade.MaterialBindingAPI(mesh.GetPrim())
        out = np.full(faces, self._material(binding.ComputeBoundMaterial()[0]), np.int32)
        for subset in binding.GetMaterialBindSubsets():
            bound = UsdShade.MaterialBindingAPI(subset.GetPrim()).ComputeBoundMaterial()[0]
            out[np.asarray(subset.GetIndicesAttr().Get(self.time) or [], np.int64)] = self._material(bound)
        return out

    def _material(self, material: UsdShade.Material) -> int:
        if not material:
            return 0
        key = str(material.GetPath())
        if key not in self.material_index:
            self.material_index[key] = len(self.materials)
            self.materials.append(read_material(material, self.time))
        return self.material_index[key]

    def _light(self, light: UsdLux.RectLight) -> None:
        to_world = _column_major(self.xforms.GetLocalToWorldTransform(light.GetPrim()))
        width = float(light.GetWidthAttr().Get(self.time) or 1.0)
        height = float(light.GetHeightAttr().Get(self.time) or 1.0)
        axes = np.abs(to_world[:3, :2] * np.array([width / 2, height / 2]))  # world extents of local x and y
        half = np.array([axes[0].sum(), axes[2].sum()])
        power = float(light.GetIntensityAttr().Get(self.time) or 0.0)
        power *= 2.0 ** float(light.GetExposureAttr().Get(self.time) or 0.0)
        state = 2 if power <= 0.0 else 1 if tag(light.GetPrim(), "lightState") == "flickering" else 0
        key = zlib.crc32(str(light.GetPath()).encode())
        self.lights.append((to_world[:3, 3], half, power / HEALTHY_PANEL, state, key))

    def _view(self) -> SceneView:
        if not self.meshes:
            raise ValueError(f"stage {self.stage.GetRootLayer().identifier} has no visible meshes")
        n = len(self.inst_mesh)
        light_cols = list(zip(*self.lights, strict=True)) if self.lights else [[]] * 5
        return SceneView(
            library=PrototypeLibrary(self.meshes, self.materials),
            instances=InstanceSet(
                mesh=np.array(self.inst_mesh, np.int32),
                transform=np.array(self.inst_transform, np.float32).reshape(n, 4, 4),
                look=np.zeros((n, 4), np.int32),
                key=np.array(self.inst_key, np.uint32),
            ),
            lights=LightSet(
                position=np.array(light_cols[0], np.float32).reshape(-1, 3),
                half_size=np.array(light_cols[1], np.float32).reshape(-1, 2),
                intensity=np.array(light_cols[2], np.float32),
                state=np.array(light_cols[3], np.int32),
                key=np.array(light_cols[4], np.uint32),
            ),
            meta=self._meta(),
        )

    def _meta(self) -> dict:
        """The module pitch a backrooms stage declares on its default prim, for the ray grid."""
        prim = self.stage.GetDefaultPrim()
        info = prim.GetCustomDataByKey("backrooms") if prim else None
        cell = info.get("cellSize") if isinstance(info, dict) else None
        return {"cell_size": float(cell)} if isinstance(cell, int | float) and cell > 0 else {}
