"""A user's soundtrack played through the tape frame by frame (``backrooms decay`` on a video)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from backrooms.audio.clock import RATE, frame_span
from backrooms.audio.node import event_track, frame_window, tape_speed
from backrooms.audio.params import NODE
from backrooms.audio.tape import tape
from backrooms.params.store import Snapshot


class FramePlayer:
    """A soundtrack (a user's video's) played through the tape frame by frame, each frame with the
    tape events the decay node gave that frame's picture, exactly as the audio node plays a render's:
    the same windows, warm-up and event shape, so a dropout dips the sound on the frames that tear.

    ``out`` is filled as frames are played; ``play_rest`` plays what the sound has past the last frame.
    """

    def __init__(self, sound: np.ndarray, params: Snapshot, seed: int, fps: float, rate: int = RATE) -> None:
        self.sound = np.asarray(sound, np.float64)
        self.values = params.node(NODE)
        self.speed = tape_speed(params, self.values["speed"])
        self.seed, self.fps, self.rate = seed, fps, rate
        self.out = np.zeros(self.sound.shape, np.float32)
        self.frames = 0

    def play(self, frame: int, events: Mapping[str, Any]) -> None:
        """Fill ``out`` over ``frame``'s samples, with the frame's ``{event: strength}``."""
        span, start, count = frame_window(frame, self.fps, self.values, self.rate)
        end = min(span[1], len(self.sound))
        self.frames = max(self.frames, frame + 1)
        if span[0] >= end:
            return
        window = np.zeros((count, self.sound.shape[1]))
        lo, hi = max(start, 0), min(start + count, len(self.sound))
        window[lo - start : hi - start] = self.sound[lo:hi]
        track = event_track(events, start, count, span)
        played = tape(window, start, span, self.values, self.speed, track, self.seed, self.rate)
        self.out[span[0] : end] = played[: end - span[0]]

    def play_rest(self) -> None:
        """The sound that runs on past the picture: played on, with no events."""
        frame = self.frames
        while frame_span(frame, self.fps, self.rate)[0] < len(self.sound):
            self.play(frame, {})
            frame += 1
