"""Choosing where shards run: ``--engine local|ray``, ``--workers``, ``--shards``, ``--address``."""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from backrooms.errors import UserError

if TYPE_CHECKING:  # the CLI imports this module; the renderer loads only when a render starts
    from backrooms.scale.shard import ShardJob

ENGINES = ("local", "ray")


class Engine(Protocol):
    def run(self, job: ShardJob, frames: Sequence[int]) -> None:
        """Render ``frames`` (sorted, not yet done) into ``job.out``; raise if any shard fails."""


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("scale-out (the output is the same bytes with every engine)")
    group.add_argument("--engine", choices=ENGINES, default="local", help="where shards run (default local)")
    group.add_argument(
        "--workers", type=int, metavar="N", help="local worker processes (default 1: render in this process)"
    )
    group.add_argument(
        "--shards",
        type=int,
        metavar="N",
        help="frame ranges to split into (default: one per worker or Ray slot)",
    )
    group.add_argument(
        "--shard",
        type=shard_spec,
        metavar="I/N",
        help="render only shard I of N and skip the join (farm tasks; a final --resume joins)",
    )
    group.add_argument(
        "--address",
        metavar="A",
        help="Ray cluster address (default: $RAY_ADDRESS, else a one-node cluster here)",
    )


def shard_spec(text: str) -> tuple[int, int]:
    """``I/N``: shard I (1-based) of N."""
    index, sep, count = text.partition("/")
    if not (sep and index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise argparse.ArgumentTypeError(f"expected I/N with 1 <= I <= N, e.g. 3/8, got {text!r}")
    return int(index), int(count)


def engine_from_args(args: argparse.Namespace) -> Engine:
    if args.shard and (args.engine != "local" or args.workers or args.shards or args.resume):
        raise UserError(
            "--shard: renders one shard in this process; drop --engine, --workers, --shards, --resume"
        )
    return make_engine(args.engine, args.workers, args.shards, args.address)


def make_engine(
    name: str = "local", workers: int | None = None, shards: int | None = None, address: str | None = None
) -> Engine:
    if workers is not None and workers < 1:
        raise UserError(f"--workers: must be at least 1, got {workers}")
    if shards is not None and shards < 1:
        raise UserError(f"--shards: must be at least 1, got {shards}")
    if name == "local":
        if address is not None:
            raise UserError("--address: only used with --engine ray")
        from backrooms.scale.local import InProcessEngine, ProcessPoolEngine

        return InProcessEngine(shards) if (workers or 1) == 1 else ProcessPoolEngine(workers, shards)
    if name == "ray":
        if workers is not None:
            raise UserError("--workers: only used with --engine local (Ray uses the cluster's GPUs or CPUs)")
        if importlib.util.find_spec("ray") is None:
            raise UserError("--engine ray: Ray is not installed (pip install 'backrooms[scale]')")
        from backrooms.scale.ray_engine import RayEngine

        return RayEngine(address, shards)
    raise UserError(f"--engine: unknown engine {name!r} (engines: {', '.join(ENGINES)})")
