"""The tape's moments: a seeded, seekable track of events, plus events fired live.

Scheduled events are a pure function of (seed, event, time): time is cut into ``SLOT_SECONDS``
slots and each slot holds at most one event of each kind, whose start, length and variant are drawn
from the slot's own counter-based stream. So the events of any frame are known without playing the
tape from its start, and ``--start``/``--shard`` renders match one long run. A rate knob gives
events per minute on a fully worn tape (``decay.wear`` = 1); the effective rate is the knob times
the wear, times the ``noise`` master gain.

Fired events come from trigger knobs (``/backrooms/decay/event/<name>``: a bang adds 1 to the
counter). The node sees the counter change on the frame it was applied and plays the event from
there; because the live loop records the applied values, an automation replay fires it on the
same frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from backrooms.params import declare

if TYPE_CHECKING:
    from backrooms.decay.settings import FrameSettings
from backrooms.seeds import numpy_rng

NODE = "decay"
SLOT_SECONDS = 4.0  # longer than any event, so a frame only looks at its own slot and the one before
MAX_RATE = 15.0  # events per minute: one per slot


@dataclass(frozen=True)
class Kind:
    """One kind of event: how long it lasts and how often it comes on a fully worn tape."""

    shortest: float  # seconds
    longest: float
    rate: float  # default events per minute at wear 1
    text: str


EVENTS: dict[str, Kind] = {
    "tracking_roll": Kind(1.5, 3.0, 2.0, "a noisy band travels up the picture and settles"),
    "dropout_burst": Kind(0.3, 1.0, 3.0, "a burst of white dropout streaks"),
    "head_clog": Kind(1.0, 2.0, 0.5, "a clogged head: heavy snow over the picture"),
    "signal_loss": Kind(0.6, 2.0, 0.4, "no signal: snow, or the deck's blue screen with its OSD"),
    "pause_glitch": Kind(0.4, 0.8, 0.6, "pause/record-resume: a torn frame and a colour-lock wobble"),
    "tape_crease": Kind(0.5, 1.2, 1.0, "a crease: a line of damage crossing the picture"),
    "vertical_roll": Kind(0.4, 1.0, 0.5, "the picture rolls vertically and locks again"),
}
FIRE = "event/"  # fired-event trigger knobs: decay.event/<name>, OSC /backrooms/decay/event/<name>
RATE = "_rate"

for _name, _kind in EVENTS.items():
    declare(
        NODE,
        _name + RATE,
        _kind.rate,
        f"{_kind.text}: events per minute at wear 1 (x wear)",
        min=0.0,
        max=MAX_RATE,
        unit="1/min",
    )
    declare(NODE, FIRE + _name, 0, f"fire now: {_kind.text}", min=0, max=2**31 - 1, kind="trigger")


@dataclass(frozen=True)
class Active:
    """An event playing on this frame: ``phase`` 0..1 through it, ``variant`` a uniform draw."""

    name: str
    phase: float
    seconds: float  # its whole length
    variant: float

    @property
    def strength(self) -> float:
        """(0, 1]: a quick attack, a hold and a release (what a listener or a meter should show)."""
        x = self.phase
        return min(1.0, 0.25 + 8.0 * x, 4.0 * (1.0 - x))


def draw(seed: int, name: str, key: object) -> tuple[float, float, float, float]:
    """(chance, start share, length share, variant) uniforms of one slot or one firing."""
    u = numpy_rng(seed, "decay", "event", name, key).random(4)
    return float(u[0]), float(u[1]), float(u[2]), float(u[3])


def scheduled(seed: int, name: str, rate: float, frame: int, fps: float) -> Active | None:
    """The scheduled event of this kind playing on ``frame`` (None if none)."""
    if rate <= 0.0:
        return None
    kind = EVENTS[name]
    t = frame / fps
    chance = min(1.0, rate * SLOT_SECONDS / 60.0)
    slot = math.floor(t / SLOT_SECONDS)
    for k in (slot, slot - 1):
        u_on, u_start, u_len, variant = draw(seed, name, k)
        if u_on >= chance:
            continue
        start = (k + u_start) * SLOT_SECONDS
        length = kind.shortest + u_len * (kind.longest - kind.shortest)
        if start <= t < start + length:
            return Active(name, (t - start) / length, length, variant)
    return None


def fired(seed: int, name: str, count: int, since: int, fps: float) -> Active | None:
    """The live-fired event number ``count`` (fired ``since`` frames ago), while it plays."""
    kind = EVENTS[name]
    _, _, u_len, variant = draw(seed, name, ("fired", count))
    length = kind.shortest + u_len * (kind.longest - kind.shortest)
    t = since / fps
    return Active(name, t / length, length, variant) if 0.0 <= t < length else None


def longest_frames(fps: float) -> int:
    """Frames the longest event lasts: how far back a seek must replay to see a firing."""
    return math.ceil(max(k.longest for k in EVENTS.values()) * fps) + 1


class Firings:
    """Which trigger counters changed on which frame: the node's only memory (replayed on seeks)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.frames: dict[str, int] = {}

    def reset(self) -> None:
        self.counts.clear()
        self.frames.clear()

    def see(self, values: dict, frame: int) -> None:
        """Note the counters of ``frame``; a counter that moved since the last frame fires now.

        With no earlier frame seen, the registry default (0) is the reference at frame 0 and the
        counter itself after a seek (the executor replays ``longest_frames`` before the target).
        """
        for name in EVENTS:
            count = int(values[FIRE + name])
            before = self.counts.get(name, 0 if frame == 0 else count)
            if count != before:
                self.frames[name] = frame
            self.counts[name] = count

    def playing(self, seed: int, frame: int, fps: float) -> dict[str, Active]:
        out = {}
        for name, at in self.frames.items():
            active = fired(seed, name, self.counts[name], frame - at, fps)
            if active is not None:
                out[name] = active
        return out


def track(values: dict, seed: int, frame: int, fps: float, wear: float, noise: float) -> dict[str, Active]:
    """Every scheduled event playing on ``frame`` (rates scaled by wear and the noise gain)."""
    out = {}
    for name in EVENTS:
        active = scheduled(seed, name, float(values[name + RATE]) * wear * noise, frame, fps)
        if active is not None:
            out[name] = active
    return out


def apply(s: FrameSettings, playing: dict[str, Active]) -> FrameSettings:
    """The frame's settings with what each playing event does to the tape."""
    h = s.height
    change: dict[str, float | int] = {}
    hue, saturation, dropout_p = s.hue_rad, s.saturation, s.dropout_p
    for name, e in playing.items():
        x, v, level = e.phase, e.variant, e.strength
        if name == "tracking_roll":  # the band climbs from the bottom through the picture and fades
            change |= {
                "roll_row": h * (1.05 - 1.1 * x),
                "roll_lines": h * (0.05 + 0.05 * v),
                "roll_level": 1.5 * level,
            }
        elif name == "dropout_burst":
            dropout_p = min(
                dropout_p + level * (150.0 + 150.0 * v) / 1000.0 / (s.width * s.filters.over), 0.1
            )
        elif name == "head_clog":
            change["clog"] = max(float(change.get("clog", 0.0)), 0.85 * level)  # a ghost stays
        elif name == "signal_loss":
            key = "clog" if v < 0.5 else "blue"
            change[key] = max(float(change.get(key, 0.0)), min(1.0, 4.0 * level))
        elif name == "pause_glitch":  # the first frames tear, then colour lock wobbles back
            if x < 0.12:
                change |= {
                    "tear_row": round(h * (0.25 + 0.5 * v)),
                    "tear_px": s.width * (0.08 + 0.1 * v) * (1.0 - x / 0.12),
                }
            t = x * e.seconds
            hue += math.radians(35.0) * math.sin(2.0 * math.pi * 4.0 * t) * (1.0 - x)
            saturation *= 1.0 - 0.5 * (1.0 - x)
        elif name == "tape_crease":
            change |= {
                "crease_row": h * (0.15 + 0.7 * v),
                "crease_lines": max(1.5, 3.0 * h / 240.0),
                "crease_level": level,
            }
        elif name == "vertical_roll":  # once through the picture and its blanking bar, eased
            blank = round(0.08 * h)
            change |= {"v_roll": (h + blank) * x * x * (3.0 - 2.0 * x), "blank_lines": blank}
    return replace(s, hue_rad=hue, saturation=saturation, dropout_p=dropout_p, **change)
