"""The person behind the camera: from the walker's ground path to the filmed camera.

On top of the route (``autopilot.py``) the operator adds what a hand-held camera does:
- the gait: eye drop at each footfall, side sway and roll over each stride, a small nod, all in step
  with the distance walked (``Style.stride``) and fading out as the walker slows to a stop;
- the hands: band-limited tremor (1D gradient noise with knots at 5 and 9 Hz, so its energy lies
  in about 2-8 Hz) and a slow aim drift with breathing, in fractions of a degree;
- the eyes: pans toward a side while stopped (look-arounds, hesitations at junctions and doorways,
  landmarks), glances up at flickering or dead panels and into side openings while walking, and
  now and then a quick whip-pan over the shoulder.
Every choice is hashed from (seed, piece index), every motion a function of time or distance
inside that piece, so any frame is evaluated alone; a gaze never outlasts its piece.
"""

from __future__ import annotations

import math

import numpy as np

from backrooms.world.autopilot import DIRS, PAUSE_HESITATE, PAUSE_LOOK, PAUSE_NONE, Autopilot, Ground
from backrooms.world.cellhash import purpose_key, uniform_one
from backrooms.world.layout import LANDMARK
from backrooms.world.types import Camera

TILT = math.radians(-2.0)  # the camcorder's resting aim, a little below the horizon
WHIP_IN, WHIP_OUT = 0.22, 0.45  # seconds a whip-pan takes to swing away and to come back


def gradient_noise(key: int, channel: int, x: float) -> float:
    """1D gradient noise in about [-1, 1]: zero at whole ``x``, energy around 0.3-1 cycles per unit."""
    i = math.floor(x)
    f = x - i
    g0 = 2.0 * uniform_one(key, channel, i) - 1.0
    g1 = 2.0 * uniform_one(key, channel, i + 1) - 1.0
    fade = f * f * f * (f * (6.0 * f - 15.0) + 10.0)
    return 2.0 * (g0 * f + (g1 * (f - 1.0) - g0 * f) * fade)


def _bump(x: float, rise0: float, rise1: float, fall0: float, fall1: float) -> float:
    """0 before ``rise0``, eases to 1 by ``rise1``, holds, eases back to 0 from ``fall0`` to ``fall1``."""
    if x <= rise0 or x >= fall1:
        return 0.0
    if x < rise1:
        u = (x - rise0) / (rise1 - rise0)
    elif x > fall0:
        u = (fall1 - x) / (fall1 - fall0)
    else:
        return 1.0
    return u * u * (3 - 2 * u)


class Operator:
    """Films the walk of an :class:`Autopilot`; reads its spec each call, so filming knobs apply live."""

    def __init__(self, seed: int, walk: Autopilot) -> None:
        self.walk = walk
        self.key = purpose_key(seed, "operator")

    def _u(self, piece: int, what: int) -> float:
        return uniform_one(self.key, piece, what)

    def _side_bit(self, entry: int, exit_: int, sign: float) -> int:
        """The portal bit on the left (``sign`` +1) or right (-1) of the walking direction at the
        piece's middle; 0 on a quarter arc, whose middle runs diagonally."""
        walk = self.walk
        length = walk._piece_length(entry, exit_)
        first = 0.0 if entry == 0 else length / 2
        tangent = walk._on_piece(np.zeros(2), entry, exit_, first, length)[1]
        left = sign * np.array([tangent[1], -tangent[0]])
        return next((d for d, v in DIRS.items() if float(v @ left) > 0.7), 0)

    def _side(self, piece: int, mask: int, entry: int, exit_: int, what: int, want_open: bool) -> float:
        """+1 (left) or -1 (right) of the walking direction at the piece's middle: an open side
        (or a closed one, where a landmark's prop stands) if exactly one qualifies, else by hash."""
        found = []
        for sign in (1.0, -1.0):
            bit = self._side_bit(entry, exit_, sign)
            if bit and bool(mask & bit) == want_open:
                found.append(sign)
        if len(found) == 1:
            return found[0]
        return 1.0 if self._u(piece, what) < 0.5 else -1.0

    def gaze(self, g: Ground, t: float) -> tuple[float, float]:
        """(yaw, pitch) radians the operator looks away from the path at time ``t``."""
        walk, spec = self.walk, self.walk.spec
        style, curious = walk.style, spec.curiosity
        i = g.piece
        entry, exit_, (mask, kind, _) = walk.cell_info(i)[2:]
        pause = walk.piece_kind(i)
        length = walk._piece_length(entry, exit_)
        first = 0.0 if entry == 0 else length / 2
        yaw = pitch = 0.0
        holds = walk._shape[i, 0] > 0
        up = walk.looks_up(i)  # at the cell's failing panel
        if up:  # while walking under it; stopped there, before looking around
            amount = math.radians(20 + 18 * self._u(i, 36)) * curious
            if holds:
                pitch += amount * _bump(g.hold, 0.0, 0.2, 0.3, 0.45)
            else:
                pitch += amount * _bump(g.along, first - 1.8, first - 0.9, first + 0.4, first + 1.3)
        if g.hold >= 0 and pause in (PAUSE_LOOK, PAUSE_HESITATE):
            landmark = kind == LANDMARK
            side = self._side(i, mask, entry, exit_, 30, want_open=not landmark)
            amount = 35 + 65 * self._u(i, 31) if pause == PAUSE_LOOK else 25 + 35 * self._u(i, 31)
            if not landmark and not mask & self._side_bit(entry, exit_, side):
                amount = min(amount, 40.0)  # a wall 2 m away: a shorter look
            span = (0.45, 0.6, 0.8, 0.97) if up else (0.05, 0.4, 0.6, 0.95)
            yaw += side * math.radians(amount) * curious * _bump(g.hold, *span)
        elif (
            pause == PAUSE_NONE
            and entry
            and len([d for d in DIRS if mask & d]) > 2
            and self._u(i, 32) < style.glance * 0.35
        ):
            side = self._side(i, mask, entry, exit_, 33, want_open=True)  # a look into a side opening
            amount = math.radians(20 + 25 * self._u(i, 34)) * curious
            yaw += side * amount * _bump(g.along, first - 1.2, first - 0.4, first + 0.3, first + 1.1)
        if self._u(i, 37) < style.whip:
            seconds = walk.piece_seconds(i)
            hold = 0.5 + 0.6 * self._u(i, 38)
            begin = (0.1 + 0.4 * self._u(i, 39)) * seconds
            if begin + WHIP_IN + hold + WHIP_OUT < seconds:
                local = t - float(walk._t0[i])
                side = 1.0 if self._u(i, 40) < 0.5 else -1.0
                swing = math.radians(70 + 80 * self._u(i, 41))
                yaw += (
                    side
                    * swing
                    * _bump(
                        local,
                        begin,
                        begin + WHIP_IN,
                        begin + WHIP_IN + hold,
                        begin + WHIP_IN + hold + WHIP_OUT,
                    )
                )
        return yaw, pitch

    def _hands(self, t: float, channel: int) -> float:
        """Tremor plus drift for one rotation channel (yaw 0, pitch 1, roll 2), in radians."""
        style, shake = self.walk.style, self.walk.spec.shake
        if shake == 0.0 or style.tremor + style.drift == 0.0:
            return 0.0
        k = self.key
        tremor = 0.65 * gradient_noise(k, 10 * channel, 5.0 * t) + 0.35 * gradient_noise(
            k, 10 * channel + 1, 9.0 * t
        )
        swell = 0.6 + 0.4 * abs(gradient_noise(k, 10 * channel + 2, 0.25 * t))
        drift = 0.7 * gradient_noise(k, 10 * channel + 3, 0.4 * t) + 0.3 * gradient_noise(
            k, 10 * channel + 4, 1.1 * t
        )
        return shake * math.radians(style.tremor * tremor * swell + style.drift * drift)

    def camera(self, t: float) -> Camera:
        """The filmed camera at time ``t``."""
        walk = self.walk
        spec, style = walk.spec, walk.style
        g = walk.ground(t)
        steps = g.walked / style.stride
        pace = float(walk._base[g.piece])
        gait = spec.bob * min(g.speed / pace, 1.3) if pace > 0 else 0.0
        stride = math.pi * steps  # one side-to-side cycle per two steps
        look_yaw, look_pitch = self.gaze(g, t)
        breath = 0.12 * math.sin(2 * math.pi * 0.23 * t) * spec.shake * min(style.drift, 1.0)
        yaw = (
            g.heading + look_yaw + self._hands(t, 0) + gait * math.radians(12 * style.sway) * math.sin(stride)
        )
        pitch = (
            TILT
            + look_pitch
            + self._hands(t, 1)
            + math.radians(breath)
            + gait * math.radians(12 * style.bob) * math.sin(2 * stride)
        )
        roll = 0.5 * self._hands(t, 2) + gait * math.radians(style.roll) * math.sin(stride)
        bob_y = -gait * style.bob * math.cos(2 * stride)
        sway = gait * style.sway * math.sin(stride)
        forward = np.array(
            [math.cos(yaw) * math.cos(pitch), math.sin(pitch), -math.sin(yaw) * math.cos(pitch)]
        )
        right = np.array([math.sin(yaw), 0.0, math.cos(yaw)])
        up = np.cross(right, forward)
        cr, sr = math.cos(roll), math.sin(roll)
        right, up = right * cr + up * sr, up * cr - right * sr
        side = np.array([math.sin(g.heading), 0.0, math.cos(g.heading)])  # sway across the path, not the gaze
        position = np.array([g.point[0], spec.height + bob_y, g.point[1]]) + side * sway
        rotation = np.stack([right, up, -forward], axis=1)
        return Camera(
            position.astype(np.float32),
            rotation.astype(np.float32),
            fov_y=float(spec.fov),
            steps=float(steps),
            speed=float(g.speed),
        )
