"""Runs a recipe's nodes over render products, one frame at a time, on one device."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import threading
import time
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
from backrooms.warp_start import start_warp

ParamsAt = Callable[[int], Snapshot]
PAUSE_AHEAD = 12  # frames traced here only after a frame traced ahead was made stale by a change
SLACK = 1  # buffer sets a stream keeps beyond one per stage and the caller's: evens out uneven frames
SKIP, ADVANCE, PROCESS = "skip", "advance", "process"  # what a node does on a replayed frame


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
    nodes are reset and replayed from the earliest frame any of them needs (``Node.history``), or
    carry on to it when they are no further back than that, so a render started at frame 10
    matches frames 10.. of a render started at 0. Each node replays only from the frame it needs
    and, until the next node reads its output, only advances its state (``Node.advance``).
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

    Live (``send`` and ``receive``): the same pipeline fed one frame at a time, each frame's knobs
    read when it is sent, for a caller that learns them frame by frame; it shows frame N when it
    sends N + ``flight`` - 1 (the frames between are under way).
    """

    def __init__(
        self,
        kinds: Sequence[str],
        context: GraphContext,
        params_at: ParamsAt,
        catalog: Catalog = CATALOG,
        pipeline: bool = True,
        cuts: Sequence[int] | None = None,
        flight: int | None = None,
    ) -> None:
        """The nodes ``kinds`` (in data-flow order) for one run described by ``context``; ``pipeline``
        False traces every frame on the calling thread (the bench compares both).

        ``cuts``: the indices of the nodes that start a new stage of ``stream`` (default
        ``stage_cuts``; the bench compares others). ``flight``: the most frames a stream has under
        way (default: one per stage, one more, and ``SLACK``); a live caller that shows frame N
        when it sends N + k asks for k + 1.

        Hosts that render frames themselves (Kit's annotators, ``backrooms decay`` on footage) name
        only the nodes after ``render`` and hand each frame's AOVs to ``render(frame, inputs)``.
        """
        start_warp()
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
        self.flight = flight or len(self.stages) + 2 + SLACK
        self._flight: deque[tuple[RenderProduct, Future]] = deque()  # sent, not yet received
        self._sent: int | None = None  # the frame a run under way takes next
        self._run_sets: list[dict[str, wp.array]] = []  # the buffer sets of the run under way
        self._abandon: Abandon | None = None  # stops the run under way
        self._done: dict[Node, int] = {}  # the last frame each node processed
        # during a seek's replay, each node after the first: (its start, the next node's) (``_role``)
        self._replaying: dict[Node, tuple[int, int]] = {}
        # told (frames replayed so far, of how many) as a seek replays: a caller's progress display
        self.on_replay: Callable[[int, int], None] | None = None
        # wall seconds each node kind has run so far, whatever thread ran it (the render's trace
        # and finish both count as ``render``): callers difference it over the frames they watch
        self.spent: dict[str, float] = dict.fromkeys(kinds, 0.0)
        self._spent_lock = threading.Lock()

    @classmethod
    def from_recipe(
        cls, recipe: Recipe, params_at: ParamsAt, leave_out: Collection[str] = (), flight: int | None = None
    ) -> Executor:
        """The recipe's nodes (less the kinds in ``leave_out``), built from the catalogue the recipe
        was validated against."""
        context = GraphContext(recipe.seed, recipe.width, recipe.height, recipe.fps, recipe.device)
        kinds = [kind for kind in recipe.nodes if kind not in leave_out]
        return cls(kinds, context, params_at, recipe.catalog, flight=flight)

    def first_needed(self, frame: int) -> int:
        """The earliest frame a seek to ``frame`` replays from (``frame`` itself for stateless graphs).

        Walked from the last node to the first: a node that needs frames from ``h`` needs its
        inputs exact from ``h``, so every node before it must have replayed from its own history
        of ``h`` (histories never decrease with the frame).
        """
        return min(self.replay_starts(frame), default=frame)  # the first node's

    def replay_starts(self, frame: int) -> list[int]:
        """Per node, the first frame a seek to ``frame`` runs it for (``first_needed`` is the first
        node's): each node from its own history of the frame where the node after it starts, so
        nodes late in the chain skip most of a long replay (a seek at the defaults replays the
        render and the diffusion node about 150 frames, the camcorder 71, the tape none)."""
        starts = [frame] * len(self.nodes)
        start = frame
        for i in reversed(range(len(self.nodes))):
            start = min(start, self.nodes[i].history(start, self.params_at(start)))
            starts[i] = max(0, start)
        return starts

    def render(self, frame: int, inputs: Mapping[str, Any] | None = None) -> RenderProduct:
        """Run the nodes for ``frame``.

        ``inputs`` (AOV name -> array) come from a host that renders frames itself (Kit's
        annotators); they are copied into the product first, since such hosts reuse their buffers.
        Such a host cannot replay earlier frames, so a seek then only resets the temporal nodes.
        """
        self._end_run()  # a stream under way, if any, ends here
        if frame != self._next_frame:
            self._take_ahead(None)
            self._seek(frame, inputs is None)
        product = self._run(frame, inputs)
        self._next_frame = frame + 1
        self._returned = product.buffers
        return product

    def _seek(self, frame: int, replay: bool) -> None:
        """Bring every node's state to just before ``frame``: the nodes carry on from where they
        stopped when no node needs to go further back (a node that would start later is reset and
        starts there), else each is reset and replayed from its own start (``replay_starts``; with
        no ``replay``, a host's own frames, only reset). A node runs ``advance`` on the frames
        before the next node's start, ``process`` after; the first node runs every frame. The
        replayed frames stream through the stages, as a batch render's do, when there are stages.
        """
        since = self._next_frame  # the nodes carry on from there when a replay would start earlier
        starts = self.replay_starts(frame) if replay else [frame] * len(self.nodes)
        first = min(starts, default=frame)
        carry_on = replay and since is not None and first <= since < frame
        if not carry_on:
            since = first
        for node, start in zip(self.nodes, starts, strict=True):
            if not carry_on or start > since:
                node.reset()
                node.catch_up(max(start, since), self.params_at)
        if since == frame:
            return
        reads = [*starts[1:], frame]  # the first frame whose output the next node reads
        self._replaying = {
            node: (max(start, since), read)
            for node, start, read in zip(self.nodes[1:], starts[1:], reads[1:], strict=True)
        }
        self._next_frame = since  # where every node is now
        until = self._until  # a stream's own, when the seek starts one
        replayed = range(since, frame)
        report = self.on_replay or _ignore
        try:
            report(0, len(replayed))
            products = self.stream(replayed) if self.stages else (self._run(f, None) for f in replayed)
            for done, _ in enumerate(products, 1):
                report(done, len(replayed))
        finally:
            self._replaying = {}
            self._until = until

    def stream(self, frames: Iterable[int]) -> Iterator[RenderProduct]:
        """The products of ``frames`` (any order; each contiguous run is pipelined), in that order.

        Each product stays valid until the next one is taken from the iterator (its buffer set is
        then reused): copy what must outlive it. A node's failure is raised when its frame is
        taken; the frames before it come out first. Closing the iterator early (or ``close``)
        abandons the frames under way. Each run's frames are sent (``send``) as far ahead as
        ``flight`` allows and received in turn.
        """
        for first, stop in contiguous_runs(frames):
            self._until = stop - 1
            try:
                if not self.stages:
                    for frame in range(first, stop):
                        yield self.render(frame)
                    continue
                self._end_run()  # a live run under way, if any
                sent = first
                while True:
                    while sent < stop and len(self._flight) < self.flight:
                        self.send(sent)
                        sent += 1
                    if not self._flight:
                        break
                    yield self.receive()
            finally:
                self._until = None
                self._end_run()

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

    def send(self, frame: int) -> None:
        """Start ``frame``, its knobs read now (``params_at(frame)``): ``stream`` one frame at a time,
        for a caller that knows a frame's knobs only when it starts it (``backrooms live``).

        A frame that does not follow the last one sent starts a run: it is rendered here whole, as
        ``render`` does (the seek, and the first frame's Warp modules load on this thread), and the
        next is traced ahead meanwhile; the frames after it flow through the stages. At most
        ``flight`` frames are sent and not received. The product last received stays valid until
        the next ``send`` or ``receive``.
        """
        if not self.stages:
            raise RuntimeError("send: this executor does not stream (no render node, or pipeline off)")
        if frame != self._sent:  # ``render`` ends the run under way, if any
            product = self.render(frame)
            done: Future = Future()
            done.set_result(None)
            self._run_sets = self._buffer_sets(max(self.flight, 3))  # two beside the one held at its end
            self._abandon = Abandon()
            self._flight.append((product, done))
            self._sent = frame + 1
            return
        if len(self._flight) >= self.flight:
            raise RuntimeError(f"send: {self.flight} frames under way already; receive one first")
        try:
            params = self.params_at(frame)
        except Exception as exc:  # raised in turn, after the frames before it
            self._take_ahead(None)
            self._abandon.from_frame(frame + 1)
            job: Future = Future()
            job.set_exception(exc)
            self._flight.append((self._product(frame, self._free_set()), job))
        else:
            traced = self._take_ahead(frame, params)
            product = traced or self._product(frame, self._free_set())
            self._flight.append((product, self._submit(product, params, traced is None, self._abandon)))
        self._sent = frame + 1

    def widen(self, flight: int) -> None:
        """Let ``flight`` frames be under way from now on (more than before: a live loop taking a
        frame more of latency); a run under way gets the buffer sets it needs for them."""
        self.flight = max(self.flight, flight)
        if self._sent is None:  # the next run takes them when it starts
            return
        while len(self._run_sets) < max(self.flight, 3):
            spare = next((s for s in self._sets if all(s is not r for r in self._run_sets)), None)
            if spare is None:
                spare = {}
                self._sets.append(spare)
            self._run_sets.append(spare)

    @property
    def under_way(self) -> int:
        """Frames sent and not yet received."""
        return len(self._flight)

    def receive(self) -> RenderProduct:
        """The oldest frame sent and not received, once it is done (raises its failure: the frames
        sent after it are then abandoned, and the next frame sent starts a run)."""
        product, job = self._flight.popleft()
        try:
            job.result()
        except BaseException:
            self._end_run()
            raise
        self._returned = product.buffers
        return product

    def _free_set(self) -> dict[str, wp.array]:
        """A buffer set of the run no frame under way uses (the caller is done with the one it held)."""
        busy = [product.buffers for product, _ in self._flight]
        return next(s for s in self._run_sets if all(s is not b for b in busy))

    def _end_run(self) -> None:
        """Abandon the frames sent and not received (after waiting for the ones under way). The
        nodes carry on from the run's end if every node after the render (stateless) stopped at
        the same frame: a clean end, or a failure in the first node after the render (the frames
        after it had gone no further than the trace)."""
        if self._sent is None:
            return
        self._abandon.from_frame(-math.inf)
        wait([job for _, job in self._flight])
        self._take_ahead(None)
        ends = {self._done.get(node) for node in self.nodes[1:]} or {self._sent - 1}
        end = ends.pop() if len(ends) == 1 else None
        self._next_frame = None if end is None else end + 1  # else the nodes are at different frames
        held = self._returned  # ``render`` next writes into neither it nor the spare
        self._buffers, self._spare = [s for s in self._run_sets if s is not held][:2]
        self._flight.clear()
        self._sent = None
        self._abandon = None

    def _buffer_sets(self, count: int) -> list[dict[str, wp.array]]:
        """``count`` buffer sets: the one just returned, the one traced ahead into, then others
        (made once, kept for later streams)."""
        while len(self._sets) < count:
            self._sets.append({})
        held = self._returned if self._returned is not None else self._buffers
        ahead = self._spare if held is self._buffers else self._buffers
        return [held, ahead, *[s for s in self._sets if s is not held and s is not ahead][: count - 2]]

    def _submit(self, product: RenderProduct, params: Snapshot, trace: bool, abandon: Abandon) -> Future:
        """Queue every stage of ``product``'s frame (the trace too when ``trace``); its last stage's
        job. Each stage waits for the stage before it on the same frame."""
        while len(self._stage_workers) < len(self.stages):
            name = f"stage-{len(self._stage_workers)}"
            self._stage_workers.append(ThreadPoolExecutor(1, thread_name_prefix=name))
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
                    with self._timed(self.nodes[0]):
                        self.nodes[0].trace(product, params)
                        self.nodes[0].finish(product, params)
                    return
                with one_band():  # the other stages fill the cores
                    if finish:
                        with self._timed(self.nodes[0]):
                            self.nodes[0].finish(product, params)
                    self._process([self.nodes[index] for index in nodes], product, params)
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
            with wp.ScopedDevice(self.context.device), self._timed(self.nodes[0]):
                self.nodes[0].finish(product, params)
            self._process(self.nodes[1:], product, params)
        return product

    def _process(self, nodes: Sequence[Node], product: RenderProduct, params: Snapshot) -> None:
        """Run ``nodes`` on the product's frame; during a seek's replay, each as its ``_role``."""
        frame = product.frame
        with wp.ScopedDevice(self.context.device):
            for node in nodes:
                replaying = self._replaying.get(node)
                role = PROCESS if replaying is None else _role(frame, *replaying)
                if role == SKIP:
                    continue
                with self._timed(node):
                    (node.advance if role == ADVANCE else node.process)(product, params)
                self._done[node] = frame

    @contextlib.contextmanager
    def _timed(self, node: Node) -> Iterator[None]:
        """Add the wall time of the block to ``spent`` for ``node``'s kind."""
        began = time.perf_counter()
        try:
            yield
        finally:
            with self._spent_lock:
                self.spent[node.kind] += time.perf_counter() - began

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
        with wp.ScopedDevice(self.context.device), self._timed(self.nodes[0]):
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


def _ignore(done: int, total: int) -> None:
    """A seek's progress when no one asked for it."""


def _role(frame: int, start: int, read: int) -> str:
    """What a node does on a replayed ``frame``: nothing before its ``start``, ``advance`` until
    the next node reads its output (from ``read``), ``process`` from there."""
    return SKIP if frame < start else ADVANCE if frame < read else PROCESS


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
