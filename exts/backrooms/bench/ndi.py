"""The live render path's frame rate with NDI out off and on, in one run, each as `backrooms live`
plays it: without NDI the graph leaves the audio node out (nothing hears it); with NDI every frame
and its sound are sent as an NDI source. The NDI figures need cyndilib (the ``live`` extra)."""

from __future__ import annotations

import time

from backrooms.bench.core import Measurement
from backrooms.control.session import GraphFrames
from backrooms.graph.recipe import Recipe
from backrooms.params import ParamStore

AREA = "ndi"
SIZE = (160, 120)


def _fps(render: GraphFrames, frames: int, sink=None) -> float:
    params = ParamStore().snapshot()
    render(0, params)  # kernels and caches warm
    began = time.perf_counter()
    for frame in range(1, frames + 1):
        rgb = render(frame, params)  # the frame ``render.latency`` before, None while the first are under way
        if sink is not None and rgb is not None:
            sink(frame - render.latency, rgb, params)
    return frames / (time.perf_counter() - began)


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    if device == "cuda":
        return []  # CPU-only measurements
    from backrooms.control.ndi import NdiSink, start_ndi

    frames = 24 if quick else 96
    recipe = Recipe("<bench>", ("render", "audio"), width=SIZE[0], height=SIZE[1], fps=24.0, frames=frames)
    note = f"render (+ audio with NDI) at {SIZE[0]}x{SIZE[1]}, {frames} frames, as fast as it goes"
    silent = GraphFrames(recipe, sound=False)
    results = [Measurement(AREA, "live render path, NDI off", _fps(silent, frames), "fps", note)]
    render = GraphFrames(recipe)
    output = start_ndi("backrooms-bench", *SIZE, recipe.fps)
    if output is not None:
        try:
            sink = NdiSink(output, lambda: render.audio)
            results.append(Measurement(AREA, "live render path, NDI on", _fps(render, frames, sink), "fps"))
        finally:
            output.close()
    return results
