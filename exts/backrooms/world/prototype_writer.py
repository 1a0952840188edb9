"""Author the prototype library as USD files: one instanceable-ready component per prototype.

Each file holds real ``UsdGeom.Mesh`` geometry (normals, ``primvars:st`` UVs in metres), its
``UsdPreviewSurface`` materials under ``Looks``, light panels as references to ``light_panel.usda``
(each carrying a ``UsdLux.RectLight``), portal metadata in ``customData["backrooms"]`` and the
variant sets ``wallpaper``, ``carpet``, ``ceiling`` and ``lights``. Run
``python -m backrooms.world.prototype_writer usd/`` to rewrite the committed files.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
from pxr import Gf, Kind, Sdf, Usd, UsdGeom, UsdLux, UsdShade, Vt

from backrooms.world.designs import (
    CELL,
    HEIGHT,
    MATERIALS,
    PANEL_DEPTH,
    PANEL_HALF,
    SIDE_NAMES,
    Design,
    all_designs,
    panel_soup,
)
from backrooms.world.geometry import QuadSoup, quad_arrays
from backrooms.world.layout import VARIANTS

PANEL_FILE = "light_panel.usda"
MANIFEST = "library.json"
PROTOTYPE_DIR = "prototypes"


def portal_text(portals: int) -> str:
    return " ".join(name for bit, name in SIDE_NAMES.items() if portals & bit)


def _new_stage(path: Path, name: str) -> tuple[Usd.Stage, Usd.Prim]:
    stage = Usd.Stage.CreateNew(str(path))
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    root = UsdGeom.Xform.Define(stage, f"/{name}").GetPrim()
    stage.SetDefaultPrim(root)
    Usd.ModelAPI(root).SetKind(Kind.Tokens.component)
    return stage, root


def _materials(stage: Usd.Stage, root: Sdf.Path, names: set[str]) -> dict[str, UsdShade.Material]:
    UsdGeom.Scope.Define(stage, root.AppendChild("Looks"))
    out = {}
    for name in sorted(names):
        spec = MATERIALS[name]
        material = UsdShade.Material.Define(stage, root.AppendPath(f"Looks/{name}"))
        shader = UsdShade.Shader.Define(stage, material.GetPath().AppendChild("Surface"))
        shader.CreateIdAttr("UsdPreviewSurface")
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*spec.albedo))
        shader.CreateInput("roughness", Sdf.ValueTypeNames.Float).Set(spec.roughness)
        shader.CreateInput("emissiveColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(*spec.emissive))
        material.CreateSurfaceOutput().ConnectToSource(shader.ConnectableAPI(), "surface")
        material.GetPrim().CreateAttribute("backrooms:pattern", Sdf.ValueTypeNames.String, custom=True).Set(
            spec.pattern
        )
        out[name] = material
    return out


def _meshes(stage: Usd.Stage, parent: Sdf.Path, soup: QuadSoup, looks: dict[str, UsdShade.Material]) -> None:
    for name in sorted(soup.quads):
        points, normals, uvs = quad_arrays(soup.quads[name])
        quads = len(points) // 4
        mesh = UsdGeom.Mesh.Define(stage, parent.AppendChild(name))
        mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(points))
        mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(quads, 4, np.int32)))
        mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.arange(len(points), dtype=np.int32)))
        mesh.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(normals))
        mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
        mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
        mesh.CreateExtentAttr(Vt.Vec3fArray.FromNumpy(np.stack([points.min(0), points.max(0)])))
        st = UsdGeom.PrimvarsAPI(mesh).CreatePrimvar(
            "st", Sdf.ValueTypeNames.TexCoord2fArray, UsdGeom.Tokens.vertex
        )
        st.Set(Vt.Vec2fArray.FromNumpy(uvs))
        UsdShade.MaterialBindingAPI.Apply(mesh.GetPrim()).Bind(looks[name])


def write_panel(path: Path) -> None:
    """The light panel fixture: glowing diffuser mesh plus a downward RectLight."""
    stage, root = _new_stage(path, "light_panel")
    root.SetCustomDataByKey("backrooms", {"family": "fixture"})
    soup = panel_soup()
    looks = _materials(stage, root.GetPath(), set(soup.quads))
    UsdGeom.Xform.Define(stage, root.GetPath().AppendChild("Geometry"))
    _meshes(stage, root.GetPath().AppendChild("Geometry"), soup, looks)
    light = UsdLux.RectLight.Define(stage, root.GetPath().AppendChild("Light"))
    light.CreateWidthAttr(2 * PANEL_HALF[0])
    light.CreateHeightAttr(2 * PANEL_HALF[1])
    light.CreateIntensityAttr(12.0)
    light.CreateColorAttr(Gf.Vec3f(1.0, 0.97, 0.86))
    xf = UsdGeom.Xformable(light)
    xf.AddTranslateOp().Set(Gf.Vec3d(0, -PANEL_DEPTH - 1e-3, 0))
    xf.AddRotateXOp().Set(-90.0)  # a RectLight emits along its -Z: point it at the floor
    stage.GetRootLayer().Save()


def _variants(stage: Usd.Stage, root: Usd.Prim, design: Design) -> None:
    path = root.GetPath()
    sets = root.GetVariantSets()
    looks = path.AppendChild("Looks")

    def shade(material: str, **inputs: object) -> None:
        shader = UsdShade.Shader(stage.OverridePrim(looks.AppendPath(f"{material}/Surface")))
        for key, value in inputs.items():
            kind = Sdf.ValueTypeNames.Float if isinstance(value, float) else Sdf.ValueTypeNames.Color3f
            shader.CreateInput(key, kind).Set(value)

    def tag(prim_path: Sdf.Path, name: str, value: str) -> None:
        stage.OverridePrim(prim_path).CreateAttribute(
            f"backrooms:{name}", Sdf.ValueTypeNames.String, custom=True
        ).Set(value)

    base = {k: Gf.Vec3f(*MATERIALS[k].albedo) for k in ("wallpaper", "carpet")}
    edits = {
        "wallpaper": {
            "pattern": lambda: None,
            "stains": lambda: shade("wallpaper", diffuseColor=base["wallpaper"] * 0.82),
            "peeling": lambda: shade("wallpaper", diffuseColor=base["wallpaper"] * 0.9, roughness=0.95),
        },
        "carpet": {
            "clean": lambda: None,
            "damp": lambda: shade("carpet", diffuseColor=base["carpet"] * 0.7, roughness=0.55),
            "stained": lambda: shade("carpet", diffuseColor=base["carpet"] * 0.85),
        },
        "ceiling": {
            "intact": lambda: None,
            "missing_tiles": lambda: (
                UsdGeom.Imageable(stage.OverridePrim(path.AppendPath("Geometry/loose_tiles")))
                .CreateVisibilityAttr()
                .Set(UsdGeom.Tokens.invisible)
            ),
            "sagging": lambda: _sag(stage, path.AppendPath("Geometry/loose_tiles")),
        },
        "lights": {
            "on": lambda: None,
            "flickering": lambda: tag(path.AppendChild("Lights"), "lightState", "flickering"),
            "dead": lambda: _dead_lights(stage, path.AppendChild("Lights"), len(design.light_slots)),
            "missing": lambda: stage.OverridePrim(path.AppendChild("Lights")).SetActive(False),
        },
    }
    for set_name, options in VARIANTS.items():
        vset = sets.AddVariantSet(set_name)
        for option in options:
            vset.AddVariant(option)
            vset.SetVariantSelection(option)
            with vset.GetVariantEditContext():
                tag(path, set_name, option)
                edits[set_name][option]()
        vset.SetVariantSelection(options[0])


def _sag(stage: Usd.Stage, prim_path: Sdf.Path) -> None:
    xf = UsdGeom.Xformable(stage.OverridePrim(prim_path))
    xf.AddTranslateOp().Set(Gf.Vec3d(0, -0.12, 0))


def _dead_lights(stage: Usd.Stage, lights: Sdf.Path, count: int) -> None:
    for k in range(count):
        panel = lights.AppendChild(f"Panel_{k}")
        UsdLux.RectLight(stage.OverridePrim(panel.AppendChild("Light"))).CreateIntensityAttr(0.0)
        shader = UsdShade.Shader(stage.OverridePrim(panel.AppendPath("Looks/light_panel/Surface")))
        shader.CreateInput("emissiveColor", Sdf.ValueTypeNames.Color3f).Set(Gf.Vec3f(0.0))


def write_prototype(design: Design, path: Path) -> None:
    stage, root = _new_stage(path, design.name)
    root.SetCustomDataByKey(
        "backrooms",
        {
            "family": design.family,
            "shape": design.shape,
            "portals": portal_text(design.portals),
            "cellSize": CELL,
            "ceilingHeight": HEIGHT,
        },
    )
    soup = design.soup.merged(design.loose)
    looks = _materials(stage, root.GetPath(), set(soup.quads))
    geometry = root.GetPath().AppendChild("Geometry")
    UsdGeom.Xform.Define(stage, geometry)
    _meshes(stage, geometry, design.soup, looks)
    if design.loose.quads:
        UsdGeom.Xform.Define(stage, geometry.AppendChild("loose_tiles"))
        _meshes(stage, geometry.AppendChild("loose_tiles"), design.loose, looks)
    lights = root.GetPath().AppendChild("Lights")
    UsdGeom.Xform.Define(stage, lights)
    for k, (x, z) in enumerate(design.light_slots):
        panel = UsdGeom.Xform.Define(stage, lights.AppendChild(f"Panel_{k}"))
        panel.GetPrim().GetReferences().AddReference(f"./{PANEL_FILE}")
        panel.AddTranslateOp().Set(Gf.Vec3d(x, HEIGHT, z))
    _variants(stage, root, design)
    stage.GetRootLayer().Save()


def write_library(usd_dir: Path) -> list[Path]:
    """Rewrite every prototype file and the manifest under ``usd_dir``; returns the files written."""
    folder = usd_dir / PROTOTYPE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = [folder / PANEL_FILE]
    write_panel(written[0])
    for design in all_designs():
        written.append(folder / f"{design.name}.usda")
        write_prototype(design, written[-1])
    manifest = {
        "cell_size": CELL,
        "panel": f"{PROTOTYPE_DIR}/{PANEL_FILE}",
        "prototypes": [f"{PROTOTYPE_DIR}/{p.name}" for p in written[1:]],
    }
    (usd_dir / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return written


if __name__ == "__main__":
    for written_path in write_library(Path(sys.argv[1] if len(sys.argv) > 1 else "usd")):
        print(written_path)
