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
from backrooms.errors import UserError
from backrooms.scale.engine import add_engine_options, engine_from_args

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
    """argparse that reports a bad argument as one line instead of usage plus message."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{self.prog}: {message}")


def count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def add_param_options(parser: argparse.ArgumentParser) -> None:
    """``--set node.param=value``, shared by every command that runs nodes."""
    parser.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NODE.PARAM=VALUE",
        help="set a parameter (repeatable); see `backrooms params`",
    )


def add_render_options(parser: argparse.ArgumentParser) -> None:
    """The recipe and output options of ``render`` (shared with other commands that run a recipe)."""
    parser.add_argument("--recipe", type=Path, help="recipe TOML file (default: the built-in recipe)")
    parser.add_argument("--seed", type=count, help="global seed (default: the recipe's)")
    parser.add_argument("--size", help="frame size WxH, e.g. 320x240 (default: the recipe's)")
    parser.add_argument("--fps", type=positive_float, help="frames per second (default: the recipe's)")
    parser.add_argument("--device", choices=("cpu", "cuda"), help="Warp/torch device (default: the recipe's)")
    add_param_options(parser)


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
    length.add_argument("--seconds", type=positive_float, help="clip length in seconds")
    render.add_argument("--out", type=Path, default=Path("out"), help="output folder (default: out)")
    render.add_argument("--resume", action="store_true", help="keep finished frames of an interrupted render")
    render.add_argument("--quiet", action="store_true", help="no progress bar")
    render.add_argument("--automation", type=Path, metavar="FILE", help="replay a take from `live --record`")
    add_engine_options(render)
    render.set_defaults(func=run_render)

    params = sub.add_parser("params", help="list every parameter (name, type, range, unit, OSC address)")
    params.add_argument("--json", action="store_true", help="machine-readable output")
    params.add_argument("node", nargs="?", help="only this node's parameters")
    params.set_defaults(func=run_params)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


def recipe_from_args(args: argparse.Namespace):
    """Load the recipe and apply CLI overrides; returns (recipe, params snapshot)."""
    from backrooms.graph.memory import check_memory
    from backrooms.graph.recipe import load_recipe, parse_size
    from backrooms.params import ParamStore, parse_assignment

    recipe = load_recipe(args.recipe)
    width, height = parse_size(args.size) if args.size else (None, None)
    recipe = recipe.with_overrides(
        seed=args.seed, width=width, height=height, fps=args.fps, device=args.device
    )
    if getattr(args, "frames", None) is not None:
        recipe = recipe.with_overrides(frames=args.frames)
    elif getattr(args, "seconds", None) is not None:
        recipe = recipe.with_overrides(frames=max(1, round(args.seconds * recipe.fps)))
    check_memory(recipe.width, recipe.height, recipe.device)
    store = ParamStore(values=recipe.params)
    store.update(dict(parse_assignment(text) for text in args.assignments))
    return recipe, store.snapshot()


def run_render(args: argparse.Namespace) -> int:
    from backrooms.batch import render_clip

    params_at = None
    if args.automation:
        from backrooms.control.replay import replay_recipe

        recipe, params, params_at = replay_recipe(args)
    else:
        recipe, params = recipe_from_args(args)
    if recipe.frames == 0:
        raise UserError("--frames: nothing to render (0 frames)")
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
    print(f"wrote {len(manifest.frames)} frames and {args.out / manifest.video}")
    return 0


def run_params(args: argparse.Namespace) -> int:
    from backrooms.graph.catalog import declare_all
    from backrooms.params import REGISTRY

    declare_all()
    params = [p for p in REGISTRY if args.node in (None, p.node)]
    if args.node and not params:
        raise UserError(f"no parameters for node {args.node!r} (nodes: {', '.join(REGISTRY.nodes())})")
    if args.json:
        print(json.dumps([p.to_json() for p in params], indent=2))
        return 0
    rows = [("PARAMETER", "TYPE", "DEFAULT", "RANGE", "UNIT", "DESCRIPTION")]
    for p in params:
        span = "|".join(p.choices) if p.choices else ("" if p.min is None else f"{p.min}..{p.max}")
        rows.append((p.key, p.type.__name__, str(p.default), span, p.unit, p.description))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[5])
    return 0


def main(argv: list[str] | None = None) -> int:
    import warp

    warp.config.log_level = warp.LOG_WARNING  # no banner or module-load lines around the progress bar
    try:
        args = build_parser().parse_args(argv)
        code = args.func(args)
        sys.stdout.flush()  # inside the try: a reader that has gone is seen here, not at exit
        return code
    except BrokenPipeError:
        # The reader (``| head``) stopped reading: stop quietly, as Unix tools do on SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except UserError as exc:
        print(f"backrooms: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("backrooms: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
