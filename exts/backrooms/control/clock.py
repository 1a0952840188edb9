"""The live frame clock: when each frame is due, and which frame an OSC timetag names."""

from __future__ import annotations

import math
import threading
import time


class FrameClock:
    """Frame ``n`` is due at ``start + n / fps``; when the loop falls behind, the clock slips.

    Slipping (re-anchoring) keeps timetag scheduling honest: a bundle stamped for a wall-clock
    instant is applied on the frame that is actually shown then, not on a frame of a schedule the
    machine could not keep. ``dropped`` counts the frame slots that passed with no frame started in
    them (what the preview page shows as dropped frames); the wait for frame 0 to start and for it
    to render (it loads the kernels) is not counted.

    ``latency``: how many frames later a frame started is shown (a pipelined graph); a timetag names
    the frame that is *shown* at its instant, so it is started that many frames before.
    """

    def __init__(self, fps: float, latency: int = 0) -> None:
        self.fps = fps
        self.latency = latency
        self._lock = threading.Lock()
        self._wall_minus_perf = time.time() - time.perf_counter()
        self._start = time.perf_counter()
        self.current = 0
        self.dropped = 0

    def due(self, frame: int) -> float:
        """``time.perf_counter()`` instant at which ``frame`` should start."""
        with self._lock:
            return self._start + frame / self.fps

    def begin(self, frame: int, now: float) -> None:
        """Mark ``frame`` as in progress at perf time ``now``; slip if more than a frame late."""
        with self._lock:
            late = now - (self._start + frame / self.fps)
            if late > 1.0 / self.fps:
                self.dropped += int(late * self.fps) if frame > 1 else 0  # frame 0 warms up (kernels)
                self._start = now - frame / self.fps
            self.current = frame

    def set_latency(self, latency: int) -> None:
        """The picture now trails the frame started by ``latency`` frames (the loop deepened)."""
        with self._lock:
            self.latency = latency

    def frame_for(self, wall_time: float) -> int:
        """The frame to start so that it is shown in the first frame slot at or after the Unix time
        ``wall_time``."""
        with self._lock:
            perf = wall_time - self._wall_minus_perf
            return math.ceil((perf - self._start) * self.fps - 1e-9) - self.latency
