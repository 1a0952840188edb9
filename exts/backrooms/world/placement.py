"""Turn generated cells into placed prototypes: instances, light panels and lights for the renderer.

Each walkable cell gets the prototype of its family whose turned portals match the cell's open
walls (landmarks and doorways fall back to a plain corridor where no prototype fits), its loose
ceiling tiles unless they are missing, and a panel plus a light for every slot unless the lights
are missing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backrooms.world.cellhash import hash_ints
from backrooms.world.layout import CORRIDOR, DOORWAY, LANDMARK, PILLAR, ROOM, SOLID, CellBlock
from backrooms.world.library import WorldLibrary
from backrooms.world.types import InstanceSet, LightSet

KIND_FAMILY = {
    CORRIDOR: "corridor",
    ROOM: "room",
    PILLAR: "pillar_hall",
    DOORWAY: "doorway",
    LANDMARK: "landmark",
}
SAG_DROP = 0.12  # metres the "sagging" ceiling variant lowers the loose tiles (as the USD variant does)
LIGHT_ON, LIGHT_FLICKER, LIGHT_DEAD, LIGHT_MISSING = range(4)


@dataclass
class Placement:
    """Prototype index and quarter turns per cell (-1 for solid cells)."""

    prototype: np.ndarray  # (H, W) int32
    turns: np.ndarray  # (H, W) int8


class PlacementTable:
    """(kind, portal bits) -> candidate (prototype, quarter turns), as flat lookup arrays."""

    def __init__(self, lib: WorldLibrary) -> None:
        options = {
            (kind, mask): lib.placements(family, mask)
            for kind, family in KIND_FAMILY.items()
            for mask in range(16)
        }
        width = max(1, max(len(o) for o in options.values()))
        self.proto = np.full((6, 16, width), -1, np.int32)
        self.turns = np.zeros((6, 16, width), np.int8)
        self.count = np.zeros((6, 16), np.int64)
        for (kind, mask), found in options.items():
            if not found:
                found = options[(CORRIDOR, mask)]
            self.count[kind, mask] = len(found)
            for j, (p, k) in enumerate(found):
                self.proto[kind, mask, j], self.turns[kind, mask, j] = p, k
        # every prototype's light slots (prototype frame), flat: prototype p's are slot_first[p] on
        slots = [np.asarray(p.light_slots, np.float32).reshape(-1, 3) for p in lib.prototypes]
        self.slot_count = np.array([len(s) for s in slots], np.int64)
        self.slot_first = np.concatenate([[0], np.cumsum(self.slot_count)[:-1]]).astype(np.int64)
        self.slots = np.concatenate([np.zeros((0, 3), np.float32), *slots])

    def place(self, cells: CellBlock) -> Placement:
        kind, mask = cells.kind.astype(np.int64), cells.mask.astype(np.int64)
        count = np.maximum(self.count[kind, mask], 1)
        choice = cells.pick.astype(np.int64) % count
        proto = np.where(kind == SOLID, -1, self.proto[kind, mask, choice])
        if ((kind != SOLID) & (proto < 0)).any():
            bad = np.argwhere((kind != SOLID) & (proto < 0))[0]
            raise ValueError(f"no prototype fits portals {int(mask[tuple(bad)])} at cell {tuple(bad)}")
        return Placement(proto.astype(np.int32), self.turns[kind, mask, choice])


def cell_transforms(x: np.ndarray, z: np.ndarray, turns: np.ndarray, cell_size: float) -> np.ndarray:
    """(K, 4, 4) local-to-world matrices: a quarter-turn about +Y, then the move to the cell centre."""
    angle = turns.astype(np.float64) * (np.pi / 2)
    c, s = np.round(np.cos(angle)), np.round(np.sin(angle))
    t = np.zeros((len(x), 4, 4), np.float32)
    t[:, 0, 0], t[:, 0, 2], t[:, 2, 0], t[:, 2, 2] = c, s, -s, c
    t[:, 1, 1] = t[:, 3, 3] = 1.0
    t[:, 0, 3] = (x + 0.5) * cell_size
    t[:, 2, 3] = (z + 0.5) * cell_size
    return t


@dataclass
class ChunkScene:
    """Everything placed for one block of cells."""

    instances: InstanceSet
    lights: LightSet


def _concat_instances(parts: list[InstanceSet]) -> InstanceSet:
    return InstanceSet(
        mesh=np.concatenate([p.mesh for p in parts]).astype(np.int32),
        transform=np.concatenate([p.transform for p in parts]).astype(np.float32).reshape(-1, 4, 4),
        look=np.concatenate([p.look for p in parts]).astype(np.int32).reshape(-1, 4),
        key=np.concatenate([p.key for p in parts]).astype(np.uint32),
    )


def concat_scenes(scenes: list[ChunkScene]) -> ChunkScene:
    lights = [s.lights for s in scenes]
    return ChunkScene(
        _concat_instances([s.instances for s in scenes]),
        LightSet(
            position=np.concatenate([lt.position for lt in lights]).astype(np.float32).reshape(-1, 3),
            half_size=np.concatenate([lt.half_size for lt in lights]).astype(np.float32).reshape(-1, 2),
            intensity=np.concatenate([lt.intensity for lt in lights]).astype(np.float32),
            state=np.concatenate([lt.state for lt in lights]).astype(np.int32),
            key=np.concatenate([lt.key for lt in lights]).astype(np.uint32),
        ),
    )


def build_scene(cells: CellBlock, lib: WorldLibrary, table: PlacementTable, seed: int) -> ChunkScene:
    """Instances and lights for every walkable cell of ``cells``."""
    placement = table.place(cells)
    zz, xx = np.nonzero(placement.prototype >= 0)
    x, z = xx + cells.x0, zz + cells.z0
    proto = placement.prototype[zz, xx]
    transform = cell_transforms(x, z, placement.turns[zz, xx], lib.library.cell_size)
    look = np.stack(
        [cells.wallpaper[zz, xx], cells.carpet[zz, xx], cells.ceiling[zz, xx], cells.wear[zz, xx]], 1
    )
    key_base = hash_ints(seed, x, z)
    mesh_of = np.array([p.mesh for p in lib.prototypes], np.int32)
    loose_of = np.array([p.loose for p in lib.prototypes], np.int32)

    parts = [
        InstanceSet(mesh_of[proto], transform, look, (key_base & np.uint64(0xFFFFFFFF)).astype(np.uint32))
    ]
    ceiling = cells.ceiling[zz, xx]
    has_loose = (loose_of[proto] >= 0) & (ceiling != 1)
    loose_t = transform[has_loose].copy()
    loose_t[:, 1, 3] -= np.where(ceiling[has_loose] == 2, SAG_DROP, 0.0)
    loose_keys = hash_ints(seed, x[has_loose], z[has_loose], 1)
    parts.append(
        InstanceSet(loose_of[proto[has_loose]], loose_t, look[has_loose], loose_keys.astype(np.uint32))
    )

    # A panel for every light slot of every cell whose lights are not missing, in prototype order
    # (then cell order, then slot order), as the scenes were first built one prototype at a time.
    state = cells.lights[zz, xx]
    lit = np.nonzero(state != LIGHT_MISSING)[0]
    lit = lit[np.argsort(proto[lit], kind="stable")]
    count = table.slot_count[proto[lit]]
    cell_sel = np.repeat(lit, count)
    slot_index = np.arange(len(cell_sel)) - np.repeat(np.cumsum(count) - count, count)
    offset = np.zeros((len(cell_sel), 4, 4), np.float32)
    offset[:] = np.eye(4, dtype=np.float32)
    offset[:, :3, 3] = table.slots[table.slot_first[proto[cell_sel]] + slot_index]
    panel_t = np.einsum("cij,cjk->cik", transform[cell_sel], offset)
    keys = (hash_ints(seed, x[cell_sel], z[cell_sel], 2, slot_index) & np.uint64(0xFFFFFFFF)).astype(
        np.uint32
    )
    hx, hz = lib.panel_half
    odd = (placement.turns[zz[cell_sel], xx[cell_sel]] % 2).astype(bool)
    panel_state = state[cell_sel].astype(np.int32)
    panels = ChunkScene(
        InstanceSet(np.full(len(keys), lib.panel, np.int32), panel_t, look[cell_sel], keys),
        LightSet(
            position=panel_t[:, :3, 3] - [0.0, lib.panel_depth, 0.0],
            half_size=np.where(odd[:, None], [hz, hx], [hx, hz]).astype(np.float32),
            intensity=np.where(panel_state == LIGHT_DEAD, 0.0, 1.0).astype(np.float32),
            state=panel_state,
            key=keys,
        ),
    )
    empty_lights = LightSet(
        np.zeros((0, 3), np.float32),
        np.zeros((0, 2), np.float32),
        np.zeros(0, np.float32),
        np.zeros(0, np.int32),
        np.zeros(0, np.uint32),
    )
    base = ChunkScene(_concat_instances(parts), empty_lights)
    return concat_scenes([base, panels])
