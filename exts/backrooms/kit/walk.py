"""The hallway around a camera walk as a USD stage Kit can open. Kit-free (pxr only).

``backrooms.world`` writes the stage (one payload per chunk, instanceable prototype references with
variant selections, the autopilot camera animated one time code per frame); this module picks the
region: every chunk the camera would have loaded on any frame of the walk.
"""

from __future__ import annotations

from pathlib import Path

from backrooms.params.store import Snapshot
from backrooms.world import World
from backrooms.world.stage import CAMERA_PATH, CHUNKS_PATH, Region, write_stage

# Cell prims of a written stage: /World/Chunks/c_<x>_<z>/cell_<x>_<z> (Replicator path_pattern regex).
CELL_PATTERN = f"^{CHUNKS_PATH}/c_[^/]+/cell_[^/]+$"


def walk_region(world: World, start: int, frames: int, fps: float) -> Region:
    """The chunk-aligned rectangle of cells covering what the camera sees on frames start..start+frames-1."""
    chunks = set()
    for frame in range(start, start + frames):
        chunks.update(world.loaded_chunks(world.camera(frame, fps).position))
    n = world.spec.chunk_size
    xs, zs = [c[0] for c in chunks], [c[1] for c in chunks]
    return Region(min(xs) * n, min(zs) * n, (max(xs) + 1) * n, (max(zs) + 1) * n)


def write_walk_stage(path: Path, seed: int, start: int, frames: int, fps: float, params: Snapshot) -> str:
    """Write the walk's stage to ``path``; returns the camera prim path (time code = frame number)."""
    world = World(seed, params)
    region = walk_region(world, start, frames, fps)
    write_stage(world, region, Path(path), frames=start + frames, fps=fps)
    return str(CAMERA_PATH)
