"""A live session: the frame loop plus every way in (OSC UDP/TCP, OSCQuery, MIDI, web preview).

Tests and the benchmark build one directly; ``backrooms live`` builds one from its options.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from backrooms.control.access import AllowList, listening
from backrooms.control.addresses import AddressTable
from backrooms.control.aio import LoopThread
from backrooms.control.clock import FrameClock
from backrooms.control.discovery import Announcer
from backrooms.control.governor import FrameRateGovernor
from backrooms.control.inbox import Inbox
from backrooms.control.live import LATENCY, LiveLoop, RenderFn
from backrooms.control.midi import MidiMap, open_input
from backrooms.control.osc import OscReceiver, OscServers
from backrooms.control.oscquery import OscQueryServer
from backrooms.control.preview import PreviewServer
from backrooms.control.tally import Tally
from backrooms.graph.executor import Executor
from backrooms.graph.product import RGB, RenderProduct
from backrooms.graph.recipe import Recipe
from backrooms.params.automation import Recorder
from backrooms.params.registry import Registry
from backrooms.params.smoothing import Smoother
from backrooms.params.store import ParamStore, Snapshot

LEARN_ADDRESS = "/backrooms/midi/learn"
AUDIO = "audio"  # the node kind that only makes sound
COST_FRAMES = 24  # frames the status page's cost of each node averages over (a second at 24 fps)


@dataclass
class LiveOptions:
    """Where to listen; a port of 0 lets the system pick one, None turns that way in off."""

    bind: str = "127.0.0.1"
    allow_remote: bool = False
    allow: list[str] = field(default_factory=list)
    allow_hosts: list[str] = field(default_factory=list)
    osc_port: int = 9000
    osc_tcp_port: int | None = 9000
    oscquery_port: int | None = 9001
    preview_port: int | None = 8000
    midi_in: str | None = None
    midi_map: Path | None = None
    record: Path | None = None
    smoothing: float = 0.05
    announce: bool = False
    hold_fps: bool = False  # step render.scale / diffusion.generate to keep the rate (control.governor)


class GraphFrames:
    """Renders a recipe's graph frame by frame with the snapshot the live loop hands it.

    Pipelined (``latency`` frames, when the graph starts with the render): each call starts its
    frame (``Executor.send``) and returns the one ``latency`` frames before it, so while the loop
    shows frame N the stages work on N + 1 and N + 2, both cores busy (docs/live.md has the rates
    and what the latency costs). Each frame is rendered with its own snapshot, so a take replays it.

    ``deepest``: the most frames of latency it may take on when the live loop asks (``deepen``: the
    frame rate governor's last resort); by default one more than ``latency``.

    With ``sound=False`` the recipe's ``audio`` node is left out: nothing live would hear it (no NDI),
    and a take does not need it, since it records the knobs and the recipe, and a replay renders
    the sound again (the audio node is stateless and nothing downstream of it reads its samples).
    The returned buffer is reused by the next frame; sinks copy what they keep.
    """

    def __init__(
        self, recipe: Recipe, sound: bool = True, latency: int = LATENCY, deepest: int | None = None
    ) -> None:
        self._snapshot: Snapshot | None = None
        leave_out = () if sound else (AUDIO,)
        self.executor = Executor.from_recipe(recipe, self._params_at, leave_out, flight=latency + 1)
        self.latency = latency if self.executor.stages else 0  # a graph without a render: no stages
        self.deepest = latency + 1 if deepest is None else deepest
        self.audio: Any = None  # the samples of the frame returned last, when the graph has an audio node
        self.beat: Callable[[Snapshot], Snapshot] | None = None  # knobs that follow Link's beat
        self._spent: deque[dict[str, float]] = deque(maxlen=COST_FRAMES + 1)  # at each frame's start

    def _params_at(self, frame: int) -> Snapshot:
        """The snapshot handed over last: the executor reads a frame's knobs when it is sent (and a
        replay's, after a failure, are the ones the loop fell back to)."""
        assert self._snapshot is not None
        return self._snapshot

    def __call__(self, frame: int, snapshot: Snapshot) -> Any | None:
        """Start ``frame``; the ``rgb`` buffer of frame ``frame - latency``, left on the device
        (sinks copy it only if they need it), or None while a run's first frames are under way."""
        self._snapshot = snapshot if self.beat is None else self.beat(snapshot)
        self._spent.append(dict(self.executor.spent))
        if not self.latency:
            return self._rgb(self.executor.render(frame))
        self.executor.send(frame)
        return self._rgb(self.executor.receive()) if self.executor.under_way > self.latency else None

    def costs(self) -> dict[str, Any]:
        """The status page's ``nodes``: each node's milliseconds a frame over the last
        ``COST_FRAMES`` frames (wall time beside the others, as a VJ tool shows its operators' cook
        times), so a knob that costs frames shows where (``decay.generations`` in ``decay``)."""
        if len(self._spent) < 2:
            return {}
        first, last, frames = self._spent[0], self._spent[-1], len(self._spent) - 1
        return {"nodes": {kind: round(1000 * (last[kind] - first[kind]) / frames, 1) for kind in last}}

    def deepen(self) -> bool:
        """One frame more under way from the next call (which then returns None: nothing new to
        show), up to ``deepest``; whether it was taken. A pipelined graph only."""
        if not self.latency or self.latency >= self.deepest:
            return False
        self.latency += 1
        self.executor.widen(self.latency + 1)
        return True

    def finish(self) -> Iterator[Any]:
        """The ``rgb`` of each frame still under way, in order (the loop ends)."""
        while self.latency and self.executor.under_way:
            yield self._rgb(self.executor.receive())

    def _rgb(self, product: RenderProduct) -> Any:
        self.audio = product.meta.get("audio")
        return product[RGB]


class LiveSession:
    def __init__(
        self,
        registry: Registry,
        initial: Mapping[str, Any],
        fps: float,
        render: RenderFn,
        options: LiveOptions,
        recipe: Mapping[str, Any] | None = None,
    ) -> None:
        self.options = options
        self.allow = AllowList(options.bind, options.allow_remote, options.allow, options.allow_hosts)
        self.tally = Tally()
        self.store = ParamStore(registry, initial)
        start = self.store.snapshot()
        self.inbox = Inbox(start, FrameClock(fps, getattr(render, "latency", 0)), self.tally)
        recorder = Recorder(options.record, recipe or {}, start) if options.record else None
        smoother = Smoother(registry, start, fps, options.smoothing)
        governor = FrameRateGovernor(fps, start) if options.hold_fps else None
        self.loop = LiveLoop(self.store, self.inbox, smoother, render, recorder, governor)
        self.receiver = OscReceiver(AddressTable(registry), self.inbox, self.tally)
        self.midi = MidiMap(registry, self.inbox, self.tally, options.midi_map)
        self.receiver.commands[LEARN_ADDRESS] = self.midi.command
        self._closers: list[Any] = [recorder] if recorder else []  # closed last: it keeps the take
        try:
            self._open(registry, options)
        except BaseException:
            self.close()
            raise

    def _open(self, registry: Registry, options: LiveOptions) -> None:
        self.midi_port = open_input(options.midi_in, self.midi) if options.midi_in else None
        if self.midi_port is not None:
            self._closers.append(self.midi_port)
        self.osc = OscServers(self.receiver, self.allow, options.osc_port, options.osc_tcp_port)
        self._closers.append(self.osc)
        self.aio = LoopThread()
        self._closers.append(self.aio)
        self.oscquery = self.preview = None
        if options.oscquery_port is not None:
            ports = (self.osc.udp_port, self.osc.tcp_port)
            with listening("--oscquery-port", options.bind, options.oscquery_port):
                self.oscquery = OscQueryServer(
                    self.aio, registry, self.inbox, self.receiver, self.allow, options.oscquery_port, ports
                )
            self._closers.append(self.oscquery)
        if options.announce:
            query_port = self.oscquery.port if self.oscquery else None
            self._closers.append(Announcer(self.allow.bind, "backrooms", query_port, self.osc.udp_port))
        if options.preview_port is not None:
            with listening("--preview-port", options.bind, options.preview_port):
                self.preview = PreviewServer(
                    self.aio,
                    self.receiver.addresses,
                    self.inbox,
                    self.tally,
                    self.allow,
                    options.preview_port,
                    self.midi.learn,
                    self.receiver.commands,
                )
            self.preview.status.append(self.loop.stats)
            if hasattr(self.loop.render, "costs"):  # a graph's: where each frame's time goes
                self.preview.status.append(self.loop.render.costs)
            self._closers.append(self.preview)
            self.loop.sinks.append(self.preview.sink)

    def run(self, frames: int | None = None) -> None:
        self.loop.run(frames)

    def close(self) -> None:
        self.loop.stop()
        while self._closers:
            self._closers.pop().close()

    def __enter__(self) -> LiveSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
