"""The layout randomizer: which cells are walkable, which walls are open, and each cell's variants.

A pure function of (seed, cell). The world is cut into square chunks; every random choice is a
hash of (seed, purpose, cell or edge), so a block of chunks is generated in one vectorised pass and
any chunk generated alone is identical to the same chunk inside a bigger block.

Connectivity, by construction:
1. Inside a chunk, a minimum spanning tree over all its cells (random weights, walls through solid
   cells penalised) is pruned back to the cells that must be walkable: every walkable cell of the
   chunk is joined, carving through solid cells only where needed.
2. Each chunk border has one forced opening at a hashed position, and both cells beside it are
   walkable; so neighbouring chunks are always joined, and the whole plane is one walkable region.
Extra random openings (``loop_rate``; border openings at a matched rate) add loops, and since the
forced opening moves along each border there is no doorway grid to see.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import NamedTuple

import numpy as np

from backrooms.params import Snapshot
from backrooms.world.cellhash import hash_ints, purpose_key, uniform
from backrooms.world.forest import minimum_spanning_forest

# Portal bits, counter-clockwise seen from above (+Y): a +90 degree turn about Y shifts them left.
EAST, NORTH, WEST, SOUTH = 1, 2, 4, 8  # +X, -Z, -X, +Z
STEPS = {EAST: (1, 0), NORTH: (0, -1), WEST: (-1, 0), SOUTH: (0, 1)}

SOLID, CORRIDOR, ROOM, PILLAR, DOORWAY, LANDMARK = range(6)
KIND_NAMES = ("solid", "corridor", "room", "pillar_hall", "doorway", "landmark")
VARIANTS = {
    "wallpaper": ("pattern", "stains", "peeling"),
    "carpet": ("clean", "damp", "stained"),
    "ceiling": ("intact", "missing_tiles", "sagging"),
    "lights": ("on", "flickering", "dead", "missing"),
}
STRAIGHTS = (EAST | WEST, NORTH | SOUTH)
# LayoutSpec fields that shape the cells; the rest only dress them
STRUCTURE = (
    "seed",
    "chunk_size",
    "corridor_density",
    "loop_rate",
    "room_rate",
    "pillar_rate",
    "doorway_rate",
    "landmark_rate",
)
# ... and of those, the ones that pick which panels flicker or are dead, the ones the camera's walk
# glances up at (``_choose`` draws the missing band after them: ``missing_light_rate`` moves none)
FAILING_RATES = ("flicker_rate", "light_failure_rate", "decay_scale")


def rotate_mask(mask: int | np.ndarray, quarter_turns: int) -> int | np.ndarray:
    """Portal bits after turning a prototype ``quarter_turns`` x 90 degrees about +Y."""
    k = quarter_turns % 4
    return ((mask << k) | (mask >> (4 - k))) & 15


@dataclass(frozen=True)
class LayoutSpec:
    """Everything the layout depends on: the seed and the ``world.*`` parameters.

    No defaults here: they live in the registry (``world/params.py``); build one with
    :meth:`from_params` from a parameter snapshot.
    """

    seed: int
    chunk_size: int
    corridor_density: float
    loop_rate: float
    room_rate: float
    pillar_rate: float
    doorway_rate: float
    landmark_rate: float
    light_failure_rate: float
    flicker_rate: float
    missing_light_rate: float
    stain_rate: float
    peel_rate: float
    damp_rate: float
    carpet_stain_rate: float
    missing_tile_rate: float
    sag_rate: float
    decay_scale: float

    @classmethod
    def from_params(cls, seed: int, params: Snapshot) -> LayoutSpec:
        world = params.node("world")
        names = [f.name for f in fields(cls) if f.name != "seed"]
        return cls(seed=int(seed) + int(world["variation"]), **{k: world[k] for k in names})

    @property
    def structure(self) -> tuple:
        """What the walls, rooms, doorways and landmarks depend on: the other rates only dress
        those cells (``dress``), so a change of them keeps the structure (a knob glided live)."""
        return tuple(getattr(self, name) for name in STRUCTURE)

    @property
    def walk(self) -> tuple:
        """What the camera's walk reads of the cells: their structure and which lights fail."""
        return self.structure + tuple(getattr(self, name) for name in FAILING_RATES)

    @property
    def border_rate(self) -> float:
        """How often a border wall between two walkable cells opens, so seams open as often as
        interior walls do (tested): inside a chunk the tree joins nearly every walkable pair, and
        border pairs touching carved cells can never open, so border pairs open nearly always."""
        tree_share = 0.97
        return self.loop_rate + (1.0 - self.loop_rate) * tree_share


@dataclass
class CellBlock:
    """A rectangle of generated cells, rows along +Z, columns along +X, starting at cell (x0, z0)."""

    x0: int
    z0: int
    kind: np.ndarray  # (H, W) uint8, one of SOLID..LANDMARK
    mask: np.ndarray  # (H, W) uint8 portal bits (EAST | NORTH | WEST | SOUTH)
    wallpaper: np.ndarray  # (H, W) uint8 index into VARIANTS["wallpaper"]
    carpet: np.ndarray
    ceiling: np.ndarray
    lights: np.ndarray
    wear: np.ndarray  # (H, W) uint8 0..3 grime level of the decay zone
    pick: np.ndarray  # (H, W) uint32 free random bits (landmark choice, detail seeds)

    @property
    def shape(self) -> tuple[int, int]:
        return self.kind.shape

    def crop(self, x0: int, z0: int, x1: int, z1: int) -> CellBlock:
        """The cells [x0, x1) x [z0, z1) in world cell coordinates (must lie inside this block), in
        arrays of their own: a chunk the world keeps from a block must not hold the whole block."""
        rows = slice(z0 - self.z0, z1 - self.z0)
        cols = slice(x0 - self.x0, x1 - self.x0)
        names = [f.name for f in fields(self) if f.name not in ("x0", "z0")]
        arrays = {name: getattr(self, name)[rows, cols].copy() for name in names}
        return CellBlock(x0, z0, **arrays)


class _Keys:
    """One hash key per purpose, derived once per seed."""

    def __init__(self, seed: int) -> None:
        for name in (
            "walk",
            "portal_e",
            "portal_s",
            "room",
            "weight",
            "loop",
            "border",
            "door",
            "landmark",
            "wallpaper",
            "carpet",
            "ceiling",
            "lights",
            "decay",
            "pick",
        ):
            setattr(self, name, purpose_key(seed, name))


def _portal(spec: LayoutSpec, keys: _Keys, cx: np.ndarray, cz: np.ndarray, east: bool) -> np.ndarray:
    """Where along chunk (cx, cz)'s east (or south) border its forced opening lies: the first
    position, in hashed order, whose cells on both sides are walkable anyway (so forcing adds no
    walkable cells there and the border looks like anywhere else); any position if there is none."""
    n = spec.chunk_size
    if cx.size == 0:
        return np.zeros(cx.shape, np.int64)
    gx0, gz0 = int(cx.min()), int(cz.min())
    gx = np.arange(gx0, int(cx.max()) + 1, dtype=np.int64)[None, :, None]
    gz = np.arange(gz0, int(cz.max()) + 1, dtype=np.int64)[:, None, None]
    p = np.arange(n, dtype=np.int64)[None, None, :]
    if east:
        xa, za, xb, zb = gx * n + n - 1, gz * n + p, gx * n + n, gz * n + p
    else:
        xa, za, xb, zb = gx * n + p, gz * n + n - 1, gx * n + p, gz * n + n
    both = (uniform(keys.walk, xa, za) < spec.corridor_density) & (
        uniform(keys.walk, xb, zb) < spec.corridor_density
    )
    priority = uniform(keys.portal_e if east else keys.portal_s, gx, gz, p) + 2.0 * ~both
    return priority.argmin(axis=2)[cz - gz0, cx - gx0]


def _walkable(spec: LayoutSpec, keys: _Keys, x: np.ndarray, z: np.ndarray, room: np.ndarray) -> np.ndarray:
    """Walkable before carving: random cells, rooms, and the cells beside forced border openings."""
    n = spec.chunk_size
    cx, cz = x // n, z // n
    lx, lz = x - cx * n, z - cz * n
    walk = (uniform(keys.walk, x, z) < spec.corridor_density) | (room > 0)
    walk |= (lx == n - 1) & (lz == _portal(spec, keys, cx, cz, east=True))
    walk |= (lx == 0) & (lz == _portal(spec, keys, cx - 1, cz, east=True))
    walk |= (lz == n - 1) & (lx == _portal(spec, keys, cx, cz, east=False))
    walk |= (lz == 0) & (lx == _portal(spec, keys, cx, cz - 1, east=False))
    return walk


def _border_open(spec: LayoutSpec, keys: _Keys, x: np.ndarray, z: np.ndarray, east: bool) -> np.ndarray:
    """Open walls on chunk borders: the wall east (or south) of cell (x, z), which lies on a border.

    Open if it is the border's forced opening, if it joins two room cells (rooms straddle borders),
    or, between two walkable cells, at ``border_rate``.
    """
    n = spec.chunk_size
    x2, z2 = (x + 1, z) if east else (x, z + 1)
    cx, cz = x // n, z // n
    if east:
        forced = z - cz * n == _portal(spec, keys, cx, cz, east=True)
    else:
        forced = x - cx * n == _portal(spec, keys, cx, cz, east=False)
    xs, zs = np.concatenate([x, x2]), np.concatenate([z, z2])  # both sides in one pass
    room = _rooms(spec, keys, xs, zs)
    walk = _walkable(spec, keys, xs, zs, room)
    k = len(x)
    rooms = (room[:k] > 0) & (room[k:] > 0)
    return forced | rooms | (walk[:k] & walk[k:] & (uniform(keys.border, x, z, int(east)) < spec.border_rate))


def _rooms(spec: LayoutSpec, keys: _Keys, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Room kind per cell (0 none, ROOM or PILLAR).

    Each chunk has a few room slots; a room's corner lies in its chunk, and since it is at most a
    chunk wide it may reach into the chunks east and south, so rooms straddle chunk borders like
    anything else. Where rooms overlap, a cell takes the last slot's, and within a slot the room
    of its own chunk, then those of the chunks west, north and north-west of it. The rooms are
    drawn for every slot at once and painted rectangle by rectangle on the plan of the cells'
    bounding box: testing every cell against every slot (85 at 64-cell chunks) took most of a big
    block's time (5x5 64-cell chunks 1.0 -> 0.12 s in all, one 16-cell chunk 4.9 -> 2.9 ms; AMD EPYC).
    """
    x, z = np.broadcast_arrays(x, z)
    if x.size == 0:
        return np.zeros(x.shape, dtype=np.uint8)
    n = spec.chunk_size
    px0, pz0, px1, pz1 = int(x.min()), int(z.min()), int(x.max()) + 1, int(z.max()) + 1
    gx = np.arange(px0 // n - 1, (px1 - 1) // n + 1, dtype=np.int64)[None, None, :]
    gz = np.arange(pz0 // n - 1, (pz1 - 1) // n + 1, dtype=np.int64)[None, :, None]
    slot = np.arange(max(1, n * n // 48), dtype=np.int64)[:, None, None]
    h = hash_ints(keys.room, gx, gz, slot)
    present = uniform(keys.room, gx, gz, slot, 1) < spec.room_rate
    pillar = uniform(keys.room, gx, gz, slot, 2) < spec.pillar_rate
    big = np.where(pillar, 3, 2)
    w = np.minimum(n, big + (h % np.uint64(4)).astype(np.int64))[present]
    d = np.minimum(n, big + ((h >> np.uint64(8)) % np.uint64(4)).astype(np.int64))[present]
    ox = (gx * n + ((h >> np.uint64(16)) % np.uint64(n)).astype(np.int64))[present]
    oz = (gz * n + ((h >> np.uint64(32)) % np.uint64(n)).astype(np.int64))[present]
    code = np.where(pillar, PILLAR, ROOM)[present]
    slots, rows, cols = np.nonzero(present)
    cx, cz = gx[0, 0, cols], gz[0, rows, 0]
    # each room's part in its own chunk, then in the chunks east, south and south-east of it
    qx, qz = np.array([[0], [1], [0], [1]]), np.array([[0], [0], [1], [1]])
    x0 = np.maximum(np.maximum(ox, (cx + qx) * n), px0) - px0
    x1 = np.minimum(np.minimum(ox + w, (cx + qx + 1) * n), px1) - px0
    z0 = np.maximum(np.maximum(oz, (cz + qz) * n), pz0) - pz0
    z1 = np.minimum(np.minimum(oz + d, (cz + qz + 1) * n), pz1) - pz0
    part, room = np.nonzero((x0 < x1) & (z0 < z1))  # part by part, rooms in slot order
    plan = np.zeros((pz1 - pz0, px1 - px0), dtype=np.uint8)
    for q, i in zip(*(a[np.argsort(slots[room], kind="stable")] for a in (part, room)), strict=True):
        plan[z0[q, i] : z1[q, i], x0[q, i] : x1[q, i]] = code[i]  # slot by slot, part by part
    return plan[z - pz0, x - px0]


def _decay(s: float, keys: _Keys, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Smooth value noise in [0, 1) with zones ``s`` cells wide: failures and grime cluster in zones
    instead of salt-and-pepper."""
    fx, fz = x / s, z / s
    ix, iz = np.floor(fx).astype(np.int64), np.floor(fz).astype(np.int64)
    tx, tz = fx - ix, fz - iz
    tx, tz = tx * tx * (3 - 2 * tx), tz * tz * (3 - 2 * tz)
    c = [[uniform(keys.decay, ix + i, iz + j) for i in (0, 1)] for j in (0, 1)]
    top = c[0][0] * (1 - tx) + c[0][1] * tx
    bottom = c[1][0] * (1 - tx) + c[1][1] * tx
    return top * (1 - tz) + bottom * tz


def _choose(u: np.ndarray, rates: list[float]) -> np.ndarray:
    """Variant index: 1 with probability rates[0], 2 with rates[1], ... else 0."""
    out = np.zeros(u.shape, dtype=np.uint8)
    edge = np.zeros(u.shape)
    for index, rate in enumerate(rates, start=1):
        hit = (u >= edge) & (u < edge + rate)
        out[hit] = index
        edge = edge + rate
    return out


def _cell_grid(x0: int, z0: int, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """(x, z) world cell coordinates of the (height, width) cells from (x0, z0), as int64 grids."""
    x = np.arange(x0, x0 + width, dtype=np.int64)[None, :].repeat(height, 0)
    z = np.arange(z0, z0 + height, dtype=np.int64)[:, None].repeat(width, 1)
    return x, z


def generate_block(spec: LayoutSpec, cx0: int, cz0: int, cx1: int, cz1: int) -> CellBlock:
    """Generate the chunks [cx0, cx1) x [cz0, cz1) in one vectorised pass."""
    if cx1 <= cx0 or cz1 <= cz0:
        raise ValueError(f"empty chunk range {cx0},{cz0},{cx1},{cz1}")
    n = spec.chunk_size
    keys = _Keys(spec.seed)
    x0, z0 = cx0 * n, cz0 * n
    width, height = (cx1 - cx0) * n, (cz1 - cz0) * n
    x, z = _cell_grid(x0, z0, width, height)

    room = _rooms(spec, keys, x, z)
    walk = _walkable(spec, keys, x, z, room)

    # Interior walls (not on chunk borders): east walls then south walls, as node pairs.
    ids = np.arange(width * height, dtype=np.int64).reshape(height, width)
    inner_e = (x[:, :-1] + 1) % n != 0
    inner_s = (z[:-1, :] + 1) % n != 0
    u = np.concatenate([ids[:, :-1][inner_e], ids[:-1, :][inner_s]])
    v = np.concatenate([ids[:, 1:][inner_e], ids[1:, :][inner_s]])
    direction = np.concatenate([np.zeros(inner_e.sum(), np.int64), np.ones(inner_s.sum(), np.int64)])
    ex = x.ravel()[u]
    ez = z.ravel()[u]
    flat_walk, flat_room = walk.ravel(), room.ravel() > 0
    room_pair = flat_room[u] & flat_room[v]
    weight = uniform(keys.weight, ex, ez, direction) + (~flat_walk[u]) + (~flat_walk[v]) - 2.0 * room_pair
    tree = minimum_spanning_forest(width * height, u, v, weight)

    # Prune dead branches that end in solid cells: what is left joins walkable cells only.
    while True:
        degree = np.bincount(u[tree], minlength=width * height) + np.bincount(
            v[tree], minlength=width * height
        )
        dead = (degree == 1) & ~flat_walk
        cut = tree & (dead[u] | dead[v])
        if not cut.any():
            break
        tree &= ~cut
    carved = (degree > 0) & ~flat_walk
    loops = flat_walk[u] & flat_walk[v] & (uniform(keys.loop, ex, ez, direction) < spec.loop_rate)
    inner_open = tree | room_pair | loops
    walk = walk | carved.reshape(height, width)

    # Open walls as (H, W + 1) west-to-east and (H + 1, W) north-to-south grids, borders included.
    open_e = np.zeros((height, width + 1), dtype=bool)
    open_s = np.zeros((height + 1, width), dtype=bool)
    n_e = inner_e.sum()
    open_e[:, 1:-1][inner_e] = inner_open[:n_e]
    open_s[1:-1, :][inner_s] = inner_open[n_e:]
    west_x = np.arange(x0 - 1, x0 + width, dtype=np.int64)[None, :].repeat(height, 0)
    border_e = (west_x + 1) % n == 0
    open_e[border_e] = _border_open(
        spec, keys, west_x[border_e], z[:, :1].repeat(width + 1, 1)[border_e], True
    )
    north_z = np.arange(z0 - 1, z0 + height, dtype=np.int64)[:, None].repeat(width, 1)
    border_s = (north_z + 1) % n == 0
    open_s[border_s] = _border_open(
        spec, keys, x[:1, :].repeat(height + 1, 0)[border_s], north_z[border_s], False
    )

    mask = EAST * open_e[:, 1:] | WEST * open_e[:, :-1] | SOUTH * open_s[1:, :] | NORTH * open_s[:-1, :]
    mask = mask.astype(np.uint8)

    kind = np.where(walk, CORRIDOR, SOLID).astype(np.uint8)
    kind[room > 0] = room[room > 0]
    corridor = kind == CORRIDOR
    straight = (mask == STRAIGHTS[0]) | (mask == STRAIGHTS[1])
    kind[corridor & straight & (uniform(keys.door, x, z) < spec.doorway_rate)] = DOORWAY
    kind[corridor & (uniform(keys.landmark, x, z) < spec.landmark_rate)] = LANDMARK

    pick = (hash_ints(keys.pick, x, z) >> np.uint64(32)).astype(np.uint32)
    dressing = _dressing(spec, _draws(keys, spec.decay_scale, x, z), kind == SOLID)
    return CellBlock(x0, z0, kind, mask, pick=pick, **dressing)


def dress(spec: LayoutSpec, block: CellBlock) -> CellBlock:
    """``block``'s cells with the variants ``spec`` draws for them: the same as generating them
    under ``spec`` when its ``structure`` is the block's (the walls are kept, not re-traced)."""
    height, width = block.shape
    draws = _block_draws(spec.seed, spec.decay_scale, block.x0, block.z0, width, height)
    return CellBlock(
        block.x0,
        block.z0,
        block.kind,
        block.mask,
        pick=block.pick,
        **_dressing(spec, draws, block.kind == SOLID),
    )


class _Draws(NamedTuple):
    """What a cell's dressing is drawn from: its decay zone and one uniform per choice."""

    zone: np.ndarray
    wallpaper: np.ndarray
    carpet: np.ndarray
    ceiling: np.ndarray
    lights: np.ndarray


def _draws(keys: _Keys, decay_scale: float, x: np.ndarray, z: np.ndarray) -> _Draws:
    """The cells' draws: hashes of the seed and the cell alone, so a region's are its chunks'."""
    uniforms = (uniform(getattr(keys, name), x, z) for name in _Draws._fields[1:])
    return _Draws(_decay(decay_scale, keys, x, z), *uniforms)


@lru_cache(maxsize=128)  # a few neighbourhoods of chunks: 1.3 MB at 16-cell chunks, 21 MB at 64
def _block_draws(seed: int, decay_scale: float, x0: int, z0: int, width: int, height: int) -> _Draws:
    """A block's draws, kept: they depend on none of the rates, so a rate glided live (every frame
    a new value, every loaded chunk dressed again) no longer hashes its cells (4.6 of 5.7 ms a
    frame of dressing on the default world)."""
    draws = _draws(_Keys(seed), decay_scale, *_cell_grid(x0, z0, width, height))
    for values in draws:
        values.flags.writeable = False
    return draws


def _dressing(spec: LayoutSpec, draws: _Draws, solid: np.ndarray) -> dict:
    """Each cell's wallpaper, carpet, ceiling, lights and wear variants (0 in solid cells)."""
    boost = 0.3 + 1.4 * draws.zone  # mean ~1: rates hold on average, failures cluster in zones
    lights = _choose(
        draws.lights,
        [spec.flicker_rate * boost, spec.light_failure_rate * boost, spec.missing_light_rate * boost],
    )
    cells = {
        "wallpaper": _choose(draws.wallpaper, [spec.stain_rate * boost, spec.peel_rate * boost]),
        "carpet": _choose(draws.carpet, [spec.damp_rate * boost, spec.carpet_stain_rate * boost]),
        "ceiling": _choose(draws.ceiling, [spec.missing_tile_rate * boost, spec.sag_rate * boost]),
        "lights": lights,
        "wear": np.minimum(3, (draws.zone * 4).astype(np.uint8)),
    }
    return {k: np.where(solid, 0, a).astype(np.uint8) for k, a in cells.items()}


def generate_region(spec: LayoutSpec, x0: int, z0: int, x1: int, z1: int) -> CellBlock:
    """The cells [x0, x1) x [z0, z1), generated through the chunks that cover them."""
    n = spec.chunk_size
    block = generate_block(spec, x0 // n, z0 // n, -(-x1 // n), -(-z1 // n))
    return block.crop(x0, z0, x1, z1)
