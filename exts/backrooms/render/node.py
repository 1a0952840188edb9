"""The ``render`` node: asks the world for the camera and the loaded neighbourhood, then ray traces
every AOV of the frame into the render product.

Beside the AOVs it leaves what other nodes (the audio node) need to know about the frame in
``product.meta``:

- ``lights``: the loaded ceiling panels: ``position`` (N, 3) metres, ``intensity`` (N,) relative
  brightness of a healthy panel, ``on`` (N,) bool (dead or blacked-out panels are off), ``flicker``
  (N,) how deep the panel dips below its healthy brightness this frame (0..1, flickering panels
  only), ``key`` (N,) stable panel keys, ``gain`` (N,) each panel's radiance this frame (the hum,
  flicker and blackouts included) and ``half_size`` (N, 2) metres along X and Z;
- ``shading``: how far the panels' light reaches and how much of it bounces (``reach``, ``ambient``:
  ``render.light_radius``, ``render.ambient``), the radiance a panel emits per unit of gain
  (``panel_emission``) and the albedo of its diffuser (``panel_albedo``, RGB), the haze's density
  (``haze``) and the frame's exposure scale (``exposure``, 2^``render.exposure``, set when the
  frame is finished); with ``lights``, what a generated frame is re-lit by;
- ``traced``: False on a frame the diffusion node generates (``diffusion.generate`` > 1): then only
  ``lights`` and ``camera`` are new, the AOV buffers are the diffusion node's to fill;
- ``revealed_since``: on a traced frame, the frame its ``disocclusion`` looks back to: the one
  before, or with ``diffusion.generate`` = k > 1 the last traced one (k frames back), whose output
  the diffusion node remembers (the motion vectors always look one frame back);
- ``camera``: the pose rendered and the operator's gait (docs/world.md): ``position``, ``rotation``,
  ``forward``, ``right``, ``fov_y``, ``steps``, ``step_phase``, ``speed``, ``walking``; the previous
  frame's ``position``, ``rotation``, ``forward`` and ``right`` under ``previous``; ``lens`` =
  (``render.fov``, ``render.distortion``); and ``steps_taken``, the operator's ``steps`` at frames
  ``steps_from`` .. frame + 1 (the last ``WALK_MEMORY`` seconds and the next frame), from which a
  footfall is placed to the sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import TRACED, RenderProduct
from backrooms.params.store import Snapshot
from backrooms.render.camera import camera_data
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from backrooms.render.uncovered import uncovered
from backrooms.render.upscale import internal_size, jitter, upscale
from backrooms.world import World
from backrooms.world.types import Camera

WALK_MEMORY = 0.25  # seconds of the walk kept in ``meta["camera"]``: a footstep rings this long at most


class RenderNode(Node):
    """Stateless across frames: the previous camera comes from the world (``world.cameras``), so any
    frame renders alone. Only caches persist (device part meshes, the instance grid and camera tiles
    of the current view)."""

    kind = "render"

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.renderer = Renderer(context.width, context.height, context.device)
        self.internal = self.renderer  # the renderer at render.scale's size, made when first needed
        self._internal_buffers: dict[int, dict] = {}  # per buffer set of the product
        self.scene = Scene(context.device)
        self._world: World | None = None
        self._params: Snapshot | None = None
        self.traces = 0  # frames traced so far (frames the diffusion node generates are not)

    def world(self, params: Snapshot, frame: int = 0) -> World:
        """The world, created on first use and handed each new snapshot with the time of ``frame``,
        so a ``camera.speed`` moved live carries on from where the camera is (it decides the rest)."""
        if self._world is None:
            self._world = World(self.context.seed, params)
        elif params is not self._params:
            self._world.set_params(params, time=frame / self.context.fps)
        self._params = params
        return self._world

    def catch_up(self, frame: int, params_at: Callable[[int], Snapshot]) -> None:
        """After a seek into a take (``params_at`` an ``Automation``), the walk is made again as it
        went: every change up to ``frame`` handed over at its frame, as the run from the start did.
        Fixed knobs have no changes to play; a live run never seeks back."""
        changes = getattr(params_at, "changes", None)
        if changes is None:
            return
        self._world = None
        self.world(params_at(0))
        for changed in changes(frame):
            self.world(params_at(changed), changed)

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        self.trace(product, params)
        self.finish(product, params)

    def finish(self, product: RenderProduct, params: Snapshot) -> None:
        """Exposure and tone mapping, at the frame's own ``render.exposure`` (then, below full size,
        the upscale): apart from ``trace``, so automating the exposure keeps a frame traced ahead.
        The scale it exposes by goes into ``meta["shading"]["exposure"]``, generated frames too."""
        product.meta["shading"]["exposure"] = 2.0 ** params["render.exposure"]
        if not product.meta["traced"]:
            if product.meta["uncovered"] is not None:  # pixels traced outside the key frame's view
                self.renderer.expose(product, params["render.exposure"], product.meta["uncovered"])
            return
        internal = product.meta.get("internal")
        if internal is None:
            self.renderer.expose(product, params["render.exposure"])
            return
        self.renderer.expose(internal, params["render.exposure"])
        upscale(internal, product)

    def trace(self, product: RenderProduct, params: Snapshot) -> None:
        """Everything but the exposure; what the pipelined executor runs ahead."""
        world = self.world(params, product.frame)
        previous, camera = world.cameras(product.frame, self.context.fps)
        self.scene.update(world.view(camera.position))
        settings = params.node("render")
        k = self._generate(params)
        index, between = divmod(product.frame, k)
        traced = between == 0
        if traced:
            back = max(product.frame - k, 0)  # the frame the diffusion node remembers: the last traced
            since = previous if k == 1 else world.camera(back, self.context.fps)
            self._trace(camera, previous, since, product, settings, index)
            product.meta["revealed_since"] = back
            if TRACED in product:  # the buffer set's, from a generated frame: nothing traced after all
                product[TRACED].zero_()
            self.traces += 1
        else:  # the diffusion node generates this frame from the last traced one
            key = world.camera(product.frame - between, self.context.fps)
            self._trace_uncovered(camera, previous, key, product, settings)
        product.meta["traced"] = traced
        product.meta["lights"] = self._lights(settings["radiance"])
        product.meta["shading"] = {
            "reach": settings["light_radius"],
            "ambient": settings["ambient"],
            "panel_emission": self.scene.panel_emission,
            "panel_albedo": self.scene.panel_albedo,
            "haze": settings["haze"],
        }
        product.meta["camera"] = self._camera(world, product.frame, previous, camera)
        product.meta["camera"]["lens"] = (settings["fov"], settings["distortion"])

    def _generate(self, params: Snapshot) -> int:
        """k: every frame is traced unless the graph's diffusion node generates the frames between
        every k-th one (``diffusion.generate``; frames 0, k, 2k, ...: a pure function of the frame).
        The sub-pixel jitter steps per traced frame (frame // k), so every k covers the whole pixel
        (by frame, k = 2 traced only the even points of the Halton sequence, all in the right half
        of the pixel: half the horizontal samples, never gathered, at ``render.scale`` 0.5)."""
        return params["diffusion.generate"] if "diffusion" in self.context.nodes else 1

    def _trace(
        self,
        camera: Camera,
        previous: Camera,
        since: Camera,
        product: RenderProduct,
        settings: Mapping,
        index: int,
    ) -> None:
        """Trace at ``render.scale``'s internal size; below full size, with the sub-pixel jitter of
        traced frame ``index``, into a smaller product of its own (one per buffer set of the
        executor: a frame traced ahead must not write into the frame being finished), which
        ``finish`` fills the product up from."""
        size = internal_size(product.width, product.height, settings["scale"])
        if size == (product.width, product.height):
            seed = self.context.seed
            self.renderer.trace(self.scene, camera, previous, product, settings, seed, since=since)
            return
        if (self.internal.width, self.internal.height) != size:
            self.internal = Renderer(*size, self.context.device)
            self._internal_buffers = {}
        buffers = self._internal_buffers.setdefault(id(product.buffers), {})
        internal = RenderProduct(product.frame, *size, product.device, buffers)
        internal.meta["jitter"] = jitter(index)  # what ``finish`` fills the product up with
        seed, offset = self.context.seed, internal.meta["jitter"]
        self.internal.trace(self.scene, camera, previous, internal, settings, seed, offset, since)
        product.meta["internal"] = internal  # the traced AOVs: finish exposes them; other nodes may read them

    def _trace_uncovered(
        self, camera: Camera, previous: Camera, key: Camera, product: RenderProduct, settings: Mapping
    ) -> None:
        """A generated frame: trace, at full size, the pixels whose view the key frame's image does
        not hold (``render.uncovered``; marked in the product's ``traced``), and only light the
        panels (what the audio node hears on every frame) when there are none.
        ``meta["uncovered"]``: those pixels' list (``Renderer.trace``'s ``listed``), or None.
        Disocclusion is not looked back for (no second camera's tiles): the diffusion node marks
        what it keeps of the trace as newly seen."""
        lens = settings["fov"], settings["distortion"]
        size = product.width, product.height
        listed = uncovered(
            camera_data(camera, *size, *lens), camera_data(key, *size, *lens), product.allocate(TRACED)
        )
        product.meta["uncovered"] = listed
        if listed is None:
            self.renderer.light(self.scene, product.frame, settings, self.context.seed)
            return
        seed = self.context.seed
        self.renderer.trace(
            self.scene, camera, previous, product, settings, seed, since=camera, listed=listed
        )

    def _lights(self, radiance: float) -> dict[str, np.ndarray]:
        """The panels as this frame lit them (see the module docstring)."""
        data = self.scene.data
        if data.light_count == 0:
            empty = np.zeros(0, np.float32)
            return {
                "position": np.zeros((0, 3), np.float32),
                "intensity": empty,
                "on": empty.astype(bool),
                "flicker": empty,
                "key": empty.astype(np.uint32),
                "gain": empty,
                "half_size": np.zeros((0, 2), np.float32),
            }
        intensity = data.light_intensity.numpy()
        gain = data.light_gain.numpy().copy()  # the buffer is the next frame's once it is lit
        state = data.light_state.numpy()
        healthy = radiance * intensity
        dip = np.clip(1.0 - gain / np.maximum(healthy, 1e-9), 0.0, 1.0)
        return {
            "position": data.light_position.numpy().reshape(-1, 3),
            "intensity": intensity,
            "on": (state != 2) & (gain > 0.0),
            "flicker": np.where(state == 1, dip, 0.0).astype(np.float32),
            "key": data.light_key.numpy(),
            "gain": gain,
            "half_size": data.light_half_size.numpy().reshape(-1, 2),
        }

    def _camera(self, world: World, frame: int, previous: Camera, camera: Camera) -> dict[str, Any]:
        """The pose rendered, the operator's gait and the recent steps (see the module docstring)."""
        fps = self.context.fps
        first = frame - math.ceil(WALK_MEMORY * fps)
        steps = [world.camera(max(f, 0), fps).steps for f in range(first, frame + 2)]
        return {
            **_pose(camera),
            "fov_y": camera.fov_y,
            "steps": camera.steps,
            "step_phase": camera.step_phase,
            "speed": camera.speed,
            "walking": camera.walking,
            "previous": _pose(previous),
            "steps_taken": np.asarray(steps),
            "steps_from": first,
        }


def _pose(camera: Camera) -> dict[str, Any]:
    return {
        "position": camera.position,
        "rotation": camera.rotation.tolist(),
        "forward": camera.forward,
        "right": camera.rotation[:, 0],
    }
