"""The decay node outside a graph: host frames in, host frames out (``backrooms decay``, tests, bench)."""

from __future__ import annotations

import numpy as np

from backrooms.errors import UserError


class HostTape:
    """The decay node outside a graph: host frames in, host frames out."""

    def __init__(self, width: int, height: int, seed: int, fps: float, device: str) -> None:
        import warp as wp

        from backrooms.graph.executor import Executor
        from backrooms.graph.node import GraphContext

        try:
            wp.get_device(device)
        except (RuntimeError, ValueError):
            raise UserError(f"--device: {device!r} is not available here") from None
        self._params = None
        self.events: dict[str, float] = {}  # the last frame's tape events (the node's meta)
        self.executor = Executor(
            ("decay",), GraphContext(seed, width, height, fps, device), lambda _f: self._params
        )

    def process(self, rgba: np.ndarray, frame: int, params) -> np.ndarray:
        from backrooms.decay.node import TAPE_EVENTS
        from backrooms.graph.product import RGB

        self._params = params
        product = self.executor.render(frame, {RGB: rgba})
        self.events = dict(product.meta.get(TAPE_EVENTS, {}))
        return product[RGB].numpy()
