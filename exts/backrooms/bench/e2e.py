"""End to end: the README's main job, timed as `backrooms render --frames 48 --size 320x240`."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from backrooms.batch import render_clip
from backrooms.bench.core import Measurement
from backrooms.graph.recipe import load_recipe
from backrooms.params import ParamStore


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    """On the CPU (``cpu``/``auto``), or on CUDA alone (``cuda``)."""
    frames = 12 if quick else 48
    target = "cuda" if device == "cuda" else "cpu"
    recipe = load_recipe().with_overrides(frames=frames, width=320, height=240, device=target)
    params = ParamStore(values=recipe.params).snapshot()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        render_clip(recipe, params, Path(tmp), progress=False)
        seconds = time.perf_counter() - began
    return [
        Measurement(
            "e2e",
            f"render {frames} frames 320x240 {target} (default recipe)",
            seconds,
            "s",
            "includes start-up",
        ),
        Measurement("e2e", f"render throughput 320x240 {target}", frames / seconds, "fps"),
    ]
