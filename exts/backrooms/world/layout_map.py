"""Text views of a block of cells: an ASCII map for eyes, JSON for scripts."""

from __future__ import annotations

import numpy as np

from backrooms.world.layout import EAST, KIND_NAMES, SOUTH, VARIANTS, CellBlock

KIND_CHARS = "#.rpdL"  # solid, corridor, room, pillar hall, doorway, landmark


def ascii_map(cells: CellBlock) -> str:
    """Two characters per cell and wall: cell centres show their kind, walls '#', openings ' '.

    Rows run along +Z (south is down), columns along +X (east is right).
    """
    h, w = cells.shape
    grid = np.full((2 * h + 1, 2 * w + 1), "#", dtype="<U1")
    grid[1::2, 1::2] = np.array(list(KIND_CHARS))[cells.kind]
    grid[1::2, 2:-1:2] = np.where(cells.mask[:, :-1] & EAST, " ", "#")
    grid[2:-1:2, 1::2] = np.where(cells.mask[:-1, :] & SOUTH, " ", "#")
    grid[1::2, 0] = np.where(cells.mask[:, 0] & 4, " ", "#")
    grid[1::2, -1] = np.where(cells.mask[:, -1] & EAST, " ", "#")
    grid[0, 1::2] = np.where(cells.mask[0, :] & 2, " ", "#")
    grid[-1, 1::2] = np.where(cells.mask[-1, :] & SOUTH, " ", "#")
    return "\n".join("".join(row) for row in grid)


def layout_json(cells: CellBlock, seed: int, chunk_size: int) -> dict:
    """Every cell's kind, open walls and variants as row-major lists."""
    h, w = cells.shape
    return {
        "seed": seed,
        "region": [cells.x0, cells.z0, cells.x0 + w, cells.z0 + h],
        "chunk_size": chunk_size,
        "kinds": list(KIND_NAMES),
        "portal_bits": {"east": 1, "north": 2, "west": 4, "south": 8},
        "variants": {k: list(v) for k, v in VARIANTS.items()},
        "kind": cells.kind.tolist(),
        "mask": cells.mask.tolist(),
        **{name: getattr(cells, name).tolist() for name in VARIANTS},
    }
