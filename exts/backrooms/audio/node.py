"""``AudioNode``: the frame's soundtrack, made from what the render product says about the frame.

It reads ``product.meta["lights"]`` and ``product.meta["camera"]`` (written by the render node) and
``product.meta.get("tape_events", {})`` (``{name: strength}``, written by the decay node), and writes
``product.meta["audio"]``: float32 ``(samples, 2)`` at ``product.meta["audio_rate"]`` Hz, exactly the
samples of this frame (``audio.clock.frame_span``). Each frame is a pure function of the frame and
its product: the filters settle on a warm-up stretch before the frame instead of carrying state, so
any frame, rendered alone, resumed or in a shard, gives the same samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from backrooms.audio.clock import RATE, frame_bump, frame_span
from backrooms.audio.mic import mic
from backrooms.audio.params import NODE
from backrooms.audio.room import crackle, hum, nearby, room_tone
from backrooms.audio.steps import steps
from backrooms.audio.tape import max_offset, tape
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.params.store import Snapshot

WARMUP = 3072  # samples before the frame on which the filters and the AGC settle (64 ms)
TAPE_SPEEDS = {"sp": "sp", "lp": "lp", "ep": "ep", "worn": "lp", "found-footage": "ep"}


def mains_frequency(params: Snapshot, choice: str) -> int:
    """50 or 60 Hz: the knob, or with ``auto`` the video standard the decay node plays (PAL = 50)."""
    if choice != "auto":
        return int(choice)
    standard = str(params.get("decay.standard", "ntsc")).lower()
    return 50 if standard.startswith(("pal", "secam")) else 60


def tape_speed(params: Snapshot, choice: str) -> str:
    """sp/lp/ep: the knob, or with ``auto`` the speed of the decay node's preset."""
    return TAPE_SPEEDS.get(str(params.get("decay.preset", "sp")), "sp") if choice == "auto" else choice


def event_strength(events: Mapping[str, Any]) -> float:
    """The summed strength of this frame's tape events (non-numbers count as 1)."""
    total = 0.0
    for value in events.values():
        total += float(value) if isinstance(value, (int, float)) else 1.0
    return max(total, 0.0)


def frame_window(
    frame: int, fps: float, values: Mapping[str, Any], rate: int
) -> tuple[tuple[int, int], int, int]:
    """(the frame's samples, first sample, sample count) of the stretch a frame's sound is made on:
    the frame plus the warm-up before it and the reach of wow and flutter after it."""
    span = frame_span(frame, fps, rate)
    start = span[0] - WARMUP
    return span, start, span[1] + max_offset(values, rate) + 64 - start


def event_track(
    events: Mapping[str, Any], start: int, count: int, span: tuple[int, int]
) -> np.ndarray | None:
    """Per-sample strength of the frame's tape events over the window (None when there are none)."""
    strength = event_strength(events)
    return strength * frame_bump(start, count, span) if strength > 0.0 else None


class AudioNode(Node):
    """Stateless: every frame's samples are made alone (see the module docstring)."""

    kind = NODE

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.rate = RATE

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        product.meta["audio"] = self.samples(product.frame, product.meta, params)
        product.meta["audio_rate"] = self.rate

    def samples(self, frame: int, meta: Mapping[str, Any], params: Snapshot) -> np.ndarray:
        """float32 (samples, 2) of ``frame``, from the frame's product ``meta``."""
        values = params.node(NODE)
        seed, rate = self.context.seed, self.rate
        span, start, count = frame_window(frame, self.context.fps, values, rate)
        sound = room_tone(start, count, values, seed, rate)
        lights, camera = meta.get("lights"), meta.get("camera")
        if lights is not None and camera is not None:
            mains = mains_frequency(params, values["mains"])
            heard = nearby(lights, camera, values)
            sound += hum(heard, camera, start, count, span, values, seed, mains, rate)
            sound += crackle(heard, camera, start, count, span, values, seed, rate)
        if camera is not None:
            sound += steps(camera, start, count, values, seed, self.context.fps, rate)
        speed = tape_speed(params, values["speed"])
        events = event_track(meta.get("tape_events", {}), start, count, span)
        played = tape(mic(sound, values, rate), start, span, values, speed, events, seed, rate)
        return np.clip(values["level"] * played, -1.0, 1.0).astype(np.float32)
