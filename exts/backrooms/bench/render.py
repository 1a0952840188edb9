"""Ray tracer speed: frames and rays per second for the demo corridor, with full shading.

The view is the fixed demo floor plan (``backrooms.render.demo``), walking down its middle
corridor, so figures compare across versions. Rays per second count, per pixel that hits,
the primary ray, the disocclusion ray, and per shading sample the shadow rays and the occlusion ray
(an upper bound: panels behind a surface get no shadow ray).
"""

from __future__ import annotations

import os

import warp as wp

from backrooms.bench.core import Measurement, best_of
from backrooms.graph.product import INSTANCE_ID, RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene


def _measure(width: int, height: int, device: str, frames: int, threads: int | None) -> tuple[float, float]:
    """(seconds per frame, rays per second), best of three runs of ``frames`` consecutive frames."""
    settings = ParamStore().snapshot().node("render")
    scene = Scene.from_view(demo.view(), device)
    renderer = Renderer(width, height, device, threads=threads)
    product = RenderProduct(0, width, height, device)

    def clip() -> None:
        for f in range(frames):
            product.frame = f
            renderer.render(scene, demo.camera(f), demo.camera(f - 1), product, settings, seed=0)
        wp.synchronize_device(device)

    clip()  # compile and warm up
    seconds = best_of(clip) / frames
    hits = float((product[INSTANCE_ID].numpy() > 0).mean()) * width * height
    rays = hits * (2 + settings["spp"] * (settings["shadow_rays"] + 1))
    return seconds, rays / seconds


def _report(
    label: str, width: int, height: int, device: str, frames: int, threads: int | None
) -> list[Measurement]:
    seconds, rays = _measure(width, height, device, frames, threads)
    name = f"{width}x{height} {label}"
    return [
        Measurement("render", f"{name} frame rate", 1.0 / seconds, "fps", f"{seconds * 1000:.1f} ms/frame"),
        Measurement("render", f"{name} ray rate", rays / 1e6, "Mrays/s", "1 spp, 2 shadow rays, 1 AO ray"),
    ]


def run(quick: bool) -> list[Measurement]:
    wp.init()
    frames = 4 if quick else 24
    cores = os.cpu_count() or 1
    results = _report(f"cpu {cores} threads", 320, 240, "cpu", frames, None)
    results += _report("cpu 1 thread", 320, 240, "cpu", frames, 1)
    results += _report(f"cpu {cores} threads", 640, 480, "cpu", max(2, frames // 4), None)
    if wp.is_cuda_available():
        results += _report("cuda", 1280, 720, "cuda", frames * 2, None)
    return results
