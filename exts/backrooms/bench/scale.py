"""Scale-out: sharded vs single-process throughput of the default recipe, side by side in one run.

Each engine renders the same frames into its own folder, start-up included (worker processes import
torch and Warp, every shard replays its warm-up frames); Ray's cluster start is timed on its own,
as a real cluster is started once, not per render. First, what one seek costs (a shard's start, a
render's ``--start``): the replay of the frames the nodes' state needs.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import time
from pathlib import Path

from backrooms.batch import render_clip
from backrooms.bench.core import Measurement
from backrooms.graph.executor import Executor
from backrooms.graph.recipe import Recipe, load_recipe
from backrooms.params import ParamStore
from backrooms.params.store import Snapshot
from backrooms.scale.engine import Engine
from backrooms.scale.local import InProcessEngine, ProcessPoolEngine
from backrooms.scale.ray_engine import QUIET, RayEngine
from backrooms.scale.shard import FixedParams

AREA = "scale"


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    if device == "cuda":
        return []  # CPU-only measurements
    workers = os.cpu_count() or 1
    frames, width, height = (8, 96, 72) if quick else (48, 320, 240)
    recipe = load_recipe().with_overrides(frames=frames, width=width, height=height)
    params = ParamStore(values=recipe.params).snapshot()
    size = f"{frames} frames {width}x{height}"

    def fps(engine: Engine) -> float:
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            render_clip(recipe, params, Path(tmp), progress=False, engine=engine)
            return frames / (time.perf_counter() - began)

    single = fps(InProcessEngine())
    pool = fps(ProcessPoolEngine(workers))
    results = [
        _seek(recipe, params, 96 if quick else 240),
        Measurement(AREA, f"single process, {size}", single, "fps", "default recipe, in-process engine"),
        Measurement(AREA, f"process pool, {workers} workers", pool, "fps", "spawn + imports included"),
        Measurement(AREA, "process pool vs single process", pool / single, "x", "throughput ratio"),
    ]
    if importlib.util.find_spec("ray") is None:
        return results  # Ray is the optional `scale` extra
    import ray

    began = time.perf_counter()
    ray.init(num_cpus=workers, **QUIET)
    ray_start = time.perf_counter() - began
    try:
        on_ray = fps(RayEngine(shards=workers))
    finally:
        ray.shutdown()
    return [
        *results,
        Measurement(AREA, f"ray, {workers} shards on one node", on_ray, "fps", "cluster already up"),
        Measurement(AREA, "ray vs single process", on_ray / single, "x", "throughput ratio"),
        Measurement(AREA, "ray one-node cluster start-up", ray_start, "s"),
    ]


def _seek(recipe: Recipe, params: Snapshot, frame: int) -> Measurement:
    """The wall time of ``Executor.render(frame)`` after frame 0 (the start-up is not in it) and the
    frames it replayed, as the seek tells them (``Executor.on_replay``)."""
    executor = Executor.from_recipe(recipe, FixedParams(params))
    replayed = 0

    def told(done: int, total: int) -> None:
        nonlocal replayed
        replayed = total

    try:
        executor.render(0)
        executor.on_replay = told
        began = time.perf_counter()
        executor.render(frame)
        seconds = time.perf_counter() - began
    finally:
        executor.close()
    size = f"{recipe.width}x{recipe.height}"
    return Measurement(AREA, f"a seek to frame {frame}, {size}", seconds, "s", f"{replayed} frames replayed")
