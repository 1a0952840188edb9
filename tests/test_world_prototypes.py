"""The prototype library in usd/: real USD files, what they declare, and how bad files fail."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from pxr import Usd, UsdGeom, UsdLux, UsdShade

from backrooms.errors import UserError
from backrooms.world.designs import HALF, HEIGHT
from backrooms.world.layout import EAST, NORTH, SOUTH, VARIANTS, WEST
from backrooms.world.library import USD_DIR, load_library
from backrooms.world.prototype_writer import write_library

PROTOTYPES = sorted((USD_DIR / "prototypes").glob("*.usda"))
REQUIRED = (
    "corridor_straight",
    "corridor_corner",
    "corridor_tee",
    "corridor_cross",
    "corridor_dead_end",
    "room_cross",
    "pillar_hall_cross",
    "doorway_straight",
)


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_committed_files_are_what_the_builder_writes(tmp_path: Path) -> None:
    written = write_library(tmp_path)
    for path in [*written, tmp_path / "library.json"]:
        committed = USD_DIR / path.relative_to(tmp_path)
        assert committed.read_text() == path.read_text(), committed


def test_the_library_has_every_kind_of_cell_the_issue_asks_for(library) -> None:
    names = {p.name for p in library.prototypes}
    assert set(REQUIRED) <= names
    assert sum(p.family == "landmark" for p in library.prototypes) >= 3


@pytest.mark.parametrize("path", PROTOTYPES, ids=lambda p: p.stem)
def test_every_mesh_has_normals_uvs_and_a_preview_surface(path: Path) -> None:
    stage = Usd.Stage.Open(str(path))
    meshes = [UsdGeom.Mesh(p) for p in stage.Traverse() if p.IsA(UsdGeom.Mesh)]
    assert meshes
    for mesh in meshes:
        points = mesh.GetPointsAttr().Get()
        assert len(mesh.GetNormalsAttr().Get()) == len(points)
        assert len(UsdGeom.PrimvarsAPI(mesh).GetPrimvar("st").Get()) == len(points)
        material, _ = UsdShade.MaterialBindingAPI(mesh.GetPrim()).ComputeBoundMaterial()
        shader = material.ComputeSurfaceSource()[0]
        assert shader.GetIdAttr().Get() == "UsdPreviewSurface"


@pytest.mark.parametrize("path", [p for p in PROTOTYPES if p.stem != "light_panel"], ids=lambda p: p.stem)
def test_every_prototype_has_the_four_variant_sets(path: Path) -> None:
    stage = Usd.Stage.Open(str(path))
    sets = stage.GetDefaultPrim().GetVariantSets()
    for name, options in VARIANTS.items():
        assert sets.GetVariantSet(name).GetVariantNames() == sorted(options)


def test_variants_change_the_composed_prototype() -> None:
    stage = Usd.Stage.Open(str(USD_DIR / "prototypes" / "room_cross.usda"))
    root = stage.GetDefaultPrim()
    sets = root.GetVariantSets()
    loose = UsdGeom.Imageable(stage.GetPrimAtPath(root.GetPath().AppendPath("Geometry/loose_tiles")))
    assert loose.ComputeVisibility() == UsdGeom.Tokens.inherited
    sets.SetSelection("ceiling", "missing_tiles")
    assert loose.ComputeVisibility() == UsdGeom.Tokens.invisible
    light = UsdLux.RectLight(stage.GetPrimAtPath(root.GetPath().AppendPath("Lights/Panel_0/Light")))
    assert light.GetIntensityAttr().Get() > 0
    sets.SetSelection("lights", "dead")
    assert light.GetIntensityAttr().Get() == 0
    sets.SetSelection("lights", "missing")
    assert not stage.GetPrimAtPath(root.GetPath().AppendChild("Lights")).IsActive()


def test_light_panels_are_emissive_and_have_a_light_slot(library) -> None:
    panel = library.library.meshes[library.panel]
    emissive = [library.library.materials[m].emissive for m in np.unique(panel.tri_material)]
    assert max(max(e) for e in emissive) > 1.0
    assert all(len(p.light_slots) >= 1 for p in library.prototypes)


def _wall_triangles_crossing_portal(mesh, materials, side: int) -> int:
    """Triangles (not floor or ceiling) centred in the middle 2.4 m of a side, near its plane."""
    centres = mesh.points[mesh.triangles].mean(axis=1)
    flat = np.array(
        [
            materials[m].pattern in ("carpet", "ceiling_tile") or materials[m].name == "plenum"
            for m in mesh.tri_material
        ]
    )
    axis, sign = {EAST: (0, 1), WEST: (0, -1), SOUTH: (2, 1), NORTH: (2, -1)}[side]
    near = np.abs(centres[:, axis] - sign * HALF) < 0.3
    across = np.abs(centres[:, 2 - axis]) < 1.2
    body = (centres[:, 1] > 0.05) & (centres[:, 1] < HEIGHT - 0.05)
    return int((near & across & body & ~flat).sum())


def test_open_portals_are_clear_and_closed_sides_are_walled(library) -> None:
    for proto in library.prototypes:
        mesh = library.library.meshes[proto.mesh]
        for side in (EAST, NORTH, WEST, SOUTH):
            blocked = _wall_triangles_crossing_portal(mesh, library.library.materials, side)
            if proto.portals & side:
                assert blocked == 0, (proto.name, side)
            else:
                assert blocked > 0, (proto.name, side)


def _broken_copy(tmp_path: Path, edit) -> Path:
    shutil.copytree(USD_DIR, tmp_path / "usd")
    target = tmp_path / "usd" / "prototypes" / "corridor_tee.usda"
    stage = Usd.Stage.Open(str(target))
    edit(stage)
    stage.GetRootLayer().Save()
    return tmp_path / "usd"


def test_missing_portal_metadata_fails_naming_file_and_prim(tmp_path: Path) -> None:
    root = _broken_copy(tmp_path, lambda s: s.GetDefaultPrim().ClearCustomDataByKey("backrooms:portals"))
    with pytest.raises(
        UserError, match=r"^prototypes/corridor_tee.usda: /corridor_tee: missing portal metadata"
    ):
        load_library(root)


def test_broken_geometry_fails_naming_file_and_prim(tmp_path: Path) -> None:
    def break_indices(stage: Usd.Stage) -> None:
        mesh = UsdGeom.Mesh(stage.GetPrimAtPath("/corridor_tee/Geometry/wallpaper"))
        indices = list(mesh.GetFaceVertexIndicesAttr().Get())
        indices[5] = 10_000
        mesh.GetFaceVertexIndicesAttr().Set(indices)

    root = _broken_copy(tmp_path, break_indices)
    with pytest.raises(
        UserError, match=r"corridor_tee.usda: /corridor_tee/Geometry/wallpaper: faceVertexIndices"
    ):
        load_library(root)


def test_a_missing_prototype_file_fails_with_its_name(tmp_path: Path) -> None:
    shutil.copytree(USD_DIR, tmp_path / "usd")
    (tmp_path / "usd" / "prototypes" / "room_tee.usda").unlink()
    with pytest.raises(UserError, match=r"room_tee\.usda: prototype file not found"):
        load_library(tmp_path / "usd")


def test_every_prototype_file_passes_every_usd_validator() -> None:
    from pxr import UsdValidation

    context = UsdValidation.ValidationContext(UsdValidation.ValidationRegistry().GetOrLoadAllValidators())
    for path in PROTOTYPES:
        errors = context.Validate(Usd.Stage.Open(str(path)))
        assert [f"{e.GetName()}: {e.GetMessage()}" for e in errors] == [], path.name
