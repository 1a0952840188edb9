"""The ``backrooms`` command: one subcommand per job, each documented by ``--help``."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import NoReturn

from backrooms import __version__
from backrooms.errors import NO_ROOM, NoRoom, UserError
from backrooms.graph.catalog import CATALOG, Catalog
from backrooms.options import add_render_options, count, recipe_from_args, seconds
from backrooms.scale.engine import add_engine_options, engine_from_args
from backrooms.warp_start import hush_warp, start_warp

# Areas plug their subcommands in here: each module has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "backrooms.bench.commands",
    "backrooms.diffusion.commands",
    "backrooms.world.commands",
    "backrooms.control.commands",
    "backrooms.decay.commands",
    "backrooms.render.commands",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line instead of usage plus message, and takes no
    abbreviated option: ``tune --checkpoint X`` would otherwise be read as ``--checkpoint-every X``."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{self.prog}: {message}")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="backrooms",
        description="Endless Backrooms hallways: render, stylise, decay like VHS, play live over OSC.",
        epilog="Each command documents itself: backrooms COMMAND --help.",
    )
    parser.add_argument("--version", action="version", version=f"backrooms {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    sub.required = True

    render = sub.add_parser("render", help="render a clip (PNG frames, MP4, manifest) with the embedded host")
    add_render_options(render)
    render.add_argument("--start", type=count, default=0, help="first frame index (default 0)")
    length = render.add_mutually_exclusive_group()
    length.add_argument("--frames", type=count, help="number of frames (default: the recipe's)")
    length.add_argument("--seconds", type=seconds, help="clip length in seconds (at most a day)")
    render.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    render.add_argument("--resume", action="store_true", help="keep finished frames of an interrupted render")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.add_argument("--automation", type=Path, metavar="FILE", help="replay a take from `live --record`")
    add_engine_options(render)
    render.set_defaults(func=run_render, no_room="the frames written are kept: make room and add --resume")

    params = sub.add_parser(
        "params",
        help="list every parameter (name, type, range, unit, OSC address) and the value a render uses",
    )
    params.add_argument("--json", action="store_true", help="machine-readable output")
    params.add_argument(
        "--recipe", type=Path, help="show the values this recipe renders with (default: the built-in recipe)"
    )
    params.add_argument("node", nargs="?", help="only this node's parameters")
    params.set_defaults(func=run_params)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def run_render(args: argparse.Namespace) -> int:
    from backrooms.batch import render_clip
    from backrooms.graph.recipe import check_span

    params_at = None
    if args.automation:
        from backrooms.control.replay import replay_recipe

        recipe, params, params_at = replay_recipe(args)
    else:
        recipe, params = recipe_from_args(args)
    if recipe.frames == 0:
        raise UserError("--frames: nothing to render (0 frames)")
    check_span(args.start, recipe.frames, recipe.fps, "--start" if args.start else "--frames")
    engine = engine_from_args(args)
    if args.shard:
        from backrooms.batch import render_one_shard

        done = render_one_shard(recipe, params, args.out, args.shard, start=args.start, params_at=params_at)
        print(f"rendered {done} frames of shard {args.shard[0]}/{args.shard[1]} into {args.out}")
        return 0
    manifest = render_clip(
        recipe,
        params,
        args.out,
        start=args.start,
        resume=args.resume,
        progress=not args.quiet,
        engine=engine,
        params_at=params_at,
    )
    count = len(manifest.frames)
    print(f"wrote {count} frame{'' if count == 1 else 's'} and {args.out / manifest.video}")
    return 0


def run_params(args: argparse.Namespace) -> int:
    """The registry as a table; VALUE is what a render with the recipe uses (its own values marked *)."""
    from backrooms.graph.recipe import load_recipe
    from backrooms.params import REGISTRY

    recipe = load_recipe(args.recipe, args.catalog)
    params = [p for p in REGISTRY if args.node in (None, p.node)]
    if args.node and not params:
        raise UserError(f"no parameters for node {args.node!r} (nodes: {', '.join(REGISTRY.nodes())})")
    if args.json:
        rows = [{**p.to_json(), "value": recipe.params.get(p.key, p.default)} for p in params]
        print(json.dumps(rows, indent=2))
        return 0
    rows = [("PARAMETER", "TYPE", "VALUE", "DEFAULT", "RANGE", "UNIT", "DESCRIPTION")]
    for p in params:
        span = "|".join(p.choices) if p.choices else ("" if p.min is None else f"{p.min}..{p.max}")
        value = f"{recipe.params[p.key]}*" if p.key in recipe.params else str(p.default)
        rows.append((p.key, p.type.__name__, value, str(p.default), span, p.unit, p.description))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[6])
    print(f"* set by the recipe ({recipe.source})")
    return 0


def main(argv: list[str] | None = None, catalog: Catalog = CATALOG) -> int:
    """Run one command; ``catalog`` is what recipe node names mean (a host with its own nodes passes one)."""
    hush_warp()
    args = None
    try:
        args = build_parser().parse_args(argv)
        args.catalog = catalog
        start_warp()  # 20 ms, here rather than wherever a command first touches Warp
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a reader that has gone is seen here, not at exit
        return code
    except BrokenPipeError:
        # The reader (``| head``) stopped reading: stop quietly, as Unix tools do on SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except (NoRoom, OSError) as exc:
        if not isinstance(exc, NoRoom):  # a write that no atomic writer wraps (an encoder's, a library's own)
            if exc.errno not in NO_ROOM:
                raise
            exc = NoRoom.of(exc.filename or getattr(args, "out", None) or "a file", exc)
        hint = getattr(args, "no_room", None)
        print(f"backrooms: error: {exc}" + (f"; {hint}" if hint else ""), file=sys.stderr)
        return 2
    except UserError as exc:
        print(f"backrooms: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("backrooms: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
