"""Runs a recipe's nodes over render products, one frame at a time, on one device."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import warp as wp

from backrooms.errors import UserError
from backrooms.graph.catalog import CATALOG, Catalog
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.graph.recipe import Recipe
from backrooms.launch import TRACE_NICE, lower_priority, one_band
from backrooms.params.store import ReadLog, Snapshot

ParamsAt = Callable[[int], Snapshot]
PAUSE_AHEAD = 12  # frames traced here only after a frame traced ahead was made stale by a change
SLACK = 1  # buffer sets a stream keeps beyond one per stage and the caller's: evens out uneven frames


class Abandoned(Exception):
    """A streamed frame not run because an earlier one failed (or the stream was closed)."""


class Abandon:
    """The frames of a stream not to run any more: those from ``frame`` on."""

    def __init__(self) -> None:
        self.frame = math.inf

    def from_frame(self, frame: float) -> None:
        self.frame = min(self.frame, frame)  # one assignment: atomic under the GIL


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
    While a trace ahead runs, the nodes finishing frame N launch their Warp kernels as one band
    (``launch.one_band``), and so do the stages of a stream: the cores are busy already.

    Streamed (batch: ``stream(frames)``): the whole graph is an in-order pipeline of stages, each on
    its own thread — the render's trace and finish, then the nodes cut into groups at ``cuts`` (a
    frame that came traced ahead is finished in the first group) — so frame N's later stages run
    while N+1's earlier ones do. Every node still runs in frame order on one thread at a time, with
    the frame's ``params_at``, so every frame has the bytes of ``render``. Nothing is speculative:
    batch parameters are a function of the frame.
    """

    def __init__(
        self,
        kinds: Sequence[str],
        context: GraphContext,
        params_at: ParamsAt,
        catalog: Catalog = CATALOG,
        pipeline: bool = True,
        cuts: Sequence[int] | None = None,
    ) -> None:
        """The nodes ``kinds`` (in data-flow order) for one run described by ``context``; ``pipeline``
        False traces every frame on the calling thread (the bench compares both).

        ``cuts``: the indices of the nodes that start a new stage of ``stream`` (default
        ``stage_cuts``; the bench compares others).

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
        self._worker = (
            ThreadPoolExecutor(1, "trace-ahead", initializer=lower_priority, initargs=(TRACE_NICE,))
            if pipelined
            else None
        )
        self._ahead: tuple[int, ReadLog, Future] | None = None
        self._paused = 0  # frames left before tracing ahead again (knobs the trace reads are moving)
        self._until: int | None = None  # a stream's last frame: nothing is traced ahead past it
        self._returned: dict[str, wp.array] | None = None  # the buffers of the product last returned
        self._sets = [self._buffers, self._spare]  # every buffer set made (a stream needs more)
        groups = stage_groups(len(kinds), stage_cuts(kinds) if cuts is None else cuts)
        self.stages = groups if pipelined else []  # node index ranges; empty: ``stream`` is serial
        self._stage_workers: list[ThreadPoolExecutor] = []
        self._abandon: Abandon | None = None  # stops the stream under way

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
        self._returned = product.buffers
        return product

    def stream(self, frames: Iterable[int]) -> Iterator[RenderProduct]:
        """The products of ``frames`` (any order; each contiguous run is pipelined), in that order.

        Each product stays valid until the next one is taken from the iterator (its buffer set is
        then reused): copy what must outlive it. A node's failure is raised when its frame is
        taken; the frames before it come out first. Closing the iterator early (or ``close``)
        abandons the frames under way. A run's first frame is ``render`` on this thread (the seek,
        and the Warp modules of the first frame load on one thread), and its second is traced
        ahead meanwhile; the rest flow through the stages.
        """
        for first, stop in contiguous_runs(frames):
            self._until = stop - 1
            try:
                yield self.render(first)
                if not self.stages:
                    for frame in range(first + 1, stop):
                        yield self.render(frame)
                elif stop > first + 1:
                    yield from self._stream(first + 1, stop)
            finally:
                self._until = None

    def close(self) -> None:
        """Abandon a stream under way, wait for the frame being traced ahead (it is wasted: nobody
        asked for it yet), end the workers."""
        if self._abandon is not None:
            self._abandon.from_frame(-math.inf)
        self._take_ahead(None)
        for worker in (self._worker, *self._stage_workers):
            if worker is not None:
                worker.shutdown()
        self._worker = None
        self._stage_workers = []
        self.stages = []

    def _stream(self, first: int, stop: int) -> Iterator[RenderProduct]:
        """Frames ``first .. stop-1`` through the stages; frame ``first - 1`` was just returned and
        ``first`` traced ahead.

        One buffer set per frame in flight: the caller's (released when it asks for the next),
        and ``len(stages) + 1 + SLACK`` flowing, taken in turn (frame ``first + i`` uses set
        ``i + 1`` modulo their count).
        """
        sets = self._buffer_sets(len(self.stages) + 2 + SLACK)
        abandon = self._abandon = Abandon()
        flight: deque[tuple[RenderProduct, Future]] = deque()
        frame, held, finished = first, 0, False  # held: the set of the frame returned last
        try:
            traced = self._take_ahead(first, self.params_at(first))
            while True:
                while frame < stop and len(flight) < len(sets):
                    product = traced or self._product(frame, sets[(frame - first + 1) % len(sets)])
                    flight.append((product, self._submit(product, traced is None, abandon)))
                    frame, traced = frame + 1, None
                if not flight:
                    break
                product, job = flight.popleft()
                job.result()
                held = (product.frame - first + 1) % len(sets)
                yield product
            finished = True
        finally:
            abandon.from_frame(-math.inf)  # the frames under way (all after the one returned last)
            wait([job for _, job in flight])
            self._abandon = None
            self._next_frame = stop if finished else None  # else the nodes are at different frames
            self._returned = sets[held]  # ``render`` next writes into neither it nor the spare
            self._buffers, self._spare = sets[(held + 1) % len(sets)], sets[(held + 2) % len(sets)]

    def _buffer_sets(self, count: int) -> list[dict[str, wp.array]]:
        """``count`` buffer sets: the one just returned, the one traced ahead into, then others
        (made once, kept for later streams)."""
        while len(self._sets) < count:
            self._sets.append({})
        held = self._returned if self._returned is not None else self._buffers
        ahead = self._spare if held is self._buffers else self._buffers
        return [held, ahead, *[s for s in self._sets if s is not held and s is not ahead][: count - 2]]

    def _submit(self, product: RenderProduct, trace: bool, abandon: Abandon) -> Future:
        """Queue every stage of ``product``'s frame (the trace too when ``trace``); its last stage's
        job. Each stage waits for the stage before it on the same frame."""
        while len(self._stage_workers) < len(self.stages):
            name = f"stage-{len(self._stage_workers)}"
            self._stage_workers.append(ThreadPoolExecutor(1, thread_name_prefix=name))
        try:
            params = self.params_at(product.frame)
        except Exception as exc:  # raised in turn, after the frames before it
            abandon.from_frame(product.frame + 1)
            failed: Future = Future()
            failed.set_exception(exc)
            return failed
        job = self._worker.submit(self._stage, abandon, None, None, product, params) if trace else None
        for i, (nodes, worker) in enumerate(zip(self.stages, self._stage_workers, strict=True)):
            job = worker.submit(self._stage, abandon, job, nodes, product, params, i == 0 and not trace)
        return job

    def _stage(
        self,
        abandon: Abandon,
        before: Future | None,
        nodes: range | None,
        product: RenderProduct,
        params: Snapshot,
        finish: bool = False,
    ) -> None:
        """One stage of one frame: the trace and the render's finish (``nodes`` None), or ``nodes``
        (after the render's finish when ``finish``: a frame that came traced ahead). A failure
        abandons the frames after it (not the later stages of frames before it)."""
        try:
            if before is not None:
                before.result()
            if product.frame >= abandon.frame:
                raise Abandoned(f"frame {product.frame}")
            with wp.ScopedDevice(self.context.device):
                if nodes is None:  # the finish too: off the first group (in the default graph
                    # the diffusion node's, the longest stage)
                    self.nodes[0].trace(product, params)
                    self.nodes[0].finish(product, params)
                    return
                with one_band():  # the other stages fill the cores
                    if finish:
                        self.nodes[0].finish(product, params)
                    for index in nodes:
                        self.nodes[index].process(product, params)
        except BaseException:
            abandon.from_frame(product.frame + 1)
            raise

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
        tracing = self._trace_ahead(product)  # while the other nodes finish this frame
        with one_band() if tracing else contextlib.nullcontext():  # the trace takes the other cores
            with wp.ScopedDevice(self.context.device):
                self.nodes[0].finish(product, params)
            self._process(self.nodes[1:], product, params)
        return product

    def _process(self, nodes: Sequence[Node], product: RenderProduct, params: Snapshot) -> None:
        with wp.ScopedDevice(self.context.device):
            for node in nodes:
                node.process(product, params)

    def _trace_ahead(self, product: RenderProduct) -> bool:
        """Start tracing the frame after ``product``'s into the other buffer set (pipelined only);
        whether it was started.

        Never during a frame run wholly here: Warp modules a parameter change brings in (and the
        first frame's) load on this thread alone."""
        if self._worker is None or (self._until is not None and product.frame >= self._until):
            return False
        if self._paused:  # a trace ahead would likely be stale too, and would take a core for nothing
            self._paused -= 1
            return False
        spare = self._spare if product.buffers is self._buffers else self._buffers
        ahead = self._product(product.frame + 1, spare)
        params = ReadLog(self.params_at(product.frame + 1))
        self._ahead = (ahead.frame, params, self._worker.submit(self._trace, ahead, params))
        return True

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


def stage_cuts(kinds: Sequence[str]) -> list[int]:
    """The default stages of ``Executor.stream``: every node after the render on a stage of its own.

    One stage per node needs no knowledge of what each node costs, and lets the scheduler spread
    whatever is ready over the cores; measured against two stages (the model's, the rest) in
    docs/diffusion.md.
    """
    return list(range(2, len(kinds)))


def stage_groups(count: int, cuts: Iterable[int]) -> list[range]:
    """The node ranges of the stages after the trace (node 0, the render, is the trace's): a stage
    starts at 1 and at each cut."""
    starts = sorted({1, *(c for c in cuts if 1 < c < count)})
    return [range(a, b) for a, b in zip(starts, [*starts[1:], max(count, 1)], strict=True)]


def contiguous_runs(frames: Iterable[int]) -> Iterator[tuple[int, int]]:
    """``frames`` as ``(first, stop)`` runs of consecutive frames, in their order."""
    run: list[int] = []
    for frame in frames:
        if run and frame != run[1]:
            yield run[0], run[1]
            run = []
        run = [run[0] if run else frame, frame + 1]
    if run:
        yield run[0], run[1]
