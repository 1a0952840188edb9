"""The one small interface every node shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from backrooms.graph.product import RenderProduct
from backrooms.params.store import Snapshot


@dataclass(frozen=True)
class GraphContext:
    """What every node of a run knows up front: buffers are sized and placed once from it."""

    seed: int
    width: int
    height: int
    fps: float
    device: str
    nodes: tuple[str, ...] = ()  # the graph's node kinds in data-flow order (set by the executor)


class Node:
    """Reads a render product and a params snapshot, writes into the product.

    ``kind`` is the node's recipe name and also its registry namespace (``/backrooms/<kind>/...``).
    Nodes allocate their buffers in ``__init__`` and never in ``process``.
    """

    kind: ClassVar[str] = ""

    def __init__(self, context: GraphContext) -> None:
        self.context = context

    def history(self, frame: int, params: Snapshot) -> int:
        """The first frame this node must see again to reproduce its state at ``frame``.

        Stateless nodes return ``frame``; a temporal node returns the frame its state was last
        reset at, and the executor replays from there (without writing) after a seek.
        """
        return frame

    def reset(self) -> None:
        """Forget temporal state; called before the executor seeks."""

    def catch_up(self, frame: int, params_at: Callable[[int], Snapshot]) -> None:
        """Called after ``reset``, before the node runs from ``frame``: a node whose output follows
        how its knobs moved before ``frame`` (not only their values at it) plays those moves again
        from ``params_at``. Nothing to do for most nodes."""

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        raise NotImplementedError

    def advance(self, product: RenderProduct, params: Snapshot) -> None:
        """A frame a seek replays whose output no later node reads: only the state has to move on
        (the camcorder meters the frame for its servos and films nothing). By default ``process``."""
        self.process(product, params)

    def trace(self, product: RenderProduct, params: Snapshot) -> None:
        """The part of ``process`` the pipelined executor may run a frame ahead, in another thread
        (a stateless first node only); ``finish`` does the rest with the frame's own knobs."""
        self.process(product, params)

    def finish(self, product: RenderProduct, params: Snapshot) -> None:
        """What ``trace`` left to the frame's own instant (nothing, unless the node splits)."""
