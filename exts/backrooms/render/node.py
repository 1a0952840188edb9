"""The ``render`` node: asks the world for the camera and the loaded neighbourhood, then ray traces
every AOV of the frame into the render product."""

from __future__ import annotations

from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.params.store import Snapshot
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from backrooms.world import World


class RenderNode(Node):
    """Stateless across frames: the previous camera comes from the world (``world.cameras``), so any
    frame renders alone. Only caches persist (device part meshes, the instance grid and camera tiles
    of the current view)."""

    kind = "render"

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.renderer = Renderer(context.width, context.height, context.device)
        self.scene = Scene(context.device)
        self._world: World | None = None
        self._params: Snapshot | None = None

    def world(self, params: Snapshot) -> World:
        """The world, created on first use and handed each new snapshot (it decides what to rebuild)."""
        if self._world is None:
            self._world = World(self.context.seed, params)
        elif params is not self._params:
            self._world.set_params(params)
        self._params = params
        return self._world

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        world = self.world(params)
        previous, camera = world.cameras(product.frame, self.context.fps)
        product.meta["camera"] = {  # the pose rendered, and the operator's gait (docs/world.md)
            "position": camera.position.tolist(),
            "rotation": camera.rotation.tolist(),
            "fov_y": camera.fov_y,
            "steps": camera.steps,
            "step_phase": camera.step_phase,
            "speed": camera.speed,
            "walking": camera.walking,
        }
        self.scene.update(world.view(camera.position))
        self.renderer.render(self.scene, camera, previous, product, params.node("render"), self.context.seed)
