"""The real-time frame loop: take what controllers sent, smooth it, render, show, record.

Each frame: changes due at this frame leave the :class:`Inbox`; continuous parameters glide
towards their targets (:class:`Smoother`), the rest jump; the store is updated at once (one
consistent snapshot per frame); the automation recorder writes what changed; the frame is
rendered and handed to the sinks (web preview, probes). A change that arrives while frame N is in
progress is therefore applied at the start of frame N+1.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from backrooms.control.clock import FrameClock
from backrooms.control.inbox import Inbox
from backrooms.params.automation import Recorder
from backrooms.params.smoothing import Smoother
from backrooms.params.store import ParamStore, Snapshot

# A frame is an (H, W, 4) uint8 RGBA array: numpy, or a device array with ``.numpy()`` (wp.array).
RenderFn = Callable[[int, Snapshot], Any]
Sink = Callable[[int, Any, Snapshot], None]
FRAME_TIMES = 4096  # frame times kept for the bench and the readout: the last ~3 minutes at 24 fps


def host_rgb(rgb: Any) -> np.ndarray:
    """A host copy of a frame (device arrays are copied over; numpy arrays are copied too)."""
    return np.array(rgb.numpy() if hasattr(rgb, "numpy") else rgb)


class LiveLoop:
    def __init__(
        self,
        store: ParamStore,
        inbox: Inbox,
        smoother: Smoother,
        render: RenderFn,
        recorder: Recorder | None = None,
    ) -> None:
        self.store = store
        self.inbox = inbox
        self.clock: FrameClock = inbox.clock
        self.smoother = smoother
        self.render = render
        self.recorder = recorder
        self.sinks: list[Sink] = []
        self.frame = 0
        self.frame_seconds: deque[float] = deque(maxlen=FRAME_TIMES)  # an endless session stays bounded
        self.stop_event = threading.Event()

    def step(self) -> Snapshot:
        """Apply what is due and render the current frame; returns the snapshot it used."""
        frame = self.frame
        self.clock.begin(frame, time.perf_counter())
        changes: dict[str, Any] = {}
        for key, value in self.inbox.take(frame).items():
            if self.smoother.smooths(key):
                self.smoother.set_target(key, value)
            else:
                self.smoother.jump(key, value)
                changes[key] = value
        changes.update(self.smoother.step())
        applied = self.store.update(changes)
        if self.recorder is not None:
            self.recorder.record(frame, applied)
        snapshot = self.store.snapshot()
        rgb = self.render(frame, snapshot)
        for sink in self.sinks:
            sink(frame, rgb, snapshot)
        self.frame = frame + 1
        return snapshot

    def run(self, frames: int | None = None) -> None:
        """Play frames at the clock's rate until ``frames`` are done or ``stop()`` is called."""
        end = None if frames is None else self.frame + frames
        try:
            while not self.stop_event.is_set() and (end is None or self.frame < end):
                delay = self.clock.due(self.frame) - time.perf_counter()
                if delay > 0 and self.stop_event.wait(delay):
                    break
                began = time.perf_counter()
                self.step()
                self.frame_seconds.append(time.perf_counter() - began)
        finally:
            if self.recorder is not None:
                self.recorder.close()

    def stop(self) -> None:
        self.stop_event.set()
