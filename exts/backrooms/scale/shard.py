"""A shard: a run of frames that one worker renders into the shared output folder.

``render_shard`` is the only code that renders frames, whatever runs it (this process, a worker
process, a Ray task, a farm task), so every engine produces the same bytes.
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backrooms.graph.executor import Executor, ParamsAt
from backrooms.graph.product import RGB
from backrooms.graph.recipe import Recipe
from backrooms.io.audio import write_frame_audio
from backrooms.io.background import BackgroundWrites
from backrooms.io.manifest import PartLog, audio_file, frame_file
from backrooms.io.mp4 import EncodeAlong
from backrooms.io.png import write_png
from backrooms.params.store import Snapshot

History = Callable[[int], int]


@dataclass(frozen=True)
class Shard:
    """Frames rendered in order by one task; a gap between them costs one seek."""

    frames: tuple[int, ...]

    @property
    def name(self) -> str:
        """Unique within a render (shards are disjoint) and stable across retries of the shard."""
        return f"shard_{self.frames[0]:06d}"


def plan_shards(frames: Sequence[int], count: int, history: History | None = None) -> list[Shard]:
    """Split sorted ``frames`` into at most ``count`` contiguous runs of nearly equal length.

    ``history(f)`` is the first frame a seek to ``f`` replays from. With it, each cut moves (by at most
    half a shard) to where the frames the next shard replays plus the frames the cut moved is least:
    a shard that starts where the temporal state restarts replays nothing.
    """
    count = max(1, min(count, len(frames)))
    half = len(frames) // count // 2
    cuts = [0]
    for i in range(1, count):
        even = len(frames) * i // count
        if history is not None:
            lo = max(cuts[-1] + 1, even - half)
            hi = max(lo, min(len(frames) - (count - i), even + half))
            even = min(
                range(lo, hi + 1),
                key=lambda c: (frames[c] - history(frames[c]) + abs(c - even), abs(c - even)),
            )
        cuts.append(even)
    cuts.append(len(frames))
    return [Shard(tuple(frames[a:b])) for a, b in itertools.pairwise(cuts)]


def plan_job(job: ShardJob, frames: Sequence[int], count: int) -> list[Shard]:
    """Shards of ``frames`` for ``job``, cut where its nodes' temporal state restarts when possible.

    The nodes are built once on the CPU to ask their ``history``; planning is deterministic, so farm
    tasks that each plan the same job agree on every shard.
    """
    if count < 2 or len(frames) < 2:
        return plan_shards(frames, count)
    executor = Executor.from_recipe(job.recipe.with_overrides(device="cpu"), job.params_at)
    return plan_shards(frames, count, executor.first_needed)


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
    render's job key (``io.manifest.job_key``). The recipe carries its node catalogue, so a host's own
    node types resolve the same way in workers.
    """

    recipe: Recipe
    params_at: ParamsAt
    out: Path
    key: str


def render_shard(job: ShardJob, shard: Shard, encoder: EncodeAlong | None = None) -> int:
    """Render the shard's frames that are not done yet; returns how many it rendered.

    Frames an earlier attempt of this shard logged (a retry after a crash) are kept; the first frame
    rendered seeks, which replays the temporal state from the frames before it. The frames stream
    through the executor's stages while their files are written on a thread of their own; a frame
    is logged only once its files are in place, so a failure or a kill loses no finished frame.
    ``encoder`` (a render in this process, every frame in order) also gets each frame and its sound.
    """
    log = PartLog(job.out, f"{job.key}_{shard.name}")
    done = log.read()
    todo = [f for f in shard.frames if f not in done or not (job.out / frame_file(f)).exists()]
    if not todo:
        return 0
    executor = Executor.from_recipe(job.recipe, job.params_at)
    executor.on_replay = log.replaying
    try:
        with BackgroundWrites() as writes, contextlib.closing(executor.stream(todo)) as products:
            began = time.perf_counter()
            for product in products:  # copies: the product's buffers are reused once the next is taken
                rgb, sound = np.array(product[RGB].numpy()), product.meta.get("audio")
                sound = None if sound is None else np.array(sound)
                taken = time.perf_counter()
                writes.submit(_write_frame, job.out, log, product.frame, rgb, sound, taken - began)
                if encoder is not None:
                    encoder.add(rgb, sound)
                began = taken
    finally:
        executor.close()
        log.replaying(0, 0)  # a seek that failed leaves no replay file behind
    return len(todo)


def _write_frame(
    out: Path, log: PartLog, frame: int, rgb: np.ndarray, sound: np.ndarray | None, seconds: float
) -> None:
    """A frame's files, then its line in the shard's log (``seconds``: the wall time it took, the
    others in flight overlapping it)."""
    if sound is not None:  # before the frame's PNG: a frame on disk always has its audio
        write_frame_audio(out / audio_file(frame), sound)
    write_png(out / frame_file(frame), rgb)
    log.append(frame, seconds, audio=sound is not None)
