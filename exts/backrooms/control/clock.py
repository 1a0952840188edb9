"""The live frame clock: when each frame is due, and which frame an OSC timetag names."""

from __future__ import annotations

import math
import threading
import time


class FrameClock:
    """Frame ``n`` is due at ``start + n / fps``; when the loop falls behind, the clock slips.

    Slipping (re-anchoring) keeps timetag scheduling honest: a bundle stamped for a wall-clock
    instant is applied on the frame that is actually shown then, not on a frame of a schedule the
    machine could not keep.
    """

    def __init__(self, fps: float) -> None:
        self.fps = fps
        self._lock = threading.Lock()
        self._wall_minus_perf = time.time() - time.perf_counter()
        self._start = time.perf_counter()
        self.current = 0

    def due(self, frame: int) -> float:
        """``time.perf_counter()`` instant at which ``frame`` should start."""
        with self._lock:
            return self._start + frame / self.fps

    def begin(self, frame: int, now: float) -> None:
        """Mark ``frame`` as in progress at perf time ``now``; slip if more than a frame late."""
        with self._lock:
            if now - (self._start + frame / self.fps) > 1.0 / self.fps:
                self._start = now - frame / self.fps
            self.current = frame

    def frame_for(self, wall_time: float) -> int:
        """The first frame that starts at or after the Unix time ``wall_time``."""
        with self._lock:
            perf = wall_time - self._wall_minus_perf
            return math.ceil((perf - self._start) * self.fps - 1e-9)
