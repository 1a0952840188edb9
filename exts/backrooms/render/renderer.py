"""The frame renderer: owns per-resolution buffers and launches the kernels for one camera pair."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import warp as wp

from backrooms.graph.product import (
    DEPTH,
    DISOCCLUSION,
    INSTANCE_ID,
    MOTION_VECTORS,
    NORMALS,
    RADIANCE,
    RGB,
    RenderProduct,
)
from backrooms.launch import TRACE_NICE, Bands
from backrooms.render import kernels
from backrooms.render import params as _params  # noqa: F401  (declares render.* knobs)
from backrooms.render.bins import Binner
from backrooms.render.camera import camera_data
from backrooms.render.lighting import haze_light, light_gains
from backrooms.render.scene import Scene
from backrooms.seeds import warp_seed
from backrooms.world.types import Camera

AOVS = (DEPTH, NORMALS, MOTION_VECTORS, INSTANCE_ID, DISOCCLUSION, RADIANCE)  # the pixel kernel's outputs
BURST_FRAMES = 6  # a flickering panel decides whether to stutter once per this many frames


class Renderer:
    """Renders ``Scene`` + cameras into a :class:`RenderProduct`; no allocation per frame.

    A Warp CPU launch runs on one thread and releases the GIL, so on CPU each thread of a small pool
    (``threads``, default: all cores) launches over an interleaved set of rows. Every pixel is
    computed on its own, so the bytes do not depend on the layout.
    """

    def __init__(self, width: int, height: int, device: str = "cpu", threads: int | None = None) -> None:
        self.width = width
        self.height = height
        self.device = device
        self._haze_light = wp.zeros(1, dtype=wp.float32, device=device)
        self._srgb = wp.array(kernels.srgb_table(), dtype=wp.uint8, device=device)
        self._bins = Binner(width, height, device)  # tiles for rays from this frame's camera ...
        self._back_bins = Binner(width, height, device)  # ... and from the one disocclusion looks back to
        self._threads = Bands(device, threads, "render", TRACE_NICE, rows=height)
        # one band per thread, rows interleaved: ceilings are cheap and floors dear, so every thread
        # takes some of each and they finish together
        step = self._threads.count
        self._bands = [(first, -(-(height - first) // step)) for first in range(step)]
        wp.load_module(kernels, device=device)  # load once up front, never from several threads at once

    def render(
        self,
        scene: Scene,
        camera: Camera,
        previous: Camera,
        product: RenderProduct,
        settings: Mapping[str, Any],
        seed: int,
    ) -> None:
        """Write every AOV of ``product`` for ``camera``, with motion measured against ``previous``.

        ``settings`` holds the ``render.*`` values by bare name (``Snapshot.node("render")``).
        """
        self.trace(scene, camera, previous, product, settings, seed)
        self.expose(product, settings["exposure"])

    def expose(self, product: RenderProduct, exposure: float, listed: wp.array | None = None) -> None:
        """``rgb`` from ``radiance`` at ``exposure`` EV (any product size: the upscaler's too); only at
        the pixels ``listed`` (y * width + x) when given."""
        inputs = [product.allocate(RADIANCE), 2.0**exposure, self._srgb]
        rgb = [product.allocate(RGB)]
        if listed is None:
            wp.launch(kernels.expose, (product.height, product.width), inputs, rgb, device=product.device)
        else:
            wp.launch(kernels.expose_listed, listed.shape, [*inputs, listed], rgb, device=product.device)

    def trace(
        self,
        scene: Scene,
        camera: Camera,
        previous: Camera,
        product: RenderProduct,
        settings: Mapping[str, Any],
        seed: int,
        jitter: tuple[float, float] = (0.0, 0.0),
        since: Camera | None = None,
        listed: wp.array | None = None,
    ) -> None:
        """Every AOV but ``rgb``: ``radiance`` is the light before exposure (``expose`` makes ``rgb``).

        ``jitter``: where in its pixel each primary ray passes, in pixels from the centre (below
        full size, a different place every frame: see :func:`backrooms.render.upscale.jitter`).
        ``since``: the camera ``disocclusion`` looks back to (default ``previous``, as the motion
        vectors do); with frame generation the last traced frame's, whose output the diffusion node
        remembers. ``listed``: trace just these pixels (y * width + x, as ``render.uncovered``
        lists them), the rest of the product kept as it is."""
        if (product.width, product.height) != (self.width, self.height):
            raise ValueError(
                f"product is {product.width}x{product.height}, renderer is {self.width}x{self.height}"
            )
        frame, s, data = product.frame, settings, scene.data
        cam = camera_data(camera, self.width, self.height, s["fov"], s["distortion"])
        prev = camera_data(previous, self.width, self.height, s["fov"], s["distortion"])
        further = since is not None and since is not previous  # another camera: one more projection
        since = since if further else previous
        back = camera_data(since, self.width, self.height, s["fov"], s["distortion"]) if further else prev
        aovs = [product.allocate(name) for name in AOVS]
        self.light(scene, frame, s, seed)
        if data.light_count:
            eye = cam.position
            wp.launch(haze_light, 1, [data, eye, s["light_radius"], self._haze_light], device=self.device)
        else:
            self._haze_light.zero_()
        moved = bool(np.any(camera.position != since.position))
        now_key, back_key = (_view_key(scene, c, s) for c in (camera, since))
        if self._bins.key == back_key != self._back_bins.key:  # looking back to the last frame traced
            self._bins, self._back_bins = self._back_bins, self._bins
        bins = self._bins.bin(scene, cam, now_key)
        back_bins = self._back_bins.bin(scene, back, back_key) if moved else bins  # unmoved: no disocclusion
        shading = kernels.Shading()
        shading.noise_seed = warp_seed(seed, "render.noise", frame)
        shading.pattern_salt = warp_seed(seed, "render.surface") & 0xFFFF
        shading.spp = s["spp"]
        shading.shadow_rays = s["shadow_rays"]
        shading.light_radius = s["light_radius"]
        shading.ambient = s["ambient"]
        shading.ao_strength = s["ao"]
        shading.ao_radius = s["ao_radius"]
        shading.haze = s["haze"]
        shading.wear = s["wear"]
        shading.radiance = s["radiance"]
        shading.haze_light = self._haze_light
        shading.jitter = wp.vec2(*jitter)
        inputs = [cam, prev, back, further, moved, bins, back_bins, shading]
        if listed is None:
            self._launch_rows(kernels.pixels, inputs, aovs, data)
            return
        self._threads.launch_split(kernels.listed_pixels, listed.shape[0], [data, listed, *inputs], aovs)

    def light(self, scene: Scene, frame: int, settings: Mapping[str, Any], seed: int) -> None:
        """Set every loaded panel's radiance for ``frame`` (``scene.data.light_gain``): all a frame
        that is not traced still needs (the audio node hears the panels of every frame)."""
        s, data = settings, scene.data
        scene.reach_lights(s["light_radius"])
        if data.light_count:
            seeds = [
                warp_seed(seed, "render.light", frame),
                warp_seed(seed, "render.light_burst", frame // BURST_FRAMES),
                warp_seed(seed, "render.blackout"),
                warp_seed(seed, "render.hum", frame),
            ]
            knobs = [s["radiance"], s["flicker"], s["stutter"], s["blackout"], s["hum"]]
            wp.launch(light_gains, data.light_count, [data, *seeds, *knobs], device=self.device)

    def _launch_rows(self, kernel: wp.Kernel, inputs: list, outputs: list, scene: object) -> None:
        """Launch ``kernel(scene, row0, row_step, *inputs, *outputs)`` over the image; on CPU each
        thread takes every ``row_step``-th row from its own first one."""
        step = self._threads.count
        launches = [((rows, self.width), [scene, first, step, *inputs]) for first, rows in self._bands]
        self._threads.launch(kernel, launches, outputs)


def _view_key(scene: Scene, camera: Camera, settings: Mapping[str, Any]) -> tuple:
    """What camera tiles depend on: the scene's instances, the camera, and the lens."""
    pose = camera.position.tobytes() + camera.rotation.tobytes()
    return scene.upload, pose, camera.fov_y, settings["fov"], settings["distortion"]
