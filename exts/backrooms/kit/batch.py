"""Headless batch render inside Kit: N frames of the hallway walk, RTX + our diffusion + decay.

Run by Kit, not by Python (see docs/kit.md):
  kit <app>.kit --no-window --ext-folder <folder holding backrooms/> --enable backrooms \\
      --/app/asyncRendering=false --exec "<repo>/exts/backrooms/kit/batch.py --frames 48 --seed 7"
or, Replicator's convention (options then come from ``--/exts/backrooms/<name>=`` settings):
  kit ... --enable backrooms --/exts/backrooms/frames=48 --/omni/replicator/script=<abs path to this file>

The extension must be enabled (it registers the randomizer and the writer); pass
``--/exts/backrooms/panel=false`` without a window.

Seeds: ``rep.set_global_seed(seed)`` for Replicator's distributions; the same seed is the run seed
of our nodes, whose randomness is keyed by (seed, purpose, frame), so frame f is the same frame in
any run that contains it.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import carb.settings
import omni.kit.app
import omni.kit.async_engine
import omni.replicator.core as rep
import omni.usd

from backrooms.graph.recipe import load_recipe, parse_size
from backrooms.kit import hallway, writer
from backrooms.kit.settings import KitSettings
from backrooms.kit.walk import write_walk_stage
from backrooms.params import ParamStore


def parse_args(argv: list[str], defaults: KitSettings) -> tuple[KitSettings, str | None]:
    parser = argparse.ArgumentParser(prog="backrooms.kit.batch", description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=defaults.frames)
    parser.add_argument("--start", type=int, default=defaults.start)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--fps", type=float, default=defaults.fps)
    parser.add_argument("--out", dest="output_dir", default=defaults.output_dir)
    parser.add_argument("--recipe", default=defaults.recipe)
    parser.add_argument("--rt-subframes", dest="rt_subframes", type=int, default=defaults.rt_subframes)
    parser.add_argument(
        "--reshuffle-every", dest="reshuffle_every", type=int, default=defaults.reshuffle_every
    )
    parser.add_argument("--size", help="WxH (default: the recipe's)")
    args = vars(parser.parse_known_args(argv)[0])  # Kit's own flags may be in argv too
    size = args.pop("size")
    return dataclasses.replace(defaults, **args), size


def on_frame(frames: int):
    """``rep.trigger.on_frame`` for ``frames`` frames (``max_execs``; older builds: ``num_frames``)."""
    try:
        return rep.trigger.on_frame(max_execs=frames)
    except TypeError:
        return rep.trigger.on_frame(num_frames=frames)


async def render(argv: list[str]) -> None:
    settings, size = parse_args(argv, KitSettings.read(carb.settings.get_settings().get))
    recipe = load_recipe(settings.recipe or None)
    width, height = parse_size(size) if size else (recipe.width, recipe.height)
    out = Path(settings.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    frames = list(range(settings.start, settings.start + settings.frames))

    rep.set_global_seed(settings.seed)
    rep.settings.carb_settings("/omni/replicator/RTSubframes", settings.rt_subframes)
    params = ParamStore(values=recipe.params).snapshot()
    stage_file = out / "hallway.usda"
    camera = write_walk_stage(
        stage_file,
        seed=settings.seed,
        start=settings.start,
        frames=settings.frames,
        fps=settings.fps,
        params=params,
    )
    omni.usd.get_context().open_stage(str(stage_file))

    hallway.add_triggers(settings.reshuffle_every)
    with on_frame(settings.frames):
        rep.modify.timeline(rep.distribution.sequence(frames), "frame")
    render_product = rep.create.render_product(camera, (width, height))
    backrooms_writer = rep.WriterRegistry.get(writer.WRITER)
    backrooms_writer.initialize(
        output_dir=str(out),
        recipe=settings.recipe,
        seed=settings.seed,
        start=settings.start,
        fps=settings.fps,
        device="cuda",
    )
    backrooms_writer.attach([render_product])
    try:
        # Also waits for the writer's last frames (wait_until_complete_async).
        await rep.orchestrator.run_until_complete_async(num_frames=settings.frames)
    finally:
        backrooms_writer.detach()
        render_product.destroy()


async def main(argv: list[str]) -> None:
    """Render, then quit Kit (exit code 1 when the render failed, so a headless run never hangs)."""
    try:
        await render(argv)
    except BaseException:
        omni.kit.app.get_app().post_quit(1)
        raise
    omni.kit.app.get_app().post_quit()


# Kit runs this script inside its own event loop, where Replicator's synchronous run_until_complete
# refuses to run (it is for standalone Python): the render runs as a coroutine on Kit's loop.
omni.kit.async_engine.run_coroutine(main(sys.argv[1:]))
