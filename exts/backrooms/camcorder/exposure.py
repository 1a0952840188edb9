"""The automatics: exposure, white-balance and focus servos that chase what the frame meters.

A servo here is a finite impulse response: its output at frame f is a weighted sum of the targets
metered at frames f-n+1 .. f (``MEMORY_S`` seconds). The weights are a damped second-order
system's impulse response, so a step in the scene is followed with lag and, when underdamped,
with the over- and undershoot of a 1990s camcorder hunting for its level. Because the state is
a pure function of the last n frames, any frame can be reproduced by replaying the n before it
(``Automatics.memory``), with no reset points that would make the picture jump.

Hunts of the autofocus and the drift of the white balance are pure functions of time (seeded per
slot), so they need no state at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from backrooms.seeds import numpy_rng, smooth_noise

MEMORY_S = 3.0  # how far back every servo looks
EV_FLOOR = -4.0  # the smallest exposure the iris and shutter reach
WB_LAG_S = 2.0  # white balance settles slowly and never overshoots
AF_LAG_S = 0.35
AF_OVERSHOOT = 0.2
HUNT_SLOT_S = 2.0  # autofocus hunts are drawn per slot of this length
HUNT_S = 0.9  # one hunt: rack one way, then the other, then settle
HUNT_DIOPTERS = (1.2, 2.8)  # how far a hunt racks the focus
DRIFT_PERIOD_S = 9.0  # the white balance's fluorescent cast wanders over this many seconds
# The fluorescent green-yellow cast at full drift, as log gains on r, g, b.
FLUORESCENT = (0.02, 0.06, -0.14)


@dataclass(frozen=True)
class Meter:
    """What the metering pass measured on one frame (before any gain)."""

    level: float  # centre-weighted average scene-linear luminance, highlights clipped
    rgb: tuple[float, float, float]  # average colour of the pixels that are not highlights
    diopters: float  # 1 / distance of the centre of the frame


@dataclass(frozen=True)
class Targets:
    """Where each servo wanted to be at one frame (computed with that frame's knobs)."""

    ev: float
    wb: tuple[float, float]  # log gains on red and blue against green
    diopters: float


@dataclass(frozen=True)
class Automatics:
    """The camera's settings for one frame, as the kernels read them."""

    ev: float  # exposure, log2 of the gain applied to scene light
    wb: tuple[float, float, float]  # white-balance gains on r, g, b
    focus: float  # diopters (1 / metres) in focus


@lru_cache(maxsize=64)
def response(n: int, fps: float, lag_s: float, overshoot: float) -> np.ndarray:
    """Weights of a servo over the last ``n`` frames (index 0: the current one); they sum to 1.

    A second-order system whose step response reaches its target after about ``lag_s`` and
    overshoots it by ``overshoot`` (a fraction; 0 is critically damped).
    """
    if overshoot > 0.0:
        log_os = math.log(overshoot)
        zeta = -log_os / math.sqrt(math.pi**2 + log_os**2)
    else:
        zeta = 1.0
    omega = 2.5 / lag_s
    t = (np.arange(n) + 0.5) / fps
    if zeta < 1.0:
        damped = omega * math.sqrt(1.0 - zeta * zeta)
        h = np.exp(-zeta * omega * t) * np.sin(damped * t)
    else:
        h = t * np.exp(-omega * t)
    return h / h.sum()


def memory(fps: float) -> int:
    """Frames a servo looks back over, the current one included."""
    return max(1, math.ceil(MEMORY_S * fps))


def targets(meter: Meter, values: dict[str, Any]) -> Targets:
    """Where the servos want to be for this frame's meter and knobs."""
    if values["exposure_mode"] == "manual":
        ev = values["exposure"]
    else:
        ev = math.log2(values["target"] / max(meter.level, 1e-4)) + values["exposure"]
        ev = min(max(ev, EV_FLOOR), values["gain_limit"])
    r, g, b = (max(c, 1e-4) for c in meter.rgb)
    amount = values["white_balance"]
    wb = (amount * math.log(g / r), amount * math.log(g / b))
    focus = 1.0 / values["focus"] if values["focus"] > 0.0 else meter.diopters
    return Targets(ev, wb, focus)


def hunt(frame: int, fps: float, seed: int, rate: float) -> float:
    """The autofocus's hunting offset in diopters at ``frame`` (0 when it is not hunting)."""
    t = frame / fps
    slot = math.floor(t / HUNT_SLOT_S)
    for s in (slot - 1, slot):  # a hunt that began late in the previous slot may still run
        rng = numpy_rng(seed, "camcorder", "hunt", s)
        chance, start, size, sign = rng.uniform(size=4)
        if chance >= rate * HUNT_SLOT_S / 10.0:
            continue
        phase = (t - (s + start) * HUNT_SLOT_S) / HUNT_S
        if 0.0 <= phase < 1.0:
            amplitude = HUNT_DIOPTERS[0] + (HUNT_DIOPTERS[1] - HUNT_DIOPTERS[0]) * size
            return (1.0 if sign < 0.5 else -1.0) * amplitude * math.sin(2.0 * math.pi * phase) * (1.0 - phase)
    return 0.0


def cast(frame: int, fps: float, seed: int, drift: float) -> tuple[float, float, float]:
    """The fluorescent cast the white balance has drifted to at ``frame``, as log gains on r, g, b."""
    u = drift * 0.5 * (1.0 + smooth_noise(frame / fps / DRIFT_PERIOD_S, seed, "camcorder", "wb_drift"))
    return tuple(u * c for c in FLUORESCENT)


class Servos:
    """The targets of the last ``memory(fps)`` frames and the settings they lead to."""

    def __init__(self, fps: float, seed: int) -> None:
        self.fps = fps
        self.seed = seed
        self.n = memory(fps)
        self._targets: dict[int, Targets] = {}

    def reset(self) -> None:
        self._targets.clear()

    def update(self, frame: int, meter: Meter, values: dict[str, Any]) -> Automatics:
        """Record this frame's targets and return the settings the servos reach at ``frame``.

        Frames of the window that were not seen (before the first frame, or before a seek on a
        host that cannot replay) count as the oldest frame that was: the servo starts locked.
        """
        self._targets[frame] = targets(meter, values)
        for old in [f for f in self._targets if f <= frame - self.n]:
            del self._targets[old]
        oldest = self._targets[min(self._targets)]
        window = [self._targets.get(frame - k, oldest) for k in range(self.n)]
        ae = response(self.n, self.fps, values["ae_lag"], values["ae_hunt"])
        wb = response(self.n, self.fps, WB_LAG_S, 0.0)
        af = response(self.n, self.fps, AF_LAG_S, AF_OVERSHOOT)
        if values["exposure_mode"] == "manual":
            ev = window[0].ev
        else:
            ev = float(ae @ np.array([t.ev for t in window]))
        wb_r, wb_b = (float(wb @ np.array([t.wb[i] for t in window])) for i in (0, 1))
        drift = cast(frame, self.fps, self.seed, values["wb_drift"])
        gains = (math.exp(wb_r + drift[0]), math.exp(drift[1]), math.exp(wb_b + drift[2]))
        if values["focus"] > 0.0:
            focus = window[0].diopters
        else:
            focus = float(af @ np.array([t.diopters for t in window]))
            focus += hunt(frame, self.fps, self.seed, values["af_hunt"])
        return Automatics(ev, gains, max(focus, 0.0))
