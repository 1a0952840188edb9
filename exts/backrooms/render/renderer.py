"""The frame renderer: owns per-resolution buffers and launches the kernels for one camera pair."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import warp as wp

from backrooms.graph.product import (
    DEPTH,
    DISOCCLUSION,
    INSTANCE_ID,
    MOTION_VECTORS,
    NORMALS,
    RGB,
    RenderProduct,
)
from backrooms.render import params as _params  # noqa: F401  (declares render.* knobs)
from backrooms.render.camera import camera_data
from backrooms.render.kernels import primary, shade
from backrooms.render.lighting import light_gains
from backrooms.render.scene import Scene
from backrooms.seeds import warp_seed
from backrooms.world.types import Camera

AOVS = (RGB, DEPTH, NORMALS, MOTION_VECTORS, INSTANCE_ID, DISOCCLUSION)
BURST_FRAMES = 6  # a flickering panel decides whether to stutter once per this many frames


class Renderer:
    """Renders ``Scene`` + cameras into a :class:`RenderProduct`; no allocation per frame."""

    def __init__(self, width: int, height: int, device: str = "cpu") -> None:
        self.width = width
        self.height = height
        self.device = device
        self._material = wp.zeros((height, width), dtype=wp.int32, device=device)

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
        if (product.width, product.height) != (self.width, self.height):
            raise ValueError(
                f"product is {product.width}x{product.height}, renderer is {self.width}x{self.height}"
            )
        frame = product.frame
        s = settings
        cam = camera_data(camera, self.width, self.height, s["fov"], s["distortion"])
        prev = camera_data(previous, self.width, self.height, s["fov"], s["distortion"])
        out = {name: product.allocate(name) for name in AOVS}
        data = scene.data
        if data.light_count:
            wp.launch(
                light_gains,
                dim=data.light_count,
                inputs=[
                    data,
                    warp_seed(seed, "render.light", frame),
                    warp_seed(seed, "render.light_burst", frame // BURST_FRAMES),
                    warp_seed(seed, "render.light_failure"),
                    warp_seed(seed, "render.hum", frame),
                    s["radiance"],
                    s["flicker"],
                    s["flicker_rate"],
                    s["failure"],
                    s["hum"],
                ],
                device=self.device,
            )
        dim = (self.height, self.width)
        wp.launch(
            primary,
            dim=dim,
            inputs=[data, cam, prev],
            outputs=[
                out[DEPTH],
                out[NORMALS],
                out[MOTION_VECTORS],
                out[INSTANCE_ID],
                out[DISOCCLUSION],
                self._material,
            ],
            device=self.device,
        )
        wp.launch(
            shade,
            dim=dim,
            inputs=[
                data,
                cam,
                out[DEPTH],
                out[NORMALS],
                out[INSTANCE_ID],
                self._material,
                warp_seed(seed, "render.noise", frame),
                warp_seed(seed, "render.surface") & 0xFFFF,
                s["spp"],
                s["shadow_rays"],
                s["light_radius"],
                s["ambient"],
                s["ao"],
                s["ao_radius"],
                s["haze"],
                s["wear"],
                s["radiance"],
                2.0 ** s["exposure"],
            ],
            outputs=[out[RGB]],
            device=self.device,
        )
