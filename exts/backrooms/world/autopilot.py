"""The route the camera operator walks: an endless seeded walk through the corridors, and its timing.

The walk is decided cell by cell (turn at junctions, prefer cells not visited lately, head for a
landmark within reach, now and then stop, look around, hesitate at a junction or doorway, or turn
back), and each visited cell contributes one path piece: a straight line between the midpoints of
opposite walls, a quarter circle of radius cell/2 around the corner between adjacent walls, or a
walk to the centre and back for a U-turn. Pieces meet at wall midpoints with the same tangent; the
walker keeps a seeded distance off the centre line (``Style.wander``, back to the line at doorways
and U-turns), so the path stays smooth and at least 1.5 m from every wall.

Timing: the speed at each piece boundary and in each piece's middle is seeded per boundary and per
piece, and changes linearly in time in between (constant acceleration); a stop slows to zero over
the last metre before the middle, stands for the hold, and sets off again. Everything is a pure
function of (seed, knobs, piece index), so frame ``n`` is evaluated from the lazily extended piece
table alone (a few microseconds per cell decision) and any frame renders alone.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import NamedTuple

import numpy as np

from backrooms.params import Snapshot
from backrooms.world.cellhash import purpose_key, uniform_one
from backrooms.world.layout import DOORWAY, EAST, LANDMARK, NORTH, SOUTH, STEPS, WEST
from backrooms.world.styles import STYLES, Style

DIRS = {
    EAST: np.array([1.0, 0.0]),
    NORTH: np.array([0.0, -1.0]),
    WEST: np.array([-1.0, 0.0]),
    SOUTH: np.array([0.0, 1.0]),
}
OPPOSITE = {EAST: WEST, WEST: EAST, NORTH: SOUTH, SOUTH: NORTH}
MEMORY = 4096  # cells remembered as "visited lately"
PAUSE_NONE, PAUSE_STOP, PAUSE_LOOK, PAUSE_TURN, PAUSE_HESITATE = range(5)
GOAL_LEG = 150  # cells walked before the wander heading changes
HEADING_CHORD = 0.8  # metres behind and ahead whose chord sets the view direction
MIN_SPEED = 0.01  # m/s; camera.speed 0 still creeps, so time keeps mapping to a place
LOOKAHEAD = 4  # an opening whose unvisited cells end sooner than this is a dead end to skip
# A landmark this many cells away (through open walls) draws the walk to it: the walk then finds
# about 1.1-1.5x world.landmark_rate landmarks per corridor cell it walks (measured; 3 gave 1.3-2x).
LANDMARK_REACH = 2
BRAKE = 1.0  # metres over which a stop slows to zero, and over which the walker sets off again
TURN_HOLD = 1.6  # seconds a U-turn takes on the spot
FAILING_LIGHTS = (1, 2)  # lights variants flickering and dead
CellInfo = tuple[int, int, int]  # (portal bits, kind, lights variant) of one cell


@dataclass(frozen=True)
class CameraSpec:
    """The ``camera.*`` parameters. No defaults here: they live in the registry (``params.py``)."""

    speed: float
    fov: float
    height: float
    operator: str
    shake: float
    bob: float
    curiosity: float
    turn_rate: float
    explore: float
    stop_rate: float
    look_rate: float
    backtrack_rate: float
    pause: float

    @classmethod
    def from_params(cls, params: Snapshot) -> CameraSpec:
        cam = params.node("camera")
        return cls(**{f.name: cam[f.name] for f in fields(cls)})

    @property
    def style(self) -> Style:
        return STYLES[self.operator]

    @property
    def path_key(self) -> tuple:
        """The fields that change the route or its timing (speed only re-times it)."""
        return (
            self.operator,
            self.turn_rate,
            self.explore,
            self.stop_rate,
            self.look_rate,
            self.backtrack_rate,
            self.pause,
        )


class Ground(NamedTuple):
    """Where the walker is at one instant, before the operator's head and hands move the camera."""

    point: np.ndarray  # (x, z) metres
    heading: float  # radians from +X towards -Z (counter-clockwise seen from above)
    walked: float  # metres walked since the start
    speed: float  # m/s along the path
    piece: int  # index of the path piece
    along: float  # metres into the piece
    hold: float  # 0..1 through the piece's stop, -1 when not standing in it


class Autopilot:
    """Seeded walk over a cell graph given by ``cell_at(x, z) -> (portal bits, kind, lights)``."""

    def __init__(
        self,
        seed: int,
        spec: CameraSpec,
        cell_at: Callable[[int, int], CellInfo],
        cell_size: float,
        start: tuple[int, int],
    ) -> None:
        self.spec = spec
        self.style = spec.style
        self.cell_at = cell_at
        self.cell = cell_size
        self.key = purpose_key(seed, "autopilot")
        self._recent: OrderedDict[tuple[int, int], int] = OrderedDict()
        # Piece table (grown by doubling): cell x, z, entry side (0 = start), exit side, pause kind;
        # hold seconds, speed factors at the start and middle, offsets at the start and middle,
        # whether the operator looks up at the cell's failing panel;
        # base speed; start time and start distance.
        self._n = 0
        self._cells = np.zeros((256, 5), np.int64)
        self._shape = np.zeros((256, 6), np.float64)
        self._base = np.zeros(256, np.float64)
        self._t0 = np.zeros(257, np.float64)
        self._d0 = np.zeros(257, np.float64)
        self._here = start
        self._entry = 0
        if cell_at(*start)[0] == 0:
            raise ValueError(f"autopilot start cell {start} is not walkable")

    # -- the route --------------------------------------------------------------------------------
    def _u(self, step: int, what: int) -> float:
        return uniform_one(self.key, step, what)

    def _choose_exit(self, step: int, mask: int, kind: int, entry: int) -> tuple[int, int]:
        """Exit side and pause kind for the cell entered through side ``entry`` (0 at the start)."""
        s, style = self.spec, self.style
        back = entry
        sides = [d for d in (EAST, NORTH, WEST, SOUTH) if mask & d]
        forward = [d for d in sides if d != back] or sides
        if back and self._u(step, 0) < s.backtrack_rate and back in sides:
            return back, PAUSE_TURN
        if forward == [back]:
            return back, PAUSE_TURN  # dead end
        pause = PAUSE_NONE
        u = self._u(step, 1)
        if u < s.stop_rate * style.stops:
            pause = PAUSE_STOP
        elif u < (s.stop_rate + s.look_rate) * style.stops or (kind == LANDMARK and u < 0.75):
            pause = PAUSE_LOOK
        elif (len(sides) > 2 or kind == DOORWAY) and self._u(step, 4) < style.hesitate:
            pause = PAUSE_HESITATE
        x, z = self._here
        neighbour = {d: (x + STEPS[d][0], z + STEPS[d][1]) for d in forward}
        toward = self._landmark_toward((x, z), forward)
        if toward:
            return toward, pause
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

    def _landmark_toward(self, here: tuple[int, int], forward: list[int]) -> int:
        """The first step (side) toward the nearest landmark not seen lately within LANDMARK_REACH
        cells, breadth first through open walls; 0 if there is none."""
        seen = {here}
        frontier = []
        for d in forward:
            cell = (here[0] + STEPS[d][0], here[1] + STEPS[d][1])
            seen.add(cell)
            frontier.append((cell, d))
        for _ in range(LANDMARK_REACH):
            nxt = []
            for (x, z), first in frontier:
                mask, kind, _ = self.cell_at(x, z)
                if kind == LANDMARK and (x, z) not in self._recent:
                    return first
                for d, (dx, dz) in STEPS.items():
                    cell = (x + dx, z + dz)
                    if mask & d and cell not in seen:
                        seen.add(cell)
                        nxt.append((cell, first))
            frontier = nxt
        return 0

    def _fresh_reach(self, start: tuple[int, int], came_from: tuple[int, int]) -> int:
        """Unvisited cells reachable from ``start`` within LOOKAHEAD steps (capped at LOOKAHEAD)."""
        seen, frontier = {came_from, start}, [start]
        for _ in range(LOOKAHEAD):
            nxt = []
            for x, z in frontier:
                mask = self.cell_at(x, z)[0]
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
        self._cells = np.resize(self._cells, (size, 5))
        self._shape = np.resize(self._shape, (size, 6))
        self._base = np.resize(self._base, size)
        self._t0 = np.resize(self._t0, size + 1)
        self._d0 = np.resize(self._d0, size + 1)

    def _boundary(self, k: int) -> tuple[float, float]:
        """Speed factor and centre-line offset where piece ``k`` begins (0, 0 at the start)."""
        if k == 0:
            return 0.0, 0.0
        style = self.style
        return 1.0 + style.vary * (2 * self._u(k, 20) - 1), style.wander * (2 * self._u(k, 21) - 1)

    def _extend(self) -> None:
        step = self._n
        if step >= len(self._cells):
            self._grow()
        x, z = self._here
        mask, kind, lights = self.cell_at(x, z)
        exit_, pause = self._choose_exit(step, mask, kind, self._entry)
        if self._entry == 0:
            pause = PAUSE_NONE  # the recording starts as the walk does
        hold = 0.0
        if pause == PAUSE_TURN:
            hold = TURN_HOLD + (2.0 if kind == LANDMARK else 0.0)  # look at the EXIT door first
        elif pause == PAUSE_HESITATE:
            hold = 0.5 + 0.8 * self._u(step, 5)
        elif pause != PAUSE_NONE:
            hold = self.spec.pause * (0.6 + 0.8 * self._u(step, 5))
        style = self.style
        up = lights in FAILING_LIGHTS and self._u(step, 6) < style.glance * 0.6
        if up and hold > 0:
            hold += 1.2  # stopped under a failing panel: look up at it, then around
        middle = 0.0 if hold > 0 or self._entry == 0 else 1.0 + style.vary * (2 * self._u(step, 22) - 1)
        calm = pause == PAUSE_TURN or kind == DOORWAY or self._entry == 0
        offset = 0.0 if calm else style.wander * (2 * self._u(step, 23) - 1)
        self._cells[step] = (x, z, self._entry, exit_, pause)
        start_speed, start_offset = self._boundary(step)
        self._shape[step] = (hold, start_speed, middle, start_offset, offset, float(up))
        self._base[step] = max(self.spec.speed * style.pace, MIN_SPEED)
        length = self._piece_length(self._entry, exit_)
        self._t0[step + 1] = self._t0[step] + sum(seg[3] for seg in self._segments(step))
        self._d0[step + 1] = self._d0[step] + length
        self._recent[(x, z)] = step
        self._recent.move_to_end((x, z))
        if len(self._recent) > MEMORY:
            self._recent.popitem(last=False)
        self._here = (x + STEPS[exit_][0], z + STEPS[exit_][1])
        self._entry = OPPOSITE[exit_]
        self._n += 1

    def _segments(self, i: int, base: float | None = None) -> list[tuple[float, float, float, float]]:
        """Piece ``i`` as (length, speed from, speed to, seconds) stretches, the hold as a
        zero-length stretch between its two halves."""
        entry, exit_ = int(self._cells[i, 2]), int(self._cells[i, 3])
        hold, start, middle = self._shape[i, :3]
        end = self._boundary(i + 1)[0]
        base = self._base[i] if base is None else base
        length = self._piece_length(entry, exit_)
        first = 0.0 if entry == 0 else length / 2
        a, m, b = start * base, middle * base, end * base
        out: list[tuple[float, float, float]] = []
        if first > 0:
            out += [(first - BRAKE, a, a), (BRAKE, a, 0.0)] if m == 0 else [(first, a, m)]
        out.append((0.0, 0.0, 0.0))
        rest = length - first
        out += [(BRAKE, 0.0, b), (rest - BRAKE, b, b)] if m == 0 else [(rest, m, b)]
        timed = []
        for seg_length, v0, v1 in out:
            seconds = hold if seg_length == 0 else 2 * seg_length / max(v0 + v1, 1e-9)
            timed.append((seg_length, v0, v1, seconds))
        return timed

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

    def piece_kind(self, index: int) -> int:
        """The pause kind of piece ``index`` (PAUSE_NONE ... PAUSE_HESITATE)."""
        self.path_cell(index)
        return int(self._cells[index, 4])

    def looks_up(self, index: int) -> bool:
        """Whether the operator looks up at the failing panel of piece ``index``'s cell."""
        self.path_cell(index)
        return bool(self._shape[index, 5])

    def piece_seconds(self, index: int) -> float:
        self.path_cell(index + 1)
        return float(self._t0[index + 1] - self._t0[index])

    def cell_info(self, index: int) -> tuple[int, int, int, int, CellInfo]:
        """(x, z, entry, exit, (portal bits, kind, lights)) of piece ``index``."""
        x, z, entry, exit_ = (int(v) for v in self._cells[index, :4])
        return x, z, entry, exit_, self.cell_at(x, z)

    def replan_after(self, t: float) -> None:
        """Plan the pieces after the one walked at ``t`` again, from the route knobs (``spec``) and
        the cells as they are now (a knob moved live: turn or stop rates, which panels fail); the
        walk up to the end of that piece stays, so the camera carries on from where it is. The
        cells visited lately, which the exits read, are rebuilt as they were after that piece."""
        i = self.piece_at(t)
        x, z, _, exit_, _ = (int(v) for v in self._cells[i])
        self._n = i + 1
        self._here = (x + STEPS[exit_][0], z + STEPS[exit_][1])
        self._entry = OPPOSITE[exit_]
        latest: dict[tuple[int, int], int] = {}  # each cell's last visit, newest first
        for k in range(i, -1, -1):
            latest.setdefault((int(self._cells[k, 0]), int(self._cells[k, 1])), k)
            if len(latest) == MEMORY:
                break
        self._recent = OrderedDict(sorted(latest.items(), key=lambda item: item[1]))

    def retime(self, t: float, speed: float) -> None:
        """Walk on at ``speed`` from time ``t`` (a live speed change): the camera stays where it is
        at ``t`` and the pieces after it are re-timed (walking stretches scale, holds keep their
        length); earlier pieces keep their timing."""
        t = max(t, 0.0)
        i = self.piece_at(t)
        new_base = max(speed * self.style.pace, MIN_SPEED)
        local, elapsed = t - self._t0[i], 0.0
        for new_seg, old_seg in zip(self._segments(i, new_base), self._segments(i), strict=True):
            if local <= old_seg[3]:
                elapsed += local if old_seg[0] == 0 else local * new_seg[3] / max(old_seg[3], 1e-12)
                break
            local -= old_seg[3]
            elapsed += new_seg[3]
        n = self._n
        self._base[i:n] = new_base
        self._t0[i] = t - elapsed
        for k in range(i, n):
            self._t0[k + 1] = self._t0[k] + sum(seg[3] for seg in self._segments(k))
        self.spec = replace(self.spec, speed=speed)

    # -- evaluation ---------------------------------------------------------------------------------
    def ground(self, t: float) -> Ground:
        """Where the walker is at time ``t``, which way the path points, and how fast it goes."""
        t = max(t, 0.0)
        i = self.piece_at(t)
        entry, exit_, pause = (int(v) for v in self._cells[i, 2:])
        local = t - self._t0[i]
        along, speed, hold = 0.0, 0.0, -1.0
        for seg_length, v0, v1, seconds in self._segments(i):
            if local <= seconds:
                if seg_length == 0:
                    hold = local / seconds if seconds > 0 else -1.0
                else:
                    frac = local / seconds if seconds > 0 else 1.0
                    along += (v0 * frac + 0.5 * (v1 - v0) * frac * frac) * seconds
                    speed = v0 + (v1 - v0) * frac
                break
            local -= seconds
            along += seg_length
        else:
            along = self._piece_length(entry, exit_)
        length = self._piece_length(entry, exit_)
        along = min(along, length)
        walked = float(self._d0[i] + along)
        point = self._ground_at(walked)
        heading = self._heading(i, walked, along <= length / 2)
        if pause == PAUSE_TURN and hold >= 0:  # turn on the spot from the way in to the way out
            after = self._heading(i, walked, False)
            turn = (after - heading) % (2 * math.pi)  # counter-clockwise, about half a turn
            heading += turn * hold * hold * (3 - 2 * hold)
        return Ground(point, heading, walked, float(speed), i, float(along), float(hold))

    def _heading(self, i: int, walked: float, first_half: bool) -> float:
        """Look along a chord of the path so turns ease in and out; a U-turn's chord stays on the
        side of its turning point given by ``first_half``."""
        entry, exit_ = int(self._cells[i, 2]), int(self._cells[i, 3])
        lo, hi = walked - HEADING_CHORD, walked + HEADING_CHORD
        if exit_ == entry and entry:
            middle = float(self._d0[i]) + self._piece_length(entry, exit_) / 2
            lo, hi = (lo, min(hi, middle)) if first_half else (max(lo, middle), hi)
        chord = self._ground_at(hi) - self._ground_at(lo)
        return math.atan2(-chord[1], chord[0])

    def pose(self, t: float) -> tuple[np.ndarray, float, float]:
        """Ground position (x, z), heading and distance walked at time ``t``."""
        g = self.ground(t)
        return g.point, g.heading, g.walked

    def _ground_at(self, distance: float) -> np.ndarray:
        """Ground position after walking ``distance`` metres (stops take no distance), with the
        walker's seeded offset from the centre line."""
        distance = max(distance, 0.0)
        while self._n == 0 or self._d0[self._n] <= distance:
            self._extend()
        i = int(np.searchsorted(self._d0[1 : self._n + 1], distance, side="right"))
        x, z, entry, exit_ = (int(v) for v in self._cells[i, :4])
        centre = (np.array([x, z], np.float64) + 0.5) * self.cell
        length = self._piece_length(entry, exit_)
        s = distance - self._d0[i]
        point, tangent = self._on_piece(centre, entry, exit_, s, length)
        start, middle, end = self._shape[i, 3], self._shape[i, 4], self._boundary(i + 1)[1]
        first = 0.0 if entry == 0 else length / 2
        if s < first:
            offset = start + (middle - start) * _smooth(s / first)
        else:
            offset = middle + (end - middle) * _smooth((s - first) / (length - first))
        return point + offset * np.array([tangent[1], -tangent[0]])  # left of the walking direction

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


def _smooth(x: float) -> float:
    x = min(max(x, 0.0), 1.0)
    return x * x * (3 - 2 * x)
