"""Where every controller's changes meet the frame loop.

Network and MIDI threads ``submit`` checked values; the frame loop ``take``s what is due at the
start of each frame. Immediate changes coalesce (latest wins per parameter), so a flood of
messages costs the frame loop no more than one change per parameter. Timetagged changes wait in a
bounded heap for the frame they name. A scene morph (``glide``) is played frame by frame: each
frame takes its values from it, so a morph of every knob over an hour holds no more than its two
scenes (it was one heap entry per knob and frame, and a 3-second morph of every knob filled the
heap, stopping the glide part way). ``targets`` is what controllers asked for last (fed back to
them through OSCQuery LISTEN and the preview page); the store holds the smoothed values frames use.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable, Mapping
from typing import Any

from backrooms.control.clock import FrameClock
from backrooms.control.tally import Tally
from backrooms.params.scenes import Morph

MAX_SCHEDULED = 10000
MAX_AHEAD_SECONDS = 3600.0

TargetListener = Callable[[dict[str, Any]], None]


class Inbox:
    def __init__(self, initial: Mapping[str, Any], clock: FrameClock, tally: Tally) -> None:
        self.clock = clock
        self.tally = tally
        self._lock = threading.Lock()
        self._seq = itertools.count()
        self._pending: dict[str, tuple[int, Any]] = {}
        self._scheduled: list[tuple[int, int, str, Any]] = []
        self._glides: list[tuple[int, int, Morph]] = []  # (its first frame, seq, morph), oldest first
        self._targets = dict(initial)
        self._listeners: list[TargetListener] = []

    def submit(
        self, changes: Mapping[str, Any], when: float | None = None, in_frames: int | None = None
    ) -> int | None:
        """Queue checked values for the next frame, for the frame the Unix time ``when`` names, or
        for the frame ``in_frames`` after the one in progress (a gesture the graph plays frame by
        frame, however late its frames are shown).

        Returns the frame in progress when they were queued (None if refused): immediate changes
        are applied from the frame after it.
        """
        if not changes:
            return None
        frame = None if when is None else self.clock.frame_for(when)
        with self._lock:
            queued_during = self.clock.current
            if in_frames is not None:
                frame = queued_during + in_frames
            if frame is not None and frame <= self.clock.current:
                frame = None  # late or past timetags apply on the next frame
            if frame is None:
                for key, value in changes.items():
                    self._pending[key] = (next(self._seq), value)
                    self._targets[key] = value
            elif frame - self.clock.current > MAX_AHEAD_SECONDS * self.clock.fps:
                self.tally.add("timetag_too_far", f"frame {frame} is more than an hour ahead")
                return None
            elif len(self._scheduled) + len(changes) > MAX_SCHEDULED:
                self.tally.add("schedule_full", f"more than {MAX_SCHEDULED} timetagged changes waiting")
                return None
            else:
                for key, value in changes.items():
                    heapq.heappush(self._scheduled, (frame, next(self._seq), key, value))
            listeners = list(self._listeners) if frame is None else []
        for listener in listeners:
            listener(dict(changes))
        return queued_during

    def glide(self, morph: Morph) -> int:
        """Play ``morph`` from the frame after the one in progress, one of its frames per frame; it
        takes its knobs over from any morph before it. Returns the frame in progress."""
        with self._lock:
            current = self.clock.current
            for _, _, older in self._glides:
                older.target = {k: v for k, v in older.target.items() if k not in morph.target}
            self._glides = [g for g in self._glides if g[2].target]
            self._glides.append((current + 1, next(self._seq), morph))
        return current

    def take(self, frame: int) -> dict[str, Any]:
        """Everything due at ``frame``, in arrival order (the latest value wins)."""
        with self._lock:
            due: list[tuple[int, str, Any]] = [(seq, k, v) for k, (seq, v) in self._pending.items()]
            self._pending.clear()
            fired: dict[str, Any] = {}
            while self._scheduled and self._scheduled[0][0] <= frame:
                _, seq, key, value = heapq.heappop(self._scheduled)
                due.append((seq, key, value))
                fired[key] = value
            for first, seq, morph in self._glides:
                if frame >= first:
                    for key, value in morph.at(frame - first + 1).items():
                        due.append((seq, key, value))
                        fired[key] = value
            self._glides = [g for g in self._glides if frame < g[0] + g[2].frames - 1]
            self._targets.update(fired)
            listeners = list(self._listeners) if fired else []
        for listener in listeners:
            listener(fired)
        return {key: value for _, key, value in sorted(due, key=lambda item: item[0])}

    def announce(self, changes: Mapping[str, Any]) -> None:
        """Values the loop set on its own (the frame-rate governor's steps): targets and listeners
        (the page, OSCQuery) learn them; nothing is queued, they are applied already."""
        if not changes:
            return
        with self._lock:
            self._targets.update(changes)
            listeners = list(self._listeners)
        for listener in listeners:
            listener(dict(changes))

    def target(self, key: str) -> Any:
        with self._lock:
            return self._targets[key]

    def targets(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._targets)

    def subscribe(self, listener: TargetListener) -> None:
        """Call ``listener(changes)`` whenever a target changes (from any thread; keep it cheap)."""
        with self._lock:
            self._listeners.append(listener)
