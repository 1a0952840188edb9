"""Runs a recipe's nodes over render products, one frame at a time, on one device."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import warp as wp

from backrooms.errors import UserError
from backrooms.graph.catalog import CATALOG, Catalog
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.graph.recipe import Recipe
from backrooms.params.store import Snapshot

ParamsAt = Callable[[int], Snapshot]


class Executor:
    """Owns the nodes and the reused frame buffers of one run.

    ``render(frame)`` works for any frame: when it does not follow the previous one, temporal
    nodes are reset and replayed from the earliest frame any of them needs (``Node.history``),
    so a render started at frame 10 matches frames 10.. of a render started at 0.
    The returned product's buffers are reused by the next call: copy what must outlive it.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        context: GraphContext,
        params_at: ParamsAt,
        catalog: Catalog = CATALOG,
    ) -> None:
        """The nodes ``kinds`` (in data-flow order) for one run described by ``context``.

        Hosts that render frames themselves (Kit's annotators, ``backrooms decay`` on footage) name
        only the nodes after ``render`` and hand each frame's AOVs to ``render(frame, inputs)``.
        """
        wp.init()
        if context.device == "cuda" and not wp.is_cuda_available():
            raise UserError("--device cuda: no CUDA device is available on this machine")
        context = dataclasses.replace(context, nodes=tuple(kinds))
        self.context = context
        self.params_at = params_at
        with wp.ScopedDevice(context.device):
            self.nodes: list[Node] = [catalog.node_class(kind)(context) for kind in kinds]
        self._buffers: dict[str, wp.array] = {}
        self._next_frame: int | None = None

    @classmethod
    def from_recipe(cls, recipe: Recipe, params_at: ParamsAt) -> Executor:
        """The recipe's nodes, built from the catalogue the recipe was validated against."""
        context = GraphContext(recipe.seed, recipe.width, recipe.height, recipe.fps, recipe.device)
        return cls(recipe.nodes, context, params_at, recipe.catalog)

    def first_needed(self, frame: int) -> int:
        """The earliest frame a seek to ``frame`` replays from (``frame`` itself for stateless graphs).

        Walked from the last node to the first: a node that needs frames from ``h`` needs its
        inputs exact from ``h``, so every node before it must have replayed from its own history
        of ``h`` (histories never decrease with the frame).
        """
        start = frame
        for node in reversed(self.nodes):
            start = min(start, node.history(start, self.params_at(start)))
        return max(0, start)

    def render(self, frame: int, inputs: Mapping[str, Any] | None = None) -> RenderProduct:
        """Run the nodes for ``frame``.

        ``inputs`` (AOV name -> array) come from a host that renders frames itself (Kit's
        annotators); they are copied into the product first, since such hosts reuse their buffers.
        Such a host cannot replay earlier frames, so a seek then only resets the temporal nodes.
        """
        if frame != self._next_frame:
            for node in self.nodes:
                node.reset()
            if inputs is None:
                for warm in range(self.first_needed(frame), frame):
                    self._run(warm, None)
        product = self._run(frame, inputs)
        self._next_frame = frame + 1
        return product

    def _run(self, frame: int, inputs: Mapping[str, Any] | None) -> RenderProduct:
        ctx = self.context
        product = RenderProduct(frame, ctx.width, ctx.height, ctx.device, self._buffers)
        for name, source in (inputs or {}).items():
            product.load(name, source)
        params = self.params_at(frame)
        with wp.ScopedDevice(ctx.device):
            for node in self.nodes:
                node.process(product, params)
        return product
