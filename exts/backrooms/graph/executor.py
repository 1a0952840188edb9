"""Runs a recipe's nodes over render products, one frame at a time, on one device."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import warp as wp

from backrooms.errors import UserError
from backrooms.graph.catalog import CATALOG, Catalog
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.graph.recipe import Recipe
from backrooms.params.store import ReadLog, Snapshot

ParamsAt = Callable[[int], Snapshot]
PAUSE_AHEAD = 12  # frames traced here only after a frame traced ahead was made stale by a change


class Executor:
    """Owns the nodes and the reused frame buffers of one run.

    ``render(frame)`` works for any frame: when it does not follow the previous one, temporal
    nodes are reset and replayed from the earliest frame any of them needs (``Node.history``),
    so a render started at frame 10 matches frames 10.. of a render started at 0.
    The returned product's buffers are reused by the next call but one: copy what must outlive it.

    Pipelined: when the first node is ``render`` (stateless: any frame renders alone), frame N+1 is
    traced (``Node.trace``: all but the exposure, which ``Node.finish`` applies with the frame's own
    knobs) in a worker thread with ``params_at(N + 1)`` while the other nodes finish frame N, into
    the other of two buffer sets (a Warp CPU launch and torch release the GIL, so both cores work).
    The traced frame is used only if the frame asked for next is N+1 and every knob the trace read
    still has the value it was traced with (a live change of one of those discards it: traced again;
    changes to other knobs — a DAW automating the tape or the exposure — keep it), so every frame has
    exactly the bytes of an unpipelined run. After a stale one, ``PAUSE_AHEAD`` frames are traced
    here: while such a knob moves every frame, tracing ahead would only take a core for nothing.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        context: GraphContext,
        params_at: ParamsAt,
        catalog: Catalog = CATALOG,
        pipeline: bool = True,
    ) -> None:
        """The nodes ``kinds`` (in data-flow order) for one run described by ``context``; ``pipeline``
        False traces every frame on the calling thread (the bench compares both).

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
        self._spare: dict[str, wp.array] = {}  # the other buffer set, for the frame traced ahead
        self._next_frame: int | None = None
        pipelined = pipeline and bool(self.nodes) and self.nodes[0].kind == "render"
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="trace-ahead") if pipelined else None
        self._ahead: tuple[int, ReadLog, Future] | None = None
        self._paused = 0  # frames left before tracing ahead again (knobs the trace reads are moving)

    @classmethod
    def from_recipe(cls, recipe: Recipe, params_at: ParamsAt, leave_out: Collection[str] = ()) -> Executor:
        """The recipe's nodes (less the kinds in ``leave_out``), built from the catalogue the recipe
        was validated against."""
        context = GraphContext(recipe.seed, recipe.width, recipe.height, recipe.fps, recipe.device)
        kinds = [kind for kind in recipe.nodes if kind not in leave_out]
        return cls(kinds, context, params_at, recipe.catalog)

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
            self._take_ahead(None)
            for node in self.nodes:
                node.reset()
            if inputs is None:
                for warm in range(self.first_needed(frame), frame):
                    self._run(warm, None)
        product = self._run(frame, inputs)
        self._next_frame = frame + 1
        return product

    def close(self) -> None:
        """Wait for the frame being traced ahead (it is wasted: nobody asked for it yet), end the worker."""
        self._take_ahead(None)
        if self._worker is not None:
            self._worker.shutdown()
            self._worker = None

    def _run(self, frame: int, inputs: Mapping[str, Any] | None) -> RenderProduct:
        params = self.params_at(frame)
        product = self._take_ahead(frame if inputs is None else None, params)
        if product is None:  # the first frame, after a seek or a change: all here, then trace ahead
            product = self._product(frame, self._buffers)
            for name, source in (inputs or {}).items():
                product.load(name, source)
            self._process(self.nodes, product, params)
            if inputs is None:
                self._trace_ahead(product)
            return product
        self._trace_ahead(product)  # while the other nodes finish this frame
        with wp.ScopedDevice(self.context.device):
            self.nodes[0].finish(product, params)
        self._process(self.nodes[1:], product, params)
        return product

    def _process(self, nodes: Sequence[Node], product: RenderProduct, params: Snapshot) -> None:
        with wp.ScopedDevice(self.context.device):
            for node in nodes:
                node.process(product, params)

    def _trace_ahead(self, product: RenderProduct) -> None:
        """Start tracing the frame after ``product``'s into the other buffer set (pipelined only).

        Never during a frame run wholly here: Warp modules a parameter change brings in (and the
        first frame's) load on this thread alone."""
        if self._worker is None:
            return
        if self._paused:  # a trace ahead would likely be stale too, and would take a core for nothing
            self._paused -= 1
            return
        spare = self._spare if product.buffers is self._buffers else self._buffers
        ahead = self._product(product.frame + 1, spare)
        params = ReadLog(self.params_at(product.frame + 1))
        self._ahead = (ahead.frame, params, self._worker.submit(self._trace, ahead, params))

    def _product(self, frame: int, buffers: dict[str, wp.array]) -> RenderProduct:
        ctx = self.context
        return RenderProduct(frame, ctx.width, ctx.height, ctx.device, buffers)

    def _trace(self, product: RenderProduct, params: Snapshot) -> RenderProduct:
        with wp.ScopedDevice(self.context.device):
            self.nodes[0].trace(product, params)
        return product

    def _take_ahead(self, frame: int | None, params: Snapshot | None = None) -> RenderProduct | None:
        """The frame traced ahead if it is ``frame`` and what it read of ``params`` is unchanged;
        always waits for it."""
        if self._ahead is None:
            return None
        ahead_frame, reads, job = self._ahead
        self._ahead = None
        failed = job.exception()  # wait: its buffers are written no more (and ``reads`` is complete)
        if ahead_frame != frame or params is None:
            return None  # nobody asked for it: a failure there is moot
        if failed is None and not reads.still_holds(params):  # a knob the render reads moves: pause
            self._paused = PAUSE_AHEAD
            return None
        return job.result()  # a failure of the frame asked for is this frame's
