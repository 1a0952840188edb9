"""USD export of a region (payload per chunk, instanced cells, variants, lights, camera)
and the ``stage`` / ``layout`` commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pxr import Usd, UsdGeom, UsdLux

from backrooms.cli import main
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render.node import RenderNode
from backrooms.world import World
from backrooms.world.layout import VARIANTS
from backrooms.world.stage import CAMERA_PATH, CHUNKS_PATH, Region, write_stage

REGION = Region(-8, 4, 24, 30)  # 32 x 26 cells over 3 x 3 chunks, clipped at both ends
FRAMES = 12


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[World, Path]:
    world = World(31)
    out = tmp_path_factory.mktemp("stage") / "hall.usda"
    write_stage(world, REGION, out, frames=FRAMES, fps=24.0)
    return world, out


def cell_prims(stage: Usd.Stage) -> list[Usd.Prim]:
    return [p for p in stage.Traverse() if p.GetName().startswith("cell_")]


def test_the_stage_holds_one_instanced_prototype_per_walkable_cell(exported) -> None:
    world, out = exported
    stage = Usd.Stage.Open(str(out))
    cells = cell_prims(stage)
    walkable = sum(
        int((world.cells(cx, cz).crop(*_clip(world, cx, cz)).kind > 0).sum()) for cx, cz in REGION.chunks(16)
    )
    assert len(cells) == walkable
    assert all(p.IsInstance() for p in cells)
    assert 0 < len(stage.GetPrototypes()) < len(cells) / 2  # instancing shares prototypes


def _clip(world: World, cx: int, cz: int) -> tuple[int, int, int, int]:
    n = world.spec.chunk_size
    return (
        max(REGION.x0, cx * n),
        max(REGION.z0, cz * n),
        min(REGION.x1, cx * n + n),
        min(REGION.z1, cz * n + n),
    )


def test_cells_carry_the_layouts_variant_selections_and_turns(exported) -> None:
    world, out = exported
    stage = Usd.Stage.Open(str(out))
    for prim in cell_prims(stage)[::7]:
        x, z = (int(v.replace("m", "-")) for v in prim.GetName().split("_")[1:])
        block = world.cells(x // 16, z // 16)
        r, c = z - block.z0, x - block.x0
        selections = prim.GetVariantSets()
        for name, options in VARIANTS.items():
            assert selections.GetVariantSelection(name) == options[getattr(block, name)[r, c]]
        centre = UsdGeom.Xformable(prim).ComputeLocalToWorldTransform(0).ExtractTranslation()
        assert (centre[0], centre[2]) == ((x + 0.5) * 4.0, (z + 0.5) * 4.0)


def test_every_chunk_is_a_payload_that_loads_alone(exported) -> None:
    _, out = exported
    stage = Usd.Stage.Open(str(out), Usd.Stage.LoadNone)
    chunks = stage.GetPrimAtPath(CHUNKS_PATH).GetAllChildren()  # unloaded prims included
    assert len(chunks) == len(REGION.chunks(16))
    assert all(p.HasPayload() for p in chunks)
    assert cell_prims(stage) == []
    stage.Load(chunks[4].GetPath())
    loaded = cell_prims(stage)
    assert loaded and all(p.GetPath().HasPrefix(chunks[4].GetPath()) for p in loaded)


def test_lights_come_with_the_cells(exported) -> None:
    _, out = exported
    stage = Usd.Stage.Open(str(out))
    lights = [p for p in Usd.PrimRange.Stage(stage, Usd.TraverseInstanceProxies()) if p.IsA(UsdLux.RectLight)]
    assert len(lights) > len(cell_prims(stage)) / 2


def test_the_camera_path_is_animated_frame_by_frame(exported) -> None:
    world, out = exported
    stage = Usd.Stage.Open(str(out))
    camera = UsdGeom.Camera(stage.GetPrimAtPath(CAMERA_PATH))
    assert stage.GetEndTimeCode() == FRAMES - 1
    for frame in (0, 5, FRAMES - 1):
        xf = camera.ComputeLocalToWorldTransform(Usd.TimeCode(frame))
        expected = world.camera(frame, 24.0)
        assert np.allclose(xf.ExtractTranslation(), expected.position, atol=1e-5)
        forward = xf.TransformDir((0, 0, -1))
        assert np.allclose(forward, expected.forward, atol=1e-5)
    fov = 2 * np.degrees(
        np.arctan(camera.GetVerticalApertureAttr().Get() / 2 / camera.GetFocalLengthAttr().Get())
    )
    assert fov == pytest.approx(world.camera_spec.fov, abs=1e-3)


def test_the_stage_camera_is_the_camera_the_renderer_sees(exported) -> None:
    """Same seed, same frames: the render node's pose (``product.meta["camera"]``) is the USD camera's."""
    world, out = exported
    stage = Usd.Stage.Open(str(out))
    camera = UsdGeom.Camera(stage.GetPrimAtPath(CAMERA_PATH))
    node = RenderNode(GraphContext(seed=world.seed, width=16, height=12, fps=24.0, device="cpu"))
    for frame in (0, 7, FRAMES - 1):
        product = RenderProduct(frame, 16, 12, "cpu")
        node.process(product, ParamStore().snapshot())
        seen = product.meta["camera"]
        xf = np.asarray(camera.ComputeLocalToWorldTransform(Usd.TimeCode(frame)))
        assert np.allclose(xf[3, :3], seen["position"], atol=1e-5)
        assert np.allclose(xf[:3, :3].T, seen["rotation"], atol=1e-5)
        assert 0.0 <= seen["step_phase"] < 1.0 and isinstance(seen["walking"], bool)


def test_a_crate_file_stage_opens_as_well(tmp_path: Path) -> None:
    out = tmp_path / "hall.usdc"
    write_stage(World(3), Region(0, 0, 10, 10), out)
    assert len(cell_prims(Usd.Stage.Open(str(out)))) > 30


def test_stage_command_writes_a_stage(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.usda"
    assert main(["stage", "--seed", "4", "--region=-4,-4,12,12", "--out", str(out), "--frames", "3"]) == 0
    printed = capsys.readouterr().out
    assert "wrote" in printed and "leaves the region" not in printed
    assert cell_prims(Usd.Stage.Open(str(out)))


def test_stage_command_says_when_the_camera_walks_off_the_region(tmp_path: Path, capsys) -> None:
    out = tmp_path / "s.usda"
    assert main(["stage", "--seed", "4", "--region", "40,40,44,44", "--out", str(out), "--frames", "3"]) == 0
    assert "leaves the region at frame 0" in capsys.readouterr().out


@pytest.mark.parametrize("quiet", [[], ["--quiet"]])
def test_a_large_stage_shows_its_progress_unless_quiet(tmp_path: Path, capsys, quiet) -> None:
    """A 4M-cell stage takes minutes: from 64 chunks up its chunks are counted on stderr."""
    out = tmp_path / "s.usdc"
    assert main(["stage", "--region", "0,0,128,128", "--out", str(out), "--frames", "2", *quiet]) == 0
    err = capsys.readouterr().err
    assert ("stage:" in err and "/64 [" in err) != bool(quiet)
    assert main(["stage", "--region", "0,0,112,128", "--out", str(out), "--frames", "2"]) == 0
    assert capsys.readouterr().err == ""  # 56 chunks: a second's work, no bar


def test_layout_command_prints_a_map_and_json(capsys) -> None:
    assert main(["layout", "--seed", "4", "--region", "0,0,12,8"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 17 and all(len(line) == 25 for line in lines)
    assert main(["layout", "--seed", "4", "--region", "0,0,12,8", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert np.array(data["mask"]).shape == (8, 12) and data["region"] == [0, 0, 12, 8]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["layout", "--region", "0,0,5"], "expected four whole numbers"),
        (["layout", "--region", "5,0,1,4"], "needs x1 > x0"),
        (["stage", "--region", "0,0,4,4", "--out", "x.obj"], "expected a .usda or .usdc"),
        (["layout", "--region", "0,0,4,4", "--set", "world.chunk_size=2"], "world.chunk_size"),
    ],
)
def test_bad_world_arguments_give_one_line_and_exit_2(capsys, argv, fragment) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_the_exported_stage_passes_every_usd_validator(exported) -> None:
    from pxr import UsdValidation

    validators = UsdValidation.ValidationRegistry().GetOrLoadAllValidators()
    errors = UsdValidation.ValidationContext(validators).Validate(Usd.Stage.Open(str(exported[1])))
    assert [f"{e.GetName()}: {e.GetMessage()}" for e in errors] == []
