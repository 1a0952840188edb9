"""The camera autopilot: an endless seeded walk through the corridors.

The walk is decided cell by cell (turn at junctions, prefer cells not visited lately, now and then
stop, look around or turn back), and each visited cell contributes one path piece: a straight line
between the midpoints of opposite walls, a quarter circle of radius cell/2 around the corner
between adjacent walls, or a walk to the centre and back for a U-turn. Pieces meet at wall
midpoints with the same tangent, so the path is smooth, is walked at constant speed, and never
comes nearer than a metre to any wall, pillar or prop (prototypes keep their props off these lines).

Frame ``n`` is evaluated from the piece timeline; the walk is extended lazily and kept, so any
frame can be asked for alone and costs only the cell decisions up to it (a few microseconds each).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from backrooms.params import Snapshot
from backrooms.world.cellhash import purpose_key, uniform_one
from backrooms.world.layout import EAST, NORTH, SOUTH, STEPS, WEST
from backrooms.world.types import Camera

DIRS = {
    EAST: np.array([1.0, 0.0]),
    NORTH: np.array([0.0, -1.0]),
    WEST: np.array([-1.0, 0.0]),
    SOUTH: np.array([0.0, 1.0]),
}
OPPOSITE = {EAST: WEST, WEST: EAST, NORTH: SOUTH, SOUTH: NORTH}
MEMORY = 4096  # cells remembered as "visited lately"
PAUSE_NONE, PAUSE_STOP, PAUSE_LOOK, PAUSE_TURN = range(4)
STRIDE = 1.5  # metres per full gait cycle (two steps)
GOAL_LEG = 150  # cells walked before the wander heading changes
HEADING_CHORD = 0.8  # metres behind and ahead whose chord sets the view direction
MIN_SPEED = 0.01  # m/s; a stopped camera still creeps, so time keeps mapping to a place
LOOKAHEAD = 4  # an opening whose unvisited cells end sooner than this is a dead end to skip


@dataclass(frozen=True)
class CameraSpec:
    """The ``camera.*`` parameters that shape the walk."""

    speed: float = 1.4
    fov: float = 62.0
    height: float = 1.6
    shake: float = 0.35
    bob: float = 0.5
    turn_rate: float = 0.45
    explore: float = 0.85
    stop_rate: float = 0.03
    look_rate: float = 0.06
    backtrack_rate: float = 0.01
    pause: float = 2.5

    @classmethod
    def from_params(cls, params: Snapshot) -> CameraSpec:
        cam = params.node("camera")
        return cls(**{k: cam[k] for k in cls.__dataclass_fields__ if k in cam})

    @property
    def path_key(self) -> tuple:
        """The fields that change which way the walk goes (speed only changes when it gets there)."""
        return (
            self.turn_rate,
            self.explore,
            self.stop_rate,
            self.look_rate,
            self.backtrack_rate,
            self.pause,
        )


class Autopilot:
    """Seeded walk over a cell graph given by ``mask_at(x, z) -> portal bits``."""

    def __init__(
        self,
        seed: int,
        spec: CameraSpec,
        mask_at: Callable[[int, int], int],
        cell_size: float,
        start: tuple[int, int],
    ) -> None:
        self.spec = spec
        self.mask_at = mask_at
        self.cell = cell_size
        self.key = purpose_key(seed, "autopilot")
        self.shake_key = purpose_key(seed, "shake")
        self._recent: OrderedDict[tuple[int, int], int] = OrderedDict()
        # Piece table (grown by doubling): cell x, z, entry side (0 = start), exit side, pause kind,
        # pause length, start time, start distance.
        self._n = 0
        self._cells = np.zeros((256, 4), np.int64)
        self._pause = np.zeros((256, 2), np.float64)
        self._speed = np.zeros(256, np.float64)  # walking speed of each piece (retime changes it)
        self._t0 = np.zeros(257, np.float64)
        self._d0 = np.zeros(257, np.float64)
        self._here = start
        self._entry = 0
        mask = mask_at(*start)
        if mask == 0:
            raise ValueError(f"autopilot start cell {start} is not walkable")

    # -- the walk ---------------------------------------------------------------------------------
    def _u(self, step: int, what: int) -> float:
        return uniform_one(self.key, step, what)

    def _choose_exit(self, step: int, mask: int, entry: int) -> tuple[int, int]:
        """Exit side and pause kind for the cell entered through side ``entry`` (0 at the start)."""
        s = self.spec
        back = entry
        sides = [d for d in (EAST, NORTH, WEST, SOUTH) if mask & d]
        forward = [d for d in sides if d != back] or sides
        pause = PAUSE_NONE
        if back and self._u(step, 0) < s.backtrack_rate and back in sides:
            return back, PAUSE_TURN
        if forward == [back]:
            return back, PAUSE_TURN  # dead end
        u = self._u(step, 1)
        if u < s.stop_rate:
            pause = PAUSE_STOP
        elif u < s.stop_rate + s.look_rate:
            pause = PAUSE_LOOK
        x, z = self._here
        neighbour = {d: (x + STEPS[d][0], z + STEPS[d][1]) for d in forward}
        fresh = [d for d in forward if neighbour[d] not in self._recent]
        if self._u(step, 2) >= s.explore:
            pool = forward
        elif fresh:
            reach = {d: self._fresh_reach(neighbour[d], (x, z)) for d in fresh}
            pool = [d for d in fresh if reach[d] >= LOOKAHEAD] or fresh  # skip short dead ends
        else:  # everything near was seen lately: head for what was seen longest ago
            pool = [min(forward, key=lambda d: self._recent[neighbour[d]])]
        straight = OPPOSITE[entry] if entry else None
        if straight in pool and (len(pool) == 1 or self._u(step, 3) >= s.turn_rate):
            return straight, pause
        turns = [d for d in pool if d != straight] or pool
        # A slowly wandering goal heading (new every GOAL_LEG cells) carries the walk into new ground.
        goal = 2 * math.pi * self._u(step // GOAL_LEG, 7)
        aim = np.array([math.cos(goal), -math.sin(goal)])
        score = [float(DIRS[d] @ aim) + 1.5 * self._u(step, 10 + d) for d in turns]
        return turns[int(np.argmax(score))], pause

    def _fresh_reach(self, start: tuple[int, int], came_from: tuple[int, int]) -> int:
        """Unvisited cells reachable from ``start`` within LOOKAHEAD steps (capped at LOOKAHEAD)."""
        seen, frontier = {came_from, start}, [start]
        for _ in range(LOOKAHEAD):
            nxt = []
            for x, z in frontier:
                mask = self.mask_at(x, z)
                for d, (dx, dz) in STEPS.items():
                    cell = (x + dx, z + dz)
                    if mask & d and cell not in seen and cell not in self._recent:
                        seen.add(cell)
                        nxt.append(cell)
            frontier = nxt
            if len(seen) - 2 >= LOOKAHEAD or not frontier:
                break
        return min(len(seen) - 1, LOOKAHEAD)

    def _piece_length(self, entry: int, exit_: int) -> float:
        if entry == 0:
            return self.cell / 2
        if exit_ == entry or exit_ == OPPOSITE[entry]:
            return self.cell
        return math.pi * self.cell / 4

    def _grow(self) -> None:
        size = len(self._cells) * 2
        self._cells = np.resize(self._cells, (size, 4))
        self._pause = np.resize(self._pause, (size, 2))
        self._speed = np.resize(self._speed, size)
        self._t0 = np.resize(self._t0, size + 1)
        self._d0 = np.resize(self._d0, size + 1)

    def _extend(self) -> None:
        step = self._n
        if step >= len(self._cells):
            self._grow()
        x, z = self._here
        mask = self.mask_at(x, z)
        exit_, pause = self._choose_exit(step, mask, self._entry)
        if self._entry == 0 and pause == PAUSE_TURN:
            pause = PAUSE_NONE
        length = self._piece_length(self._entry, exit_)
        hold = 0.0
        if pause == PAUSE_TURN:
            hold = 1.6
        elif pause != PAUSE_NONE:
            hold = self.spec.pause * (0.6 + 0.8 * self._u(step, 5))
        self._cells[step] = (x, z, self._entry, exit_)
        self._pause[step] = (pause, hold)
        speed = max(self.spec.speed, MIN_SPEED)
        self._speed[step] = speed
        self._t0[step + 1] = self._t0[step] + length / speed + hold
        self._d0[step + 1] = self._d0[step] + length
        self._recent[(x, z)] = step
        self._recent.move_to_end((x, z))
        if len(self._recent) > MEMORY:
            self._recent.popitem(last=False)
        self._here = (x + STEPS[exit_][0], z + STEPS[exit_][1])
        self._entry = OPPOSITE[exit_]
        self._n += 1

    def piece_at(self, t: float) -> int:
        """Index of the piece walked at time ``t`` seconds (extends the walk as needed)."""
        while self._n == 0 or self._t0[self._n] <= t:
            self._extend()
        return int(np.searchsorted(self._t0[1 : self._n + 1], t, side="right"))

    def cells_walked(self, t: float) -> int:
        return self.piece_at(t) + 1

    def path_cell(self, index: int) -> tuple[int, int]:
        while self._n <= index:
            self._extend()
        return int(self._cells[index, 0]), int(self._cells[index, 1])

    def retime(self, t: float, speed: float) -> None:
        """Walk on at ``speed`` from time ``t`` (a live speed change): the camera stays where it is
        at ``t`` and the pieces after it are re-timed; earlier pieces keep their timing."""
        t = max(t, 0.0)
        i = self.piece_at(t)
        entry, exit_ = int(self._cells[i, 2]), int(self._cells[i, 3])
        length, hold = self._piece_length(entry, exit_), self._pause[i, 1]
        old, new = self._speed[i], max(speed, MIN_SPEED)
        local = t - self._t0[i]
        if entry == 0 or local < length / 2 / old:
            local = local * old / new
        elif local < length / 2 / old + hold:
            local = length / 2 / new + (local - length / 2 / old)
        else:
            local = length / 2 / new + hold + (local - length / 2 / old - hold) * old / new
        n = self._n
        self._speed[i:n] = new
        self._t0[i] = t - local
        lengths = self._d0[i + 1 : n + 1] - self._d0[i:n]
        self._t0[i + 1 : n + 1] = self._t0[i] + np.cumsum(lengths / new + self._pause[i:n, 1])
        self.spec = replace(self.spec, speed=speed)

    # -- evaluation ---------------------------------------------------------------------------------
    def pose(self, t: float) -> tuple[np.ndarray, float, float]:
        """Ground position (x, z), heading (radians from +X towards -Z, i.e. counter-clockwise seen
        from above) and distance walked at time ``t``."""
        i = self.piece_at(max(t, 0.0))
        x, z, entry, exit_ = (int(v) for v in self._cells[i])
        pause, hold = self._pause[i]
        length = self._piece_length(entry, exit_)
        speed = self._speed[i]
        local = max(t, 0.0) - self._t0[i]
        half = length / 2 / speed
        extra_yaw = 0.0
        if entry == 0:
            s = min(local * speed, length)
        elif local < half:
            s = local * speed
        elif local < half + hold:
            s = length / 2
            phase = (local - half) / hold
            if pause == PAUSE_LOOK:
                swing = 1.0 if self._u(i, 6) < 0.5 else -1.0
                extra_yaw = (
                    swing * math.radians(70) * math.sin(2 * math.pi * phase) * math.sin(math.pi * phase)
                )
            elif pause == PAUSE_TURN:
                extra_yaw = math.pi * (phase * phase * (3 - 2 * phase))
        else:
            s = min(length / 2 + (local - half - hold) * speed, length)
        centre = (np.array([x, z], np.float64) + 0.5) * self.cell
        point, tangent = self._on_piece(centre, entry, exit_, s, length)
        walked = float(self._d0[i] + s)
        # Look along a chord of the path so turns ease in and out; a U-turn's chord stays on the
        # side of its turning point the camera is on.
        lo, hi = walked - HEADING_CHORD, walked + HEADING_CHORD
        if exit_ == entry:
            middle = float(self._d0[i]) + length / 2
            lo, hi = (lo, min(hi, middle)) if s <= length / 2 else (max(lo, middle), hi)
        chord = self._ground_at(hi) - self._ground_at(lo)
        norm = float(np.hypot(*chord))
        if norm > 1e-6:
            tangent = chord / norm
        heading = math.atan2(-tangent[1], tangent[0]) + extra_yaw
        return point, heading, walked

    def _ground_at(self, distance: float) -> np.ndarray:
        """Ground position after walking ``distance`` metres (pauses take no distance)."""
        distance = max(distance, 0.0)
        while self._n == 0 or self._d0[self._n] <= distance:
            self._extend()
        i = int(np.searchsorted(self._d0[1 : self._n + 1], distance, side="right"))
        x, z, entry, exit_ = (int(v) for v in self._cells[i])
        centre = (np.array([x, z], np.float64) + 0.5) * self.cell
        length = self._piece_length(entry, exit_)
        return self._on_piece(centre, entry, exit_, distance - self._d0[i], length)[0]

    def _on_piece(self, centre: np.ndarray, entry: int, exit_: int, s: float, length: float):
        r = self.cell / 2
        if entry == 0:
            d = DIRS[exit_]
            return centre + d * s, d
        a, b = DIRS[entry], DIRS[exit_]
        if exit_ == entry:  # U-turn: in to the centre, back out
            if s <= r:
                return centre + a * (r - s), -a
            return centre + a * (s - r), a
        if exit_ == OPPOSITE[entry]:
            return centre + a * r + (b - a) * r * (s / length), b
        corner = centre + r * (a + b)
        phi = (s / length) * (math.pi / 2)
        point = corner + r * (-b * math.cos(phi) - a * math.sin(phi))
        return point, b * math.sin(phi) - a * math.cos(phi)

    def camera(self, t: float) -> Camera:
        """The filmed camera at time ``t``: eye height, head bob and handheld shake added."""
        s = self.spec
        ground, heading, walked = self.pose(t)
        gait = 2 * math.pi * walked / STRIDE
        bob_y = s.bob * 0.025 * math.cos(2 * gait)
        sway = s.bob * 0.012 * math.sin(gait)
        yaw = heading + s.shake * math.radians(0.8) * self._noise(t, 0)
        pitch = -math.radians(2.0) + s.shake * math.radians(0.6) * self._noise(t, 1)
        roll = s.shake * math.radians(0.5) * self._noise(t, 2) + s.bob * math.radians(0.3) * math.sin(gait)
        forward = np.array(
            [math.cos(yaw) * math.cos(pitch), math.sin(pitch), -math.sin(yaw) * math.cos(pitch)]
        )
        right = np.array([math.sin(yaw), 0.0, math.cos(yaw)])
        up = np.cross(right, forward)
        cr, sr = math.cos(roll), math.sin(roll)
        right, up = right * cr + up * sr, up * cr - right * sr
        position = np.array([ground[0], s.height + bob_y, ground[1]]) + right * sway
        rotation = np.stack([right, up, -forward], axis=1)
        return Camera(position.astype(np.float32), rotation.astype(np.float32), fov_y=float(s.fov))

    def _noise(self, t: float, channel: int) -> float:
        """Smooth seeded noise in about [-1, 1]: three incommensurate sines with hashed phases."""
        total = 0.0
        for k, freq in enumerate((0.31, 0.73, 1.9)):
            phase = 2 * math.pi * uniform_one(self.shake_key, channel, k)
            total += math.sin(2 * math.pi * freq * t + phase) / (k + 1)
        return total / 1.83
