"""The walk stage the Kit host opens, written by backrooms.world for the chunks the camera loads."""

import re

import pytest
from pxr import Usd

from backrooms.kit.walk import CELL_PATTERN, walk_region, write_walk_stage
from backrooms.params import ParamStore
from backrooms.world import World


@pytest.fixture(scope="module")
def params():
    return ParamStore().snapshot()


def test_walk_stage_holds_every_chunk_the_camera_loads_and_cells_the_randomizer_matches(tmp_path, params):
    camera = write_walk_stage(tmp_path / "h.usda", 7, 5, 4, 24.0, params)
    stage = Usd.Stage.Open(str(tmp_path / "h.usda"))
    cells = [p for p in stage.Traverse() if re.match(CELL_PATTERN, str(p.GetPath()))]
    assert cells and cells[0].GetVariantSets().GetNames() == ["wallpaper", "carpet", "ceiling", "lights"]
    assert stage.GetPrimAtPath(camera).GetAttribute("xformOp:transform").GetTimeSamples() == list(range(9))
    world = World(7, params)
    region = walk_region(world, 5, 4, 24.0)
    n, cell = world.spec.chunk_size, world.cell_size
    for frame in range(5, 9):
        x, _, z = world.camera(frame, 24.0).position
        assert region.x0 + n <= x / cell < region.x1 - n and region.z0 + n <= z / cell < region.z1 - n
