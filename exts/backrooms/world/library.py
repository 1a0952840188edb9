"""Load the prototype library from usd/: meshes, materials, portals and light slots, read from USD.

This is the only reader of the prototype files, and it trusts nothing: a prototype without portal
metadata or with broken geometry fails with one line naming the file and the prim.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pxr import Usd, UsdGeom, UsdShade

from backrooms.errors import UserError
from backrooms.world.layout import EAST, NORTH, SOUTH, WEST, rotate_mask
from backrooms.world.types import Material, Mesh, PrototypeLibrary
from backrooms.world.usd_read import read_material, read_mesh

USD_DIR = Path(__file__).resolve().parents[3] / "usd"
SIDES = {"east": EAST, "north": NORTH, "west": WEST, "south": SOUTH}
FAMILIES = ("corridor", "room", "pillar_hall", "doorway", "landmark")


@dataclass(frozen=True)
class Prototype:
    """What the generator needs to place one prototype."""

    name: str
    file: str
    family: str
    portals: int  # portal bits in the prototype's own frame
    mesh: int  # index into PrototypeLibrary.meshes
    loose: int  # mesh of the tiles the ceiling variants drop or remove, -1 if none
    light_slots: np.ndarray  # (L, 3) float32 panel centres in the prototype frame


@dataclass
class WorldLibrary:
    """The renderer's PrototypeLibrary plus the generator's view of each prototype."""

    library: PrototypeLibrary
    prototypes: list[Prototype]
    panel: int  # mesh index of the light panel fixture
    panel_half: tuple[float, float]  # panel half extents along the fixture's X and Z
    panel_depth: float  # how far the glowing underside hangs below the ceiling plane
    root: Path

    def placements(self, family: str, mask: int) -> list[tuple[int, int]]:
        """(prototype index, quarter turns) pairs of ``family`` whose turned portals equal ``mask``."""
        return [
            (i, k)
            for i, p in enumerate(self.prototypes)
            if p.family == family
            for k in range(4)
            if rotate_mask(p.portals, k) == mask
        ]


class _MeshAccumulator:
    """Merges USD meshes into one triangle mesh with per-triangle material indices."""

    def __init__(self, materials: dict[str, int], material_list: list[Material]) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.materials = materials
        self.material_list = material_list

    def add(self, file: str, prim: Usd.Prim, to_root: np.ndarray) -> None:
        where = f"{file}: {prim.GetPath()}"
        part = read_mesh(UsdGeom.Mesh(prim), to_root, Usd.TimeCode.Default(), strict=where)
        material, _ = UsdShade.MaterialBindingAPI(prim).ComputeBoundMaterial()
        if not material:
            raise UserError(f"{where}: no bound material")
        mat = self.materials.setdefault(self._material_key(material), len(self.material_list))
        if mat == len(self.material_list):
            self.material_list.append(read_material(material, Usd.TimeCode.Default()))
        tri_material = np.full(len(part.triangles), mat, np.int32)
        self.parts.append((part.points, part.triangles, part.normals, part.uvs, tri_material))

    @staticmethod
    def _material_key(material: UsdShade.Material) -> str:
        return material.GetPrim().GetName()

    def build(self, name: str) -> Mesh:
        offsets = np.cumsum([0] + [len(p[0]) for p in self.parts])
        return Mesh(
            name=name,
            points=np.concatenate([p[0] for p in self.parts]).astype(np.float32),
            triangles=np.concatenate(
                [p[1] + o for p, o in zip(self.parts, offsets[:-1], strict=True)]
            ).astype(np.int32),
            normals=np.concatenate([p[2] for p in self.parts]).astype(np.float32),
            uvs=np.concatenate([p[3] for p in self.parts]).astype(np.float32),
            tri_material=np.concatenate([p[4] for p in self.parts]),
        )


def _open(path: Path, root_dir: Path) -> tuple[str, Usd.Stage, Usd.Prim]:
    file = str(path.relative_to(root_dir)) if path.is_relative_to(root_dir) else str(path)
    if not path.is_file():
        raise UserError(f"{file}: prototype file not found")
    try:
        stage = Usd.Stage.Open(str(path))
    except Exception as exc:  # pxr raises Tf.ErrorException with a multi-line message
        raise UserError(f"{file}: not a readable USD layer ({str(exc).splitlines()[-1].strip()})") from None
    root = stage.GetDefaultPrim()
    if not root:
        raise UserError(f"{file}: no defaultPrim")
    return file, stage, root


def _local(prim: Usd.Prim, root: Usd.Prim, cache: UsdGeom.XformCache) -> np.ndarray:
    """Transform from ``prim`` to ``root`` as a column-vector 4x4 matrix."""
    rel, _ = cache.ComputeRelativeTransform(prim, root)
    return np.asarray(rel, np.float64).T


def _load_prototype(
    path: Path, root_dir: Path, acc: _MeshAccumulator
) -> tuple[str, str, int, np.ndarray, _MeshAccumulator]:
    """Read one prototype into ``acc``; returns its name, family, portal bits, light slots and the
    accumulated loose ceiling tiles."""
    file, _stage, root = _open(path, root_dir)  # the stage must outlive the traversal
    data = root.GetCustomDataByKey("backrooms") or {}
    portals_text = data.get("portals")
    if not isinstance(portals_text, str) or not portals_text.strip():
        raise UserError(f"{file}: {root.GetPath()}: missing portal metadata (customData backrooms.portals)")
    unknown = [s for s in portals_text.split() if s not in SIDES]
    if unknown:
        raise UserError(
            f"{file}: {root.GetPath()}: unknown portal side {unknown[0]!r} (east/north/west/south)"
        )
    family = data.get("family")
    if family not in FAMILIES:
        raise UserError(
            f"{file}: {root.GetPath()}: customData backrooms.family must be one of {', '.join(FAMILIES)}"
        )
    cache = UsdGeom.XformCache()
    slots = []
    loose = _MeshAccumulator(acc.materials, acc.material_list)
    it = iter(Usd.PrimRange(root))
    for prim in it:
        if prim.GetName() == "Lights" and prim.GetParent() == root:
            slots = [_local(p, root, cache)[:3, 3] for p in prim.GetChildren() if p.IsActive()]
            it.PruneChildren()
        elif prim.IsA(UsdGeom.Mesh):
            is_loose = "loose_tiles" in prim.GetPath().pathString
            (loose if is_loose else acc).add(file, prim, _local(prim, root, cache))
    if not acc.parts:
        raise UserError(f"{file}: {root.GetPath()}: prototype has no meshes")
    portals = sum(SIDES[s] for s in set(portals_text.split()))
    return root.GetName(), family, portals, np.asarray(slots, np.float32).reshape(-1, 3), loose


def load_library(root_dir: Path = USD_DIR) -> WorldLibrary:
    """Read ``library.json`` and every prototype it lists."""
    manifest_path = root_dir / "library.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        files, panel_file, cell_size = manifest["prototypes"], manifest["panel"], float(manifest["cell_size"])
    except FileNotFoundError:
        raise UserError(f"{manifest_path}: prototype library manifest not found") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{manifest_path}: bad manifest ({exc})") from None
    materials: dict[str, int] = {}
    material_list: list[Material] = []
    meshes: list[Mesh] = []
    prototypes: list[Prototype] = []

    panel_acc = _MeshAccumulator(materials, material_list)
    file, _stage, root = _open(root_dir / panel_file, root_dir)
    cache = UsdGeom.XformCache()
    for prim in Usd.PrimRange(root):
        if prim.IsA(UsdGeom.Mesh):
            panel_acc.add(file, prim, _local(prim, root, cache))
    if not panel_acc.parts:
        raise UserError(f"{file}: {root.GetPath()}: light panel has no meshes")
    meshes.append(panel_acc.build("light_panel"))
    lo, hi = meshes[0].points.min(0), meshes[0].points.max(0)
    panel_half = (float(hi[0] - lo[0]) / 2, float(hi[2] - lo[2]) / 2)
    panel_depth = float(-lo[1])

    for rel in files:
        acc = _MeshAccumulator(materials, material_list)
        name, family, portals, slots, loose = _load_prototype(root_dir / rel, root_dir, acc)
        meshes.append(acc.build(name))
        mesh_index = len(meshes) - 1
        loose_index = -1
        if loose.parts:
            meshes.append(loose.build(f"{name}/loose_tiles"))
            loose_index = len(meshes) - 1
        prototypes.append(Prototype(name, rel, family, portals, mesh_index, loose_index, slots))
    library = PrototypeLibrary(meshes=meshes, materials=material_list, cell_size=cell_size)
    return WorldLibrary(
        library, prototypes, panel=0, panel_half=panel_half, panel_depth=panel_depth, root=root_dir
    )


@lru_cache(maxsize=4)
def shared_library(root_dir: Path = USD_DIR) -> WorldLibrary:
    """The library loaded once per process (the renderer uploads it once and keeps it)."""
    return load_library(root_dir)
