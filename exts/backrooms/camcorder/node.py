"""``CamcorderNode``: films each frame of the render product with a 1990s camcorder.

Reads ``rgb``, ``distance_to_camera`` and ``motion_vectors``; writes ``rgb`` (interlaced when
``camcorder.interlace`` is on: odd rows are the lower field, 1/60 s later).

Seekability: the automatics' state is a pure function of the last ``exposure.memory(fps)`` frames'
meters, so ``history`` asks the executor to replay exactly those after a seek.
"""

from __future__ import annotations

from backrooms.camcorder.exposure import Automatics, Servos, memory
from backrooms.camcorder.params import NODE
from backrooms.camcorder.pipeline import Camcorder
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import DEPTH, MOTION_VECTORS, RGB, RenderProduct
from backrooms.params.store import Snapshot
from backrooms.seeds import warp_seed


class CamcorderNode(Node):
    kind = NODE

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.camera = Camcorder(context.width, context.height, context.device)
        self.servos = Servos(context.fps, context.seed)
        self._last_frame: int | None = None

    def history(self, frame: int, params: Snapshot) -> int:
        return frame - memory(self.context.fps) + 1

    def reset(self) -> None:
        self.servos.reset()
        self._last_frame = None

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        values = params.node(NODE)
        frame = product.frame
        auto = self._servo(product, values)
        depth, motion = product.allocate(DEPTH), product.allocate(MOTION_VECTORS)
        seed = warp_seed(self.context.seed, NODE, "noise", frame)
        self.camera.spill(auto.ev)
        self.camera.expose(auto, values, depth, motion, self.context.fps, seed, product[RGB])
        product.meta[NODE] = auto

    def advance(self, product: RenderProduct, params: Snapshot) -> None:
        """The servos alone: what they remember is each frame's meter (``history``)."""
        self._servo(product, params.node(NODE))

    def _servo(self, product: RenderProduct, values: dict) -> Automatics:
        """Meter the frame and move the automatics to it (a frame that does not follow the last
        one starts them afresh)."""
        frame = product.frame
        if self._last_frame is not None and frame != self._last_frame + 1:
            self.reset()
        meter = self.camera.meter(product[RGB], product.allocate(DEPTH), values)
        self._last_frame = frame
        return self.servos.update(frame, meter, values)
