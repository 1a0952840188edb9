"""Export a region of the world as a USD stage that opens in any USD tool and in Omniverse.

Layout of what is written for ``--out NAME.usda`` (or ``.usdc``):

    NAME.usda                      /World: one payload per chunk under /World/Chunks, the animated
                                   /World/Camera, run metadata in customData
    NAME_assets/prototypes/*.usda  the prototype library (copied, so the folder travels as a unit)
    NAME_assets/chunks/c_X_Z.usd?  one layer per chunk: an instanceable reference per cell, with its
                                   quarter turn and its authored variant selections

Chunk layers are authored through Sdf inside one ``Sdf.ChangeBlock`` each (no Usd recomposition per
prim), which is what keeps a 10,000-cell stage to a fraction of a second.
"""

from __future__ import annotations

import errno
import math
import os
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from pxr import Gf, Sdf, Usd, UsdGeom, Vt
from tqdm import tqdm

from backrooms.errors import NO_ROOM, UserError
from backrooms.io.atomic import atomic_path
from backrooms.io.usd import usd_reason
from backrooms.world.layout import VARIANTS, CellBlock
from backrooms.world.library import WorldLibrary
from backrooms.world.placement import PlacementTable
from backrooms.world.types import Camera
from backrooms.world.world import World

CHUNKS_PATH = Sdf.Path("/World/Chunks")
CAMERA_PATH = Sdf.Path("/World/Camera")
PROGRESS_CHUNKS = 64  # a bar for stages of this many chunks or more (about a second and up)
HORIZONTAL_APERTURE = 36.0  # mm, a full-frame back; the vertical aperture follows the aspect
ASPECT = 16 / 9


@dataclass(frozen=True)
class Region:
    """Cells [x0, x1) x [z0, z1)."""

    x0: int
    z0: int
    x1: int
    z1: int

    @classmethod
    def parse(cls, text: str) -> Region:
        parts = text.split(",")
        try:
            x0, z0, x1, z1 = (int(p) for p in parts)
        except ValueError:
            raise UserError(f"--region {text!r}: expected four whole numbers x0,z0,x1,z1") from None
        if x1 <= x0 or z1 <= z0:
            raise UserError(f"--region {text!r}: needs x1 > x0 and z1 > z0")
        return cls(x0, z0, x1, z1)

    @property
    def cells(self) -> int:
        return (self.x1 - self.x0) * (self.z1 - self.z0)

    def contains(self, position: np.ndarray, cell_size: float) -> bool:
        x, z = np.floor(np.asarray(position)[[0, 2]] / cell_size)
        return self.x0 <= x < self.x1 and self.z0 <= z < self.z1

    def chunks(self, n: int) -> list[tuple[int, int]]:
        return [
            (cx, cz)
            for cz in range(self.z0 // n, -(-self.z1 // n))
            for cx in range(self.x0 // n, -(-self.x1 // n))
        ]


def chunk_prim_name(cx: int, cz: int) -> str:
    return f"c_{cx}_{cz}".replace("-", "m")


def _set_attr(
    prim: Sdf.PrimSpec, name: str, type_name: Sdf.ValueTypeName, value: object, uniform=False
) -> None:
    variability = Sdf.VariabilityUniform if uniform else Sdf.VariabilityVarying
    Sdf.AttributeSpec(prim, name, type_name, variability).default = value


def author_chunk(
    layer: Sdf.Layer, cells: CellBlock, lib: WorldLibrary, table: PlacementTable, proto_dir: str
) -> int:
    """Author one chunk's cells into ``layer`` (Sdf only); returns the number of instances."""
    placement = table.place(cells)
    zz, xx = np.nonzero(placement.prototype >= 0)
    cell = lib.library.cell_size
    names = {f"v{set_name}": options for set_name, options in VARIANTS.items()}
    with Sdf.ChangeBlock():
        root = Sdf.CreatePrimInLayer(layer, "/chunk")
        root.specifier = Sdf.SpecifierDef
        root.typeName = "Xform"
        layer.defaultPrim = "chunk"
        for r, c in zip(zz.tolist(), xx.tolist(), strict=True):
            proto = lib.prototypes[placement.prototype[r, c]]
            x, z = c + cells.x0, r + cells.z0
            spec = Sdf.PrimSpec(root, f"cell_{x}_{z}".replace("-", "m"), Sdf.SpecifierDef, "Xform")
            spec.instanceable = True
            spec.referenceList.Prepend(Sdf.Reference(f"{proto_dir}/{Path(proto.file).name}"))
            spec.variantSelections.update(
                {
                    set_name: names[f"v{set_name}"][int(getattr(cells, set_name)[r, c])]
                    for set_name in VARIANTS
                }
            )
            _set_attr(
                spec,
                "xformOp:translate",
                Sdf.ValueTypeNames.Double3,
                Gf.Vec3d((x + 0.5) * cell, 0.0, (z + 0.5) * cell),
            )
            _set_attr(spec, "xformOp:rotateY", Sdf.ValueTypeNames.Float, 90.0 * int(placement.turns[r, c]))
            _set_attr(
                spec,
                "xformOpOrder",
                Sdf.ValueTypeNames.TokenArray,
                Vt.TokenArray(["xformOp:translate", "xformOp:rotateY"]),
                uniform=True,
            )
    return len(zz)


def camera_matrix(camera: Camera) -> Gf.Matrix4d:
    """USD's row-vector local-to-world matrix of a camera (rows: right, up, back, position)."""
    m = np.eye(4)
    m[:3, :3] = np.asarray(camera.rotation, np.float64).T
    m[3, :3] = camera.position
    return Gf.Matrix4d(m.tolist())


def author_camera(stage: Usd.Stage, world: World, frames: int, fps: float) -> None:
    """The autopilot's path as an animated ``UsdGeom.Camera`` (one transform sample per frame)."""
    cam = UsdGeom.Camera.Define(stage, CAMERA_PATH)
    fov = world.camera_spec.fov
    vertical = HORIZONTAL_APERTURE / ASPECT
    cam.CreateHorizontalApertureAttr(HORIZONTAL_APERTURE)
    cam.CreateVerticalApertureAttr(vertical)
    cam.CreateFocalLengthAttr(vertical / (2 * math.tan(math.radians(fov) / 2)))
    cam.CreateClippingRangeAttr(Gf.Vec2f(0.05, 500.0))
    attr_path = cam.AddTransformOp().GetAttr().GetPath()
    samples = [camera_matrix(world.camera(f, fps)) for f in range(frames)]
    layer = stage.GetEditTarget().GetLayer()
    with Sdf.ChangeBlock():  # Sdf only while the block is open
        for f, matrix in enumerate(samples):
            layer.SetTimeSample(attr_path, f, matrix)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(max(frames - 1, 0))
    stage.SetTimeCodesPerSecond(fps)
    stage.SetFramesPerSecond(fps)


@dataclass
class StageReport:
    path: Path
    chunks: int
    instances: int
    cells: int
    camera_leaves_at: int | None = None  # first camera frame outside the region, if any


def write_stage(
    world: World, region: Region, out: Path, frames: int = 0, fps: float = 24.0, progress: bool = False
) -> StageReport:
    """Write the stage for ``region`` to ``out`` (.usda or .usdc) plus its asset folder.

    All of it is written under temporary names and swapped in at the end, so a failure (a full
    disk) leaves the stage that was there, whole, and a rewrite leaves no chunk of an older region.
    """
    suffix = out.suffix.lower()
    if suffix not in (".usda", ".usdc", ".usd"):
        raise UserError(f"--out {out}: expected a .usda or .usdc file name")
    if region.cells > 4_000_000:
        raise UserError(f"--region: {region.cells} cells is more than the 4,000,000 a stage file may hold")
    out.parent.mkdir(parents=True, exist_ok=True)
    assets = out.with_name(out.stem + "_assets")
    building = out.with_name(f".{assets.name}.tmp{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    try:
        with atomic_path(out) as stage_file:
            report = _author(world, region, stage_file, building, assets.name, frames, fps, progress)
            _swap_in(building, assets)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return replace(report, path=out)


def _author(
    world: World,
    region: Region,
    out: Path,
    assets: Path,
    assets_name: str,
    frames: int,
    fps: float,
    progress: bool,
) -> StageReport:
    """Write the stage layer to ``out`` and its assets into the folder ``assets``; the stage
    refers to them as ``./<assets_name>``, where they will be."""
    suffix = out.suffix.lower()
    proto_dir, chunk_dir = assets / "prototypes", assets / "chunks"
    proto_dir.mkdir(parents=True)
    for source in sorted((world.library.root / "prototypes").glob("*.usd?")):
        shutil.copy2(source, proto_dir)  # one at a time: a failure is the OSError that says why
    chunk_dir.mkdir()

    n = world.spec.chunk_size
    chunks = region.chunks(n)
    instances = 0
    chunk_files = []
    shown = progress and len(chunks) >= PROGRESS_CHUNKS
    for cx, cz in tqdm(chunks, desc="stage", unit="chunk", disable=not shown, leave=False):
        cells = world.cells(cx, cz)
        x0, z0 = max(region.x0, cells.x0), max(region.z0, cells.z0)
        x1, z1 = min(region.x1, cells.x0 + n), min(region.z1, cells.z0 + n)
        path = chunk_dir / f"{chunk_prim_name(cx, cz)}{suffix}"
        layer = Sdf.Layer.CreateNew(str(path))
        instances += author_chunk(
            layer, cells.crop(x0, z0, x1, z1), world.library, world.table, "../prototypes"
        )
        _save(layer)
        chunk_files.append(path)

    layer = Sdf.Layer.CreateNew(str(out))
    stage = Usd.Stage.Open(layer, Usd.Stage.LoadNone)
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    with Sdf.ChangeBlock():
        world_spec = Sdf.CreatePrimInLayer(layer, "/World")
        world_spec.specifier = Sdf.SpecifierDef
        world_spec.typeName = "Xform"
        world_spec.customData = {
            "backrooms": {
                "seed": world.spec.seed,
                "region": Vt.IntArray([region.x0, region.z0, region.x1, region.z1]),
                "chunkSize": n,
                "cellSize": world.library.library.cell_size,
            }
        }
        layer.defaultPrim = "World"
        chunks_spec = Sdf.CreatePrimInLayer(layer, CHUNKS_PATH)
        chunks_spec.specifier = Sdf.SpecifierDef
        chunks_spec.typeName = "Scope"
        for (cx, cz), path in zip(chunks, chunk_files, strict=True):
            spec = Sdf.PrimSpec(chunks_spec, chunk_prim_name(cx, cz), Sdf.SpecifierDef, "Xform")
            spec.payloadList.Prepend(Sdf.Payload(f"./{assets_name}/chunks/{path.name}"))
    leaves = None
    if frames > 0:
        author_camera(stage, world, frames, fps)
        cell = world.library.library.cell_size
        outside = (f for f in range(frames) if not region.contains(world.camera(f, fps).position, cell))
        leaves = next(outside, None)
    _save(layer)
    return StageReport(out, len(chunks), instances, region.cells, leaves)


def _save(layer: Sdf.Layer) -> None:
    """Save, or raise an OSError: Sdf reports a failed write (a full disk) as a Tf error."""
    try:
        saved = layer.Save()
    except Exception as exc:  # pxr.Tf.ErrorException, one error per buffer it could not write
        code = next((c for c in sorted(NO_ROOM) if os.strerror(c) in str(exc)), errno.EIO)
        raise OSError(code, os.strerror(code) if code in NO_ROOM else usd_reason(exc)) from None
    if not saved:
        raise OSError(errno.EIO, f"{layer.realPath}: not saved")


def _swap_in(built: Path, assets: Path) -> None:
    """Put the folder ``built`` where ``assets`` is (renames: no copy, no room needed)."""
    old = assets.with_name(f".{assets.name}.old{os.getpid()}")
    if assets.exists():
        assets.rename(old)
    built.rename(assets)
    shutil.rmtree(old, ignore_errors=True)
