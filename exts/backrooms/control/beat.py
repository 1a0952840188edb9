"""Knobs that follow the beat: with Link on, one knob is pushed up on every beat or bar and falls
back before the next, like a sidechained pulse (e.g. the panels flicker on the kick).

``beat.follow`` (off, beat, bar) picks the pulse, ``beat.knob`` the knob it drives (any numeric knob,
e.g. ``render.flicker`` or ``decay.tracking``), ``beat.depth`` how far (a fraction of the knob's range),
``beat.decay`` how much of the beat the pulse lasts. Set them in the recipe or over OSC like any knob.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from backrooms.params import REGISTRY, declare
from backrooms.params.store import Snapshot

NODE = "beat"

declare(NODE, "follow", "off", "pulse a knob on every Link beat or bar", choices=("off", "beat", "bar"))
declare(NODE, "knob", "render.flicker", "the knob the pulse drives (node.name of a numeric knob)")
declare(NODE, "depth", 0.5, "how far the pulse pushes the knob, as a share of its range", min=-1.0, max=1.0)
declare(NODE, "decay", 0.25, "how much of the beat (or bar) the pulse lasts", min=0.02, max=1.0)


def pulse(phase: float, quantum: float, follow: str, decay: float) -> float:
    """1 on the beat (or the bar's first beat), falling exponentially to ~0 after ``decay`` of it."""
    if follow == "off":
        return 0.0
    into = (phase % 1.0) if follow == "beat" else phase / quantum
    return math.exp(-5.0 * into / decay)


def on_the_beat(snapshot: Snapshot, link: Mapping[str, float], quantum: float) -> Snapshot:
    """``snapshot`` with ``beat.knob`` pushed by this instant's pulse (unchanged when nothing follows)."""
    follow, key = snapshot["beat.follow"], snapshot["beat.knob"]
    if follow == "off" or key not in snapshot or key not in REGISTRY:
        return snapshot
    param = REGISTRY[key]
    if param.type is not float or param.min is None or param.max is None:
        return snapshot
    amount = (
        snapshot["beat.depth"]
        * (param.max - param.min)
        * pulse(link["phase"], quantum, follow, snapshot["beat.decay"])
    )
    values: dict[str, Any] = dict(snapshot)
    values[key] = min(max(snapshot[key] + amount, param.min), param.max)
    return Snapshot(values, snapshot.version)


def ahead(link: Mapping[str, float], seconds: float, quantum: float) -> dict[str, float]:
    """Link's ``state`` as it will be ``seconds`` from now (its tempo held): the instant a frame
    started now is shown, ``latency`` frames on, so the pulse lands on the beat heard."""
    beats = link["tempo"] / 60.0 * seconds
    return {**link, "beat": link["beat"] + beats, "phase": (link["phase"] + beats) % quantum}
