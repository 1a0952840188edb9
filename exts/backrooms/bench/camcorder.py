"""The camcorder node: each stage's milliseconds per frame at 320x240, and what it costs the chain.

Stages are timed on a real rendered frame (seed 0) resident on the device, every effect on at its
default. The chain figure renders the same frames with the default recipe with and without the
camcorder, in one run, so both see the same machine load.
"""

from __future__ import annotations

import time

import warp as wp

from backrooms.bench.core import Measurement, best_of, targets
from backrooms.camcorder.exposure import Servos
from backrooms.camcorder.params import NODE
from backrooms.camcorder.pipeline import Camcorder
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DEPTH, MOTION_VECTORS, RGB, RenderProduct
from backrooms.graph.recipe import load_recipe
from backrooms.params import ParamStore

AREA = "camcorder"
WIDTH, HEIGHT, FPS = 320, 240, 24.0


def stage_ms(frames: int, device: str = "cpu") -> dict[str, tuple[float, float]]:
    """Milliseconds per frame of each stage: (wall clock, best of three runs of ``frames`` frames;
    CPU time of the process, all launch bands together, the least of the three, which other load
    inflates less)."""
    params = ParamStore(values=load_recipe().params).snapshot()
    context = GraphContext(0, WIDTH, HEIGHT, FPS, device)
    source = Executor(("render",), context, lambda f: params).render(12)
    values = params.node(NODE)
    camera = Camcorder(WIDTH, HEIGHT, device)
    servos = Servos(FPS, 0)
    product = RenderProduct(12, WIDTH, HEIGHT, device)
    for name in (RGB, DEPTH, MOTION_VECTORS):
        product.load(name, source[name])
    original = wp.clone(product[RGB])
    depth, motion, rgb = product[DEPTH], product[MOTION_VECTORS], product[RGB]
    auto = servos.update(0, camera.meter(rgb, depth, values), values)

    def meter() -> None:
        for f in range(frames):
            servos.update(f, camera.meter(original, depth, values), values)

    def spill() -> None:
        for _ in range(frames):
            camera.spill(auto.ev)
        wp.synchronize_device(device)

    def expose() -> None:
        for f in range(frames):
            camera.expose(auto, values, depth, motion, FPS, f, rgb)
        wp.synchronize_device(device)

    def whole() -> None:
        for f in range(frames):
            wp.copy(rgb, original)
            a = servos.update(f, camera.meter(rgb, depth, values), values)
            camera.spill(a.ev)
            camera.expose(a, values, depth, motion, FPS, f, rgb)
        wp.synchronize_device(device)

    def cpu_seconds(fn) -> float:
        began = time.process_time()
        fn()
        return time.process_time() - began

    out = {}
    for name, fn in (("meter", meter), ("spill", spill), ("expose", expose), ("all", whole)):
        fn()  # compile and warm up
        wall = best_of(fn) / frames
        cpu = min(cpu_seconds(fn) for _ in range(3)) / frames
        out[name] = (1e3 * wall, 1e3 * cpu)
    return out


def chain_fps(frames: int, with_camcorder: bool) -> float:
    """Frames per second of the default recipe at 320x240 (world, render, diffusion, [camcorder], decay)."""
    recipe = load_recipe().with_overrides(width=WIDTH, height=HEIGHT)
    kinds = [n for n in recipe.nodes if with_camcorder or n != NODE]
    params = ParamStore(values=recipe.params).snapshot()
    context = GraphContext(recipe.seed, WIDTH, HEIGHT, recipe.fps, recipe.device)
    executor = Executor(kinds, context, lambda f: params)
    executor.render(0)  # build the world, compile, load the model
    began = time.perf_counter()
    for f in range(1, frames + 1):
        executor.render(f)
    return frames / (time.perf_counter() - began)


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    on_cpu, on_cuda = targets(device)
    out = [] if not on_cpu else cpu_figures(quick)
    if on_cuda:
        wall, _ = stage_ms(100, "cuda")["all"]
        out.append(Measurement(AREA, "320x240 all, CUDA", wall, "ms/frame", wp.get_device("cuda").name))
    return out


def cpu_figures(quick: bool) -> list[Measurement]:
    ms = stage_ms(5 if quick else 30)
    notes = {
        "meter": "decode to scene light (lens: vignette, aberration) + metering + servos",
        "spill": "highlights, smear columns, bloom blur (quarter resolution)",
        "expose": "shutter/field/focus taps, gain, bloom, smear, noise, white balance, tone curve",
        "all": "the node's work per frame; target < 8 ms",
    }
    out = []
    for name, (wall, cpu) in ms.items():
        out.append(Measurement(AREA, f"320x240 {name}, CPU", wall, "ms/frame", f"wall clock; {notes[name]}"))
        out.append(Measurement(AREA, f"320x240 {name}, CPU time", cpu, "ms/frame", "process CPU time"))
    frames = 6 if quick else 24
    before, after = chain_fps(frames, False), chain_fps(frames, True)
    out += [
        Measurement(AREA, "default chain 320x240 without camcorder", before, "fps", "CPU, wall clock"),
        Measurement(AREA, "default chain 320x240 with camcorder", after, "fps", "CPU, same run"),
    ]
    return out
