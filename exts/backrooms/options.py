"""Command-line options shared by several commands, kept apart from ``cli`` so command modules
can use them without importing the parser that imports them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from backrooms.graph.recipe import DEVICES, MAX_SECONDS, MAX_SEED, frame_rate_problem

T = TypeVar("T", int, float)


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


def _at_most(parse: Callable[[str], T], high: T, shown: str) -> Callable[[str], T]:
    """``parse``, then no more than ``high`` (the clip's limits: ``graph.recipe``)."""

    def checked(text: str) -> T:
        value = parse(text)
        if value > high:
            raise argparse.ArgumentTypeError(f"must be at most {shown}, got {text!r}")
        return value

    return checked


seed = _at_most(count, MAX_SEED, str(MAX_SEED))
seconds = _at_most(positive_float, MAX_SECONDS, f"{MAX_SECONDS:.0f} (a day)")


def frame_rate(text: str) -> float:
    value = positive_float(text)
    if problem := frame_rate_problem(value):
        raise argparse.ArgumentTypeError(problem)
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
    parser.add_argument("--seed", type=seed, help="global seed (default: the recipe's)")
    parser.add_argument("--size", help="frame size WxH, e.g. 320x240 (default: the recipe's)")
    parser.add_argument("--fps", type=frame_rate, help="frames per second (default: the recipe's)")
    add_device_option(parser, None, "the recipe's")
    add_param_options(parser)


def add_device_option(parser: argparse.ArgumentParser, default: str | None, shown: str) -> None:
    """``--device cpu|cuda``, one definition for every command that runs Warp or torch."""
    parser.add_argument(
        "--device", choices=DEVICES, default=default, help=f"Warp/torch device (default: {shown})"
    )


def recipe_from_args(args: argparse.Namespace) -> tuple:
    """Load the recipe and apply CLI overrides; returns (recipe, params snapshot)."""
    from backrooms.graph.memory import check_memory
    from backrooms.graph.recipe import load_recipe, parse_size
    from backrooms.params import ParamStore, parse_assignment

    recipe = load_recipe(args.recipe, args.catalog)
    width, height = parse_size(args.size) if args.size else (None, None)
    recipe = recipe.with_overrides(
        seed=args.seed,
        width=width,
        height=height,
        fps=args.fps,
        device=args.device,
        frames=getattr(args, "frames", None),
        seconds=getattr(args, "seconds", None),
    )
    check_memory(recipe.width, recipe.height, recipe.device)
    store = ParamStore(values=recipe.params)
    store.update(dict(parse_assignment(text) for text in args.assignments))
    snapshot = store.snapshot()
    if "render" in recipe.nodes:  # before a command opens anything (live printed its ports first)
        from backrooms.world.world import check_neighbourhood

        check_neighbourhood(snapshot["world.chunk_size"], snapshot["world.load_radius"])
    return recipe.with_params(snapshot), snapshot
