"""``backrooms stage`` (write a USD stage of a region) and ``backrooms layout`` (print its map)."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from backrooms.errors import UserError


def _add_world_options(parser: argparse.ArgumentParser) -> None:
    from backrooms.options import add_param_options, seed

    parser.add_argument("--seed", type=seed, default=0, help="world seed (default 0)")
    parser.add_argument(
        "--region",
        required=True,
        help="cells x0,z0,x1,z1, x1 and z1 exclusive (negative: --region=-8,-8,8,8)",
    )
    add_param_options(parser)


def register(subparsers: argparse._SubParsersAction) -> None:
    from backrooms.options import count, frame_rate

    stage = subparsers.add_parser(
        "stage", help="write a USD stage of a region (payload per chunk, camera path)"
    )
    _add_world_options(stage)
    stage.add_argument("--out", type=Path, required=True, help="stage file, .usda or .usdc")
    stage.add_argument("--frames", type=count, default=240, help="camera frames to animate (default 240)")
    stage.add_argument("--fps", type=frame_rate, default=24.0, help="frames per second (default 24)")
    stage.add_argument("--quiet", action="store_true", help="no progress bar")
    stage.set_defaults(func=run_stage)

    layout = subparsers.add_parser("layout", help="print a region's layout as an ASCII map (or JSON)")
    _add_world_options(layout)
    layout.add_argument("--json", action="store_true", help="machine-readable cells")
    layout.set_defaults(func=run_layout)


def _world(args: argparse.Namespace):
    from backrooms.params import ParamStore, parse_assignment
    from backrooms.world import World
    from backrooms.world.stage import Region

    region = Region.parse(args.region)
    store = ParamStore()
    store.update(dict(parse_assignment(text) for text in args.assignments))
    return World(args.seed, store.snapshot()), region


def run_stage(args: argparse.Namespace) -> int:
    from backrooms.graph.recipe import check_span
    from backrooms.world.stage import write_stage

    check_span(0, args.frames, args.fps, "--frames")
    world, region = _world(args)
    began = time.perf_counter()
    try:
        shown = not args.quiet
        report = write_stage(world, region, args.out, frames=args.frames, fps=args.fps, progress=shown)
    except OSError as exc:
        raise UserError(f"--out {args.out}: cannot write ({exc.strerror or exc})") from None
    print(
        f"wrote {report.path}: {report.cells} cells, {report.instances} instances in {report.chunks} chunk "
        f"payloads, {args.frames} camera frames ({time.perf_counter() - began:.2f} s)"
    )
    if report.camera_leaves_at is not None:
        start = world.start_cell()
        print(
            f"note: the camera (which starts at cell {start[0]},{start[1]}) leaves the region at frame "
            f"{report.camera_leaves_at}; widen --region to keep it on stage"
        )
    return 0


def run_layout(args: argparse.Namespace) -> int:
    from backrooms.world.layout import generate_region
    from backrooms.world.layout_map import ascii_map, layout_json

    world, region = _world(args)
    if region.cells > 1_000_000:
        raise UserError(f"--region: {region.cells} cells is too many to print (at most 1,000,000)")
    cells = generate_region(world.spec, region.x0, region.z0, region.x1, region.z1)
    if args.json:
        print(json.dumps(layout_json(cells, world.spec.seed, world.spec.chunk_size)))
    else:
        print(ascii_map(cells))
    return 0
