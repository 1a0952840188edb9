"""A ``camera.speed``, a route knob or a failing-light rate moved live carries on from where the
camera is, and a take replays it so: from its start, from a seek, or in a shard (the changes
before the seek are played again)."""

from __future__ import annotations

import numpy as np
import warp as wp

from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.params import REGISTRY
from backrooms.params.automation import Automation
from backrooms.params.store import Snapshot
from backrooms.world import World

W, H = 16, 12
MOVES = [
    (300, {"camera.speed": 3.0}),
    (350, {"world.flicker_rate": 0.3, "world.light_failure_rate": 0.25}),  # more stops under panels
    (370, {"camera.turn_rate": 0.95, "camera.stop_rate": 0.3}),  # other turns from the next cell
    (400, {"camera.speed": 0.7, "decay.noise": 0.3}),
]


def _take(end: int) -> Automation:
    return Automation("<test>", {}, REGISTRY.defaults(), MOVES, end)


def _executor(kinds: tuple[str, ...], params_at) -> Executor:
    recipe = load_recipe()
    return Executor(kinds, GraphContext(recipe.seed, W, H, recipe.fps, "cpu"), params_at)


def _position(product) -> np.ndarray:
    return np.asarray(product.meta["camera"]["position"], np.float64)


def test_speed_route_and_failing_lights_moved_live_carry_on_from_where_the_camera_is() -> None:
    """As ``backrooms live`` hands the executor a new snapshot: 12.5 s in, 1.4 -> 3.0 m/s made the
    walk as if it had always gone at 3.0 m/s, and the camera jumped metres along its route; a new
    share of failing panels re-planned the walk's stops from its start."""
    values = dict(REGISTRY.defaults())
    now = {"snapshot": Snapshot(values, 0)}
    executor = _executor(("render",), lambda _frame: now["snapshot"])
    steps = []
    last = None
    for frame in range(410):
        for at, changes in MOVES:
            if frame == at:
                values.update(changes)
                now["snapshot"] = Snapshot(dict(values), frame)
        position = _position(executor.render(frame))
        if last is not None:
            steps.append(float(np.linalg.norm(position - last)))
        last = position
    executor.close()
    assert max(steps) < 0.3  # 3 m/s at 24 fps is 0.125 m a frame (with the walker's sway)
    steady = World(load_recipe().seed, Snapshot(REGISTRY.defaults(), 0))  # never changed
    assert np.linalg.norm(last - steady.camera(409, 24.0).position) > 1.0  # the changes took hold


def test_a_seek_into_a_take_plays_the_speed_changes_before_it_again() -> None:
    take = _take(420)
    whole = _executor(("render",), take)
    long_run = {
        p.frame: (_position(p), wp.to_torch(p[RGB]).numpy().tobytes()) for p in whole.stream(range(412))
    }
    whole.close()
    for frames in ([410], [390, 391], [401, 402, 411]):
        alone = _executor(("render",), take)
        for frame, product in zip(frames, alone.stream(frames), strict=True):
            assert _position(product).tobytes() == long_run[frame][0].tobytes(), frame
            assert wp.to_torch(product[RGB]).numpy().tobytes() == long_run[frame][1], frame
        alone.close()


def test_the_default_chain_seeks_into_a_take_to_the_bytes_of_the_long_run() -> None:
    recipe = load_recipe()
    take = _take(420)
    whole = _executor(recipe.nodes, take)
    long_run = {
        p.frame: wp.to_torch(p[RGB]).numpy().tobytes() for p in whole.stream(range(410)) if p.frame > 401
    }
    whole.close()
    alone = _executor(recipe.nodes, take)
    for frame in (409, 403):
        assert wp.to_torch(alone.render(frame)[RGB]).numpy().tobytes() == long_run[frame], frame
    alone.close()


def test_a_take_rendered_in_shards_by_worker_processes_has_the_bytes_of_one_run(tmp_path) -> None:
    """The CLI's way: ``render --automation`` whole, and split over two worker processes (the take
    pickles to them and each shard plays the moves before its first frame again)."""
    from backrooms.cli import main
    from backrooms.graph.recipe import Recipe
    from backrooms.params.automation import Recorder

    recipe = Recipe(source="test", nodes=("render", "decay"), width=32, height=24, fps=24, frames=48)
    take = tmp_path / "take.jsonl"
    recorder = Recorder(take, recipe.to_json(), REGISTRY.defaults())
    moves = {10: {"camera.speed": 3.0}, 20: {"camera.turn_rate": 0.95}, 30: {"camera.speed": 0.6}}
    for frame in range(48):
        recorder.record(frame, moves.get(frame, {}))
    recorder.close()
    one, split = tmp_path / "one", tmp_path / "split"
    assert main(["render", "--automation", str(take), "--out", str(one), "--quiet"]) == 0
    args = [
        "render",
        "--automation",
        str(take),
        "--out",
        str(split),
        "--quiet",
        "--workers",
        "2",
        "--shards",
        "3",
    ]
    assert main(args) == 0
    for frame in range(48):
        name = f"frames/frame_{frame:06d}.png"
        assert (one / name).read_bytes() == (split / name).read_bytes(), frame
