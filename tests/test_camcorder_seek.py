"""The camcorder in the chain: seekable state, checked knobs, and exposure that evens out seeds."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.camcorder.exposure import memory
from backrooms.cli import main
from backrooms.graph.catalog import CATALOG
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DEPTH, MOTION_VECTORS, RGB, RenderProduct
from backrooms.params import REGISTRY, ParamStore
from camcorder_frames import OFF, film, flat, luma

SMALL = ["--size", "64x48", "--fps", "8", "--quiet", "--set", "diffusion.reset_interval=10"]


def frames_of(out):
    return {p.name: p.read_bytes() for p in sorted((out / "frames").glob("*.png"))}


@pytest.mark.slow
def test_start_40_gives_the_bytes_of_frames_40_on_of_one_long_run(tmp_path):
    # at 8 fps the servos remember 24 frames: frame 40 needs 17.., and the diffusion node (reset
    # every 10 frames) must then replay from 10 for frame 17 to be right
    assert memory(8.0) == 24
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["render", "--frames", "44", *SMALL, "--out", str(whole)]) == 0
    assert main(["render", "--start", "40", "--frames", "4", *SMALL, "--out", str(part)]) == 0
    expected = {name: data for name, data in frames_of(whole).items() if int(name[6:12]) >= 40}
    assert len(expected) == 4
    assert frames_of(part) == expected


def test_the_executor_replays_what_upstream_nodes_need_for_the_camcorder():
    # one diffusion memory chain at a time (no cross-fade), so its history is the last reset
    params = ParamStore(values={"diffusion.reset_interval": 10, "diffusion.reset_fade": 0}).snapshot()
    context = GraphContext(0, 16, 16, 8.0, "cpu")
    executor = Executor(("diffusion", "camcorder", "decay"), context, lambda f: params)
    assert executor.first_needed(40) == 10  # camcorder: 17.., diffusion for frame 17: 10..
    assert executor.first_needed(5) == 0


def test_servo_state_after_a_seek_matches_the_long_run():
    """Replaying the memory window gives the very settings a long run reached (no reset jumps)."""
    rgbs = [flat(40 + (i * 7) % 150) for i in range(100)]
    values = {**OFF, "camcorder.exposure_mode": "auto", "camcorder.af_hunt": 2.0}
    _, long_run = film(rgbs, values)
    last, n = len(rgbs) - 1, memory(24.0)
    _, replayed = film(rgbs[last - n + 1 :], values, first=last - n + 1)
    assert replayed[-1] == long_run[-1]
    _, too_short = film(rgbs[last - n + 5 :], values, first=last - n + 5)
    assert too_short[-1].ev != long_run[-1].ev


@pytest.mark.parametrize(
    "assignment",
    [
        "camcorder.aberration=9",
        "camcorder.exposure_mode=program",
        "camcorder.shutter=-1",
        "camcorder.bloom=x",
    ],
)
def test_a_bad_knob_value_is_one_line_and_exit_2(capsys, assignment):
    assert main(["render", "--frames", "1", "--size", "32x32", "--set", assignment]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and assignment.split("=")[0] in err


def test_aberration_is_playable_over_osc_and_range_checked():
    param = REGISTRY["camcorder.aberration"]
    assert param.osc_address == "/backrooms/camcorder/aberration"
    store = ParamStore()
    before = store.get("camcorder.aberration")
    with pytest.raises(Exception, match="outside"):
        store.update({"camcorder.aberration": 7.5})
    assert store.get("camcorder.aberration") == before


@pytest.mark.slow
def test_auto_exposure_brings_seeds_0_to_9_within_a_factor_of_1_5():
    """Median frame brightness of ten worlds, rendered small, before and after the camcorder."""
    w, h, frames = 80, 60, 8
    params = ParamStore().snapshot()
    before, after = [], []
    for seed in range(10):
        context = GraphContext(seed, w, h, 24.0, "cpu")
        executor = Executor(("render",), context, lambda f: params)
        camcorder = Executor(("camcorder",), context, lambda f: params)
        raw, filmed = [], []
        for f in range(frames):
            product = executor.render(f)
            raw.append(luma(product[RGB].numpy()).mean())
            inputs = {k: product[k] for k in (RGB, DEPTH, MOTION_VECTORS)}
            filmed.append(luma(camcorder.render(f, inputs)[RGB].numpy()).mean())
        before.append(np.median(raw))
        after.append(np.median(filmed))
    assert max(before) / min(before) > 1.5  # the render alone leaves exposure to chance
    assert max(after) / min(after) < 1.5
    assert 80 < np.median(after) < 140  # neither murky nor washed out


def test_camcorder_node_builds_from_the_catalogue():
    node = CATALOG.node_class("camcorder")(GraphContext(0, 8, 8, 24.0, "cpu"))
    product = RenderProduct(0, 8, 8, "cpu")
    product.load(RGB, flat(100, 8, 8))
    node.process(product, ParamStore().snapshot())
    assert product[RGB].numpy()[..., 3].min() == 255
