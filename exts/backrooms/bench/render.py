"""Ray tracer speed: frames and rays per second with full shading.

Two walks: the fixed demo floor plan (``backrooms.render.demo``, comparable across versions) and the
real endless world (``backrooms.world.World``, seed 0, its autopilot camera and streamed chunks).
Rays per second count, per pixel that hits, the primary ray, the disocclusion ray, and per shading
sample the shadow rays and the occlusion ray (an upper bound: panels behind a surface get none).
"""

from __future__ import annotations

import os
import time

import warp as wp

from backrooms.bench.core import Measurement, best_of, targets
from backrooms.graph.product import INSTANCE_ID, RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from backrooms.world import World


class _Walk:
    """Cameras and views of a walk, computed before timing so only the renderer is measured."""

    def __init__(self, source: str, frames: int) -> None:
        if source == "demo":
            view = demo.view()
            self.cameras = [(demo.camera(f - 1), demo.camera(f)) for f in range(frames)]
            self.views = [view] * frames
        else:
            world = World(0, ParamStore().snapshot())
            self.cameras = [world.cameras(f, 24.0) for f in range(frames)]
            self.views = [world.view(cam.position) for _, cam in self.cameras]


def _measure(
    walk: _Walk, width: int, height: int, device: str, threads: int | None
) -> tuple[float, float, float]:
    """(wall seconds per frame, best of three runs; CPU seconds per frame, all threads; rays per second)."""
    settings = ParamStore().snapshot().node("render")
    scene = Scene(device)
    renderer = Renderer(width, height, device, threads=threads)
    product = RenderProduct(0, width, height, device)
    frames = len(walk.views)

    def clip() -> None:
        for f, ((previous, camera), view) in enumerate(zip(walk.cameras, walk.views, strict=True)):
            product.frame = f
            scene.update(view)
            renderer.render(scene, camera, previous, product, settings, seed=0)
        wp.synchronize_device(device)

    clip()  # compile and warm up
    cpu = time.process_time()
    seconds = best_of(clip) / frames
    cpu = (time.process_time() - cpu) / (3 * frames)
    hits = float((product[INSTANCE_ID].numpy() > 0).mean()) * width * height
    rays = hits * (2 + settings["spp"] * (settings["shadow_rays"] + 1))
    return seconds, cpu, rays / seconds


def _report(
    walk: str, label: str, size: tuple[int, int], device: str, frames: int, threads: int | None
) -> list[Measurement]:
    seconds, cpu, rays = _measure(_Walk(walk, frames), *size, device, threads)
    name = f"{walk} {size[0]}x{size[1]} {label}"
    return [
        Measurement(
            "render", f"{name} frame rate", 1.0 / seconds, "fps", f"{seconds * 1000:.1f} ms/frame wall"
        ),
        Measurement(
            "render", f"{name} CPU time", cpu * 1000, "ms/frame", "all threads; steady under contention"
        ),
        Measurement("render", f"{name} ray rate", rays / 1e6, "Mrays/s", "1 spp, 2 shadow rays, 1 AO ray"),
    ]


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    """Quick: 320x240 on all cores for both walks (< 30 s); full adds one thread and 640x480.
    CUDA (when asked for or present): 1280x720."""
    on_cpu, on_cuda = targets(device)
    frames = 3 if quick else 24
    threads = f"cpu {os.cpu_count() or 1} threads"
    results = []
    for walk in ("demo", "world"):
        if on_cpu:
            results += _report(walk, threads, (320, 240), "cpu", frames, None)
            if not quick:
                results += _report(walk, "cpu 1 thread", (320, 240), "cpu", frames, 1)
                results += _report(walk, threads, (640, 480), "cpu", frames // 4, None)
        if on_cuda:
            results += _report(walk, "cuda", (1280, 720), "cuda", frames * 2, None)
    return results
