"""The ``render`` node: asks the world for the camera and the loaded neighbourhood, then ray traces
every AOV of the frame into the render product."""

from __future__ import annotations

from typing import Any

from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.params.store import Snapshot
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene


class RenderNode(Node):
    """Stateless across frames: the previous camera comes from ``world.camera(frame - 1)``, so any
    frame renders alone. Only caches persist (device meshes, the instance BVH of the current view)."""

    kind = "render"

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.renderer = Renderer(context.width, context.height, context.device)
        self.scene = Scene(context.device)
        self._world: Any = None
        self._world_params: dict[str, Any] | None = None

    def world(self, params: Snapshot) -> Any:
        """The world for these params, rebuilt only when a ``world.*`` value changes."""
        from backrooms.world import World

        world_params = params.node("world")
        if self._world is None or world_params != self._world_params:
            self._world = World(self.context.seed, params)
            self._world_params = world_params
        return self._world

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        world = self.world(params)
        fps = self.context.fps
        camera = world.camera(product.frame, fps)
        previous = world.camera(product.frame - 1, fps)
        self.scene.update(world.view(camera.position))
        self.renderer.render(self.scene, camera, previous, product, params.node("render"), self.context.seed)
