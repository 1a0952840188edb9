"""A shard: a run of frames that one worker renders into the shared output folder.

``render_shard`` is the only code that renders frames, whatever runs it (this process, a worker
process, a Ray task, a farm task), so every engine produces the same bytes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backrooms.graph.catalog import NODE_TYPES
from backrooms.graph.executor import Executor, ParamsAt
from backrooms.graph.product import RGB
from backrooms.graph.recipe import Recipe
from backrooms.io.manifest import PartLog, frame_file
from backrooms.io.png import write_png
from backrooms.params.store import Snapshot


@dataclass(frozen=True)
class Shard:
    """Frames rendered in order by one task; a gap between them costs one seek."""

    frames: tuple[int, ...]

    @property
    def name(self) -> str:
        """Unique within a render (shards are disjoint) and stable across retries of the shard."""
        return f"shard_{self.frames[0]:06d}"


def plan_shards(frames: Sequence[int], count: int) -> list[Shard]:
    """Split sorted ``frames`` into at most ``count`` contiguous runs of nearly equal length."""
    count = max(1, min(count, len(frames)))
    bounds = [len(frames) * i // count for i in range(count + 1)]
    return [Shard(tuple(frames[a:b])) for a, b in itertools.pairwise(bounds)]


class FixedParams:
    """The same parameters for every frame, as a callable that pickles (``Snapshot`` does not)."""

    def __init__(self, values: Mapping[str, Any], version: int = 0) -> None:
        self.snapshot = Snapshot(dict(values), version)

    def __call__(self, frame: int) -> Snapshot:
        return self.snapshot

    def __reduce__(self) -> tuple[type, tuple[dict[str, Any], int]]:
        return FixedParams, (dict(self.snapshot), self.snapshot.version)


@dataclass(frozen=True)
class ShardJob:
    """Everything a worker needs besides its frames; it pickles, so it travels to processes and Ray.

    ``out`` must be the same path on every worker (a shared folder on a cluster); ``key`` is the
    render's job key (``io.manifest.job_key``). ``node_types`` is the driver's node catalogue, so node
    types registered at run time resolve the same way in workers.
    """

    recipe: Recipe
    params_at: ParamsAt
    out: Path
    key: str
    node_types: dict[str, str] = field(default_factory=lambda: dict(NODE_TYPES))


def render_shard(job: ShardJob, shard: Shard) -> int:
    """Render the shard's frames that are not done yet; returns how many it rendered.

    Frames an earlier attempt of this shard logged (a retry after a crash) are kept; the first frame
    rendered seeks, which replays the temporal state from the frames before it.
    """
    NODE_TYPES.update(job.node_types)
    log = PartLog(job.out, f"{job.key}_{shard.name}")
    done = log.read()
    todo = [f for f in shard.frames if f not in done or not (job.out / frame_file(f)).exists()]
    if not todo:
        return 0
    executor = Executor(job.recipe, job.params_at)
    for frame in todo:
        began = time.perf_counter()
        product = executor.render(frame)
        write_png(job.out / frame_file(frame), product[RGB].numpy())
        log.append(frame, time.perf_counter() - began)
    return len(todo)
