"""Which chunks a host should hold for a camera position, with hysteresis so a camera walking
along a chunk border does not make chunks blink in and out.

Hosts apply the answer to a USD stage through its load rules (:func:`apply_to_stage`) or to the
embedded renderer through :meth:`backrooms.world.World.view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pxr import Sdf, Usd

from backrooms.world.stage import CHUNKS_PATH, chunk_prim_name

Chunk = tuple[int, int]


@dataclass
class ChunkStreamer:
    """Load chunks within ``load_radius`` of the camera's chunk; unload past ``load_radius + 1``."""

    chunk_span: float  # metres per chunk side (cell size x chunk size)
    load_radius: int = 1
    loaded: set[Chunk] = field(default_factory=set)

    def chunk_of(self, position: np.ndarray) -> Chunk:
        return int(np.floor(position[0] / self.chunk_span)), int(np.floor(position[2] / self.chunk_span))

    def wanted(self, position: np.ndarray) -> set[Chunk]:
        cx, cz = self.chunk_of(position)
        r = self.load_radius
        return {(cx + i, cz + j) for i in range(-r, r + 1) for j in range(-r, r + 1)}

    def update(self, position: np.ndarray) -> tuple[list[Chunk], list[Chunk]]:
        """(chunks to load, chunks to unload) for the camera at ``position``; both sorted."""
        cx, cz = self.chunk_of(position)
        keep = self.load_radius + 1
        load = sorted(self.wanted(position) - self.loaded)
        unload = sorted(c for c in self.loaded if max(abs(c[0] - cx), abs(c[1] - cz)) > keep)
        self.loaded.update(load)
        self.loaded.difference_update(unload)
        return load, unload


def chunk_path(chunk: Chunk) -> Sdf.Path:
    return CHUNKS_PATH.AppendChild(chunk_prim_name(*chunk))


def apply_to_stage(stage: Usd.Stage, load: list[Chunk], unload: list[Chunk]) -> None:
    """Load and unload chunk payloads in one recomposition; chunks the stage lacks are skipped."""
    present = [chunk_path(c) for c in load if stage.GetPrimAtPath(chunk_path(c))]
    gone = [chunk_path(c) for c in unload if stage.GetPrimAtPath(chunk_path(c))]
    if present or gone:
        stage.LoadAndUnload(present, gone)
