"""The real-time frame loop: take what controllers sent, smooth it, render, show, record.

Each frame: changes due at this frame leave the :class:`Inbox`; continuous parameters glide
towards their targets (:class:`Smoother`), the rest jump; the store is updated at once (one
consistent snapshot per frame); the automation recorder writes what changed; the frame is
rendered and handed to the sinks (web preview, probes). A change that arrives while frame N is in
progress is therefore applied at the start of frame N+1. With a :class:`FrameRateGovernor`, its
steps (render cost down when frames run late, up when there is room) are applied the same way.
A pipelined render (``backrooms live``'s graph) shows frame N while it starts N + ``latency``: a
frame is recorded and handed to the sinks when it is shown, so a take holds what was seen.

The registry refuses unusable values at the door, but a node may still fail on a value it was given
(a model folder deleted since, a backend that will not load): then the discrete knobs changed since
the last good frame go back to their last good values, the failure is logged and counted, and the
frame is rendered again. A controller never ends the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from backrooms.control.clock import FrameClock
from backrooms.control.governor import FrameRateGovernor
from backrooms.control.inbox import Inbox
from backrooms.errors import UserError
from backrooms.launch import cpu_cores
from backrooms.params.automation import Recorder
from backrooms.params.registry import ParamError
from backrooms.params.smoothing import Smoother
from backrooms.params.store import ParamStore, Snapshot

# A frame is an (H, W, 4) uint8 RGBA array: numpy, or a device array with ``.numpy()`` (wp.array).
# A pipelined render (``GraphFrames``) returns the frame it started ``latency`` calls before (None
# while its first frames are under way) and has ``finish()``, the frames still under way.
RenderFn = Callable[[int, Snapshot], Any]
Sink = Callable[[int, Any, Snapshot], None]
FRAME_TIMES = 4096  # frame times kept for the bench and the readout: the last ~3 minutes at 24 fps
FPS_WINDOW = 2.0  # seconds of frame starts the achieved frame rate is measured over
LATENCY = 2  # frames the graph's picture trails the frame started: 1 leaves a core idle (docs/live.md)
LOG = logging.getLogger("backrooms.control")


def host_rgb(rgb: Any) -> np.ndarray:
    """A host copy of a frame (device arrays are copied over; numpy arrays are copied too)."""
    return np.array(rgb.numpy() if hasattr(rgb, "numpy") else rgb)


def achieved_fps(starts: Sequence[float], now: float, window: float = FPS_WINDOW) -> float:
    """Frames started per second over the last ``window`` seconds (0 when none, or stalled)."""
    recent = [t for t in starts if now - t <= window]
    if len(recent) < 2:
        return 0.0
    return (len(recent) - 1) / (recent[-1] - recent[0])


class LiveLoop:
    def __init__(
        self,
        store: ParamStore,
        inbox: Inbox,
        smoother: Smoother,
        render: RenderFn,
        recorder: Recorder | None = None,
        governor: FrameRateGovernor | None = None,
    ) -> None:
        self.store = store
        self.inbox = inbox
        self.clock: FrameClock = inbox.clock
        self.smoother = smoother
        self.render = render
        self.latency: int = getattr(render, "latency", 0)
        self.recorder = recorder
        self.governor = governor
        self.sinks: list[Sink] = []
        self.frame = 0
        self.frame_seconds: deque[float] = deque(maxlen=FRAME_TIMES)  # an endless session stays bounded
        self.frame_starts: deque[float] = deque(maxlen=FRAME_TIMES)  # perf_counter() at each frame's start
        self.stop_event = threading.Event()
        self._good = store.snapshot()  # the values of the last frame that rendered
        # frames started and not yet shown, with their snapshot and changes: a pipelined render
        # (``latency`` frames) shows frame N when it starts N + latency
        self._under_way: deque[tuple[int, Snapshot, dict[str, Any]]] = deque()

    def step(self) -> Snapshot:
        """Apply what is due and render the current frame; returns the snapshot it used."""
        frame = self.frame
        self.clock.begin(frame, time.perf_counter())
        changes: dict[str, Any] = {}
        sent = self.inbox.take(frame)
        for key, value in sent.items():
            if self.smoother.smooths(key):
                self.smoother.set_target(key, value)
            else:
                self.smoother.jump(key, value)
                changes[key] = value
        if self.governor is not None:  # its steps jump (a controller's own value ends it)
            steps = self.governor.changes(sent)
            for key, value in steps.items():
                self.smoother.jump(key, value)
                changes[key] = value
            self.inbox.announce(steps)  # the page and OSCQuery show the values in use
            if self.governor.deeper():
                self._deepen()
        changes.update(self.smoother.step())
        applied = self._apply(changes)
        snapshot = self.store.snapshot()
        self._under_way.append((frame, snapshot, applied))
        try:
            rgb = self.render(frame, snapshot)
        except UserError as exc:
            snapshot, rgb = self._fall_back(frame, exc)
        if len(self._under_way) > self.latency:  # else a pipelined render's first frames are under way
            self._show(rgb)
        self.frame = frame + 1
        return snapshot

    def _deepen(self) -> None:
        """One frame more under way, if the render can take it (``GraphFrames.deepen``): this frame
        shows nothing new, and from the next the picture trails the controls by a frame more."""
        deepen = getattr(self.render, "deepen", None)
        if deepen is None or not deepen():
            return
        self.latency = self.render.latency
        self.clock.set_latency(self.latency)
        LOG.warning(
            "live: frames still late at the lowest step: the picture now trails the controls by %d "
            "frames (%.0f ms)",
            self.latency,
            1000 * self.latency / self.clock.fps,
        )

    def _show(self, rgb: Any) -> None:
        """The oldest frame under way is done: record its changes, hand it to the sinks."""
        frame, snapshot, applied = self._under_way.popleft()
        self._good = snapshot
        if self.recorder is not None:
            try:
                self.recorder.record(frame, applied)
            except OSError as exc:  # a full disk ends the take (cut at its last whole line), not the show
                where = f"{self.recorder.path}: {exc.strerror or exc}"
                self.inbox.tally.add("take_not_written", f"{where}; it ends before frame {frame}")
        for sink in self.sinks:
            sink(frame, rgb, snapshot)

    def _apply(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Update the store; a value that passed the door but fails its check now is dropped alone."""
        try:
            return self.store.update(changes)
        except ParamError:
            kept = {}
            for key, value in changes.items():
                try:
                    kept[key] = self.store.registry[key].coerce(value)
                except ParamError as exc:
                    self.inbox.tally.add("refused_on_apply", str(exc))
            return self.store.update(kept)

    def _fall_back(self, frame: int, exc: UserError) -> tuple[Snapshot, Any]:
        """Put the discrete knobs back to the last good frame's values and render ``frame`` again;
        if none moved, the gliding ones jump back instead (no knob's value may end the show)."""
        current = self.store.snapshot()
        moved = {key: self._good[key] for key in current if current[key] != self._good[key]}
        restore = {key: value for key, value in moved.items() if not self.smoother.smooths(key)} or moved
        if not restore:
            raise exc
        self.inbox.tally.add("refused_by_node", str(exc))
        LOG.warning("live: frame %d: %s; kept the last good %s", frame, exc, ", ".join(sorted(restore)))
        for key, value in restore.items():
            self.smoother.jump(key, value)
        self.store.update(restore)
        self.inbox.submit(restore)  # controllers are told the value that is in use
        snapshot = self.store.snapshot()
        self._under_way.clear()  # frames after the last good one are not shown: this one follows it
        self._under_way.append((frame, snapshot, {k: v for k, v in snapshot.items() if self._good[k] != v}))
        return snapshot, self.render(frame, snapshot)

    def run(self, frames: int | None = None) -> None:
        """Play frames at the clock's rate until ``frames`` are done or ``stop()`` is called.

        The governor is told what a frame costs: its step's time, or, when more, the CPU time the
        process spent since the last frame over the cores. A pipelined render's step only waits
        for a frame the stages finished while the loop waited for its time, so paced frames take
        next to nothing there whatever the work behind them (the steps would go up until frames
        run late, and back down, every few seconds)."""
        end = None if frames is None else self.frame + frames
        cores, cpu = cpu_cores(), time.process_time()
        try:
            while not self.stop_event.is_set() and (end is None or self.frame < end):
                delay = self.clock.due(self.frame) - time.perf_counter()
                if delay > 0 and self.stop_event.wait(delay):
                    break
                began = time.perf_counter()
                self.frame_starts.append(began)
                self.step()
                self.frame_seconds.append(time.perf_counter() - began)
                now = time.process_time()  # every thread's CPU since the frame before
                spent, cpu = now - cpu, now
                if self.governor is not None:
                    self.governor.observe(max(self.frame_seconds[-1], spent / cores))
            self._finish()
        finally:
            if self.recorder is not None:
                self.recorder.close()

    def _finish(self) -> None:
        """Show the frames a pipelined render still has under way when the loop ends (a take ends
        on the last frame started); a failure there ends the take before its frame."""
        try:
            for rgb in getattr(self.render, "finish", tuple)():
                self._show(rgb)
        except UserError as exc:
            LOG.warning("live: frame %d: %s; the take ends before it", self._under_way[0][0], exc)

    def stats(self) -> dict[str, Any]:
        """The loop's real counters, as the preview page shows them."""
        return {
            "frame": self.frame,
            "fps": round(achieved_fps(tuple(self.frame_starts), time.perf_counter()), 2),
            "target_fps": self.clock.fps,
            "dropped": self.clock.dropped,
            "quality": "off" if self.governor is None else self.governor.state(),
            "latency": self.latency,  # frames the picture trails the frame started
        }

    def stop(self) -> None:
        self.stop_event.set()
