"""``backrooms render --automation FILE``: a recorded live take replayed as a batch render.

The take carries the recipe (nodes, seed, size, fps) and every parameter value per frame, so the
render reproduces what was played byte for byte (on CPU). Options that would change it are refused;
``--start`` / ``--frames`` / ``--seconds`` (part of the take) and ``--device`` are allowed.
"""

from __future__ import annotations

import argparse

from backrooms.errors import UserError
from backrooms.graph.recipe import Recipe, parse_size
from backrooms.params.automation import Automation, load_automation
from backrooms.params.store import Snapshot

FIXED_BY_TAKE = {"recipe": "--recipe", "seed": "--seed", "size": "--size", "fps": "--fps"}


def replay_recipe(args: argparse.Namespace) -> tuple[Recipe, Snapshot, Automation]:
    """The recipe, the frame-0 parameters and the per-frame ``params_at`` of the take."""
    given = [flag for attr, flag in FIXED_BY_TAKE.items() if getattr(args, attr, None) is not None]
    if getattr(args, "assignments", None):
        given.append("--set")
    if given:
        raise UserError(f"--automation: the take fixes the recipe and parameters; drop {', '.join(given)}")
    take = load_automation(args.automation)
    header = take.recipe
    try:
        nodes = tuple(header["nodes"])
        width, height = parse_size(header["size"])
        recipe = Recipe(
            source=take.source,
            nodes=nodes,
            seed=int(header["seed"]),
            width=width,
            height=height,
            fps=float(header["fps"]),
            frames=take.frames,
            device=str(header["device"]),
            params=dict(take.initial),
            catalog=args.catalog,
        )
    except (KeyError, TypeError, ValueError, UserError) as exc:
        raise UserError(f"--automation {take.source}:1: the header's recipe is incomplete ({exc})") from None
    unknown = [n for n in nodes if n not in recipe.catalog]
    if unknown:
        raise UserError(f"--automation {take.source}:1: unknown node {unknown[0]!r}")
    recipe = recipe.with_overrides(
        device=getattr(args, "device", None),
        frames=getattr(args, "frames", None),
        seconds=getattr(args, "seconds", None),
    )
    return recipe, take.initial, take
