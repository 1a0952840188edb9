"""The world a run walks through: layout chunks on demand, the camera autopilot, and scene views.

``World(seed, params)`` is all a host needs: ``camera(frame, fps)`` for the walk and
``view(position)`` for the loaded neighbourhood. Chunks are generated when first needed and kept
in a bounded cache, so walking forever keeps memory flat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

import backrooms.world.params  # noqa: F401  (declares world.* and camera.*)
from backrooms.errors import UserError
from backrooms.params import ParamStore, Snapshot
from backrooms.seeds import stream_key
from backrooms.world.autopilot import Autopilot, CameraSpec, CellInfo
from backrooms.world.layout import CellBlock, LayoutSpec, dress, generate_block
from backrooms.world.library import WorldLibrary, shared_library
from backrooms.world.operator import Operator
from backrooms.world.placement import ChunkScene, PlacementTable, build_scene, concat_scenes
from backrooms.world.types import Camera, SceneView

CHUNK_CACHE = 64  # chunks kept at least; always more than two loaded neighbourhoods
CAMERA_CACHE = 64  # poses kept: every node of a frame asks for this frame's and the few before
# cells loaded around the camera at once: 64-cell chunks at load radius 2 (102,400 cells) take about
# 1 GB and 1.3-1.5 s to load (AMD EPYC; 1.2-1.6 GB and 5-7 s before issue 17's forty-second round);
# at radius 4 (331,776) 2.8 GB and 18 s then
MAX_LOADED_CELLS = 131_072


class World:
    """An endless, seeded Backrooms level with a camera walking through it."""

    def __init__(
        self, seed: int, params: Snapshot | None = None, library: WorldLibrary | None = None
    ) -> None:
        self.seed = int(seed)
        self.library = library or shared_library()
        self.table = PlacementTable(self.library)
        self._structures: OrderedDict[tuple[int, int], CellBlock] = OrderedDict()  # cells to re-dress
        self._chunks: OrderedDict[tuple[int, int], CellBlock] = OrderedDict()
        self._walk_cells: OrderedDict[tuple[int, int], list[list[CellInfo]]] = OrderedDict()  # cell_at's
        self._scenes: OrderedDict[tuple[int, int], ChunkScene] = OrderedDict()
        self._views: OrderedDict[tuple, SceneView] = OrderedDict()
        self._autopilot: Autopilot | None = None
        self._operator: Operator | None = None
        self._cameras: dict[tuple[int, float], Camera] = {}
        self._cameras_lock = threading.Lock()  # the executor traces ahead on another thread
        self._cameras_epoch = 0  # counts the clears: a pose computed across one is not kept
        self.set_params(params if params is not None else ParamStore().snapshot())

    # -- parameters ---------------------------------------------------------------------------------
    def set_params(self, params: Snapshot, time: float | None = None) -> None:
        """Adopt new parameters: chunks are regenerated only if the layout changed (re-dressed, their
        walls kept, if only variant rates did); filming knobs (shake, bob, fov, height) apply at
        once. Given ``time`` (seconds, the frame being shown: live play) the walk carries on from
        where the camera is then: a new ``camera.speed`` re-times what comes after, new route
        knobs or a new choice of failing panels (where the operator stops to look up) plan the
        pieces after the current one again. Without ``time``, or for a new layout or operator, the
        walk is made again as if it had always been so."""
        spec = LayoutSpec.from_params(self.seed, params)
        camera = CameraSpec.from_params(params)
        old = getattr(self, "spec", None)
        walk = None
        if (
            old is not None
            and old.structure == spec.structure
            and self.camera_spec.operator == camera.operator
        ):
            walk = self.autopilot if time is not None else self._autopilot
            if walk is not None and time is not None:
                walk.piece_at(time)  # planned this far as things were, as a live run had it
        replan = walk is not None and (old.walk != spec.walk or walk.spec.path_key != camera.path_key)
        if replan and time is None:
            walk = None
        moved = walk is None or replan or getattr(self, "camera_spec", None) != camera
        if old != spec:
            if old is None or old.structure != spec.structure:
                self._structures.clear()
            self._chunks.clear()
            self._walk_cells.clear()
            self._scenes.clear()
            self._views.clear()
            self.spec = spec
        if walk is not None:
            if walk.spec.speed != camera.speed:
                walk.retime(0.0 if time is None else time, camera.speed)
            walk.spec = camera
            if replan:
                walk.replan_after(time)
        self._autopilot = walk
        self.camera_spec = camera
        self.load_radius = int(params["world.load_radius"])
        self.cache_size = max(CHUNK_CACHE, 2 * (2 * self.load_radius + 1) ** 2)
        if moved:  # after the walk changed: a pose computed meanwhile is not kept (``camera``)
            with self._cameras_lock:
                self._cameras.clear()  # a re-timed walk may come back to an old spec, so any change clears
                self._cameras_epoch += 1

    # -- layout ---------------------------------------------------------------------------------------
    @property
    def cell_size(self) -> float:
        return self.library.library.cell_size

    def chunk_of(self, position: np.ndarray) -> tuple[int, int]:
        """The chunk containing a world position (metres)."""
        span = self.cell_size * self.spec.chunk_size
        return int(np.floor(position[0] / span)), int(np.floor(position[2] / span))

    def cells(self, cx: int, cz: int) -> CellBlock:
        """The generated cells of one chunk (cached)."""
        key = (cx, cz)
        block = self._chunks.get(key)
        if block is None:
            walls = self._structures.get(key)
            if walls is None:
                block = generate_block(self.spec, cx, cz, cx + 1, cz + 1)
                self._keep(self._structures, key, block)
            else:
                block = dress(self.spec, walls)
                self._structures.move_to_end(key)
            self._keep(self._chunks, key, block)
        else:
            self._chunks.move_to_end(key)
        return block

    def _generate(self, chunks: tuple[tuple[int, int], ...]) -> None:
        """Generate those of ``chunks`` never generated under this structure in one vectorised
        block (the rectangle around them), kept chunk by chunk: a chunk is the same bytes either
        way, and one block of a neighbourhood costs a fraction of its chunks one by one (3x3
        16-cell chunks 5 against 28 ms, 5x5 64-cell chunks 0.12 against 0.16 s; AMD EPYC), so a
        new world or a crossing into new chunks stalls the picture that much less."""
        new = [key for key in chunks if key not in self._chunks and key not in self._structures]
        if len(new) < 2:
            return
        xs, zs = [cx for cx, _ in new], [cz for _, cz in new]
        n = self.spec.chunk_size
        block = generate_block(self.spec, min(xs), min(zs), max(xs) + 1, max(zs) + 1)
        for cx, cz in new:
            cells = block.crop(cx * n, cz * n, (cx + 1) * n, (cz + 1) * n)
            self._keep(self._structures, (cx, cz), cells)
            self._keep(self._chunks, (cx, cz), cells)

    def _scene(self, cx: int, cz: int) -> ChunkScene:
        """Placed instances and lights of one chunk (cached)."""
        key = (cx, cz)
        found = self._scenes.get(key)
        if found is None:
            found = build_scene(self.cells(cx, cz), self.library, self.table, self.spec.seed)
            self._keep(self._scenes, key, found)
        else:
            self._scenes.move_to_end(key)
        return found

    def _keep(self, cache: OrderedDict, key: tuple[int, int], value: object) -> None:
        """Add to a chunk cache, forgetting its least recently used chunk past ``cache_size``."""
        cache[key] = value
        if len(cache) > self.cache_size:
            cache.popitem(last=False)

    def cell_at(self, x: int, z: int) -> CellInfo:
        """(open-wall bits, kind, lights variant) of cell (x, z)."""
        n = self.spec.chunk_size
        key = cx, cz = x // n, z // n
        rows = self._walk_cells.get(key)
        if rows is None:  # made when the walk first reads the chunk, not for every chunk loaded
            block = self.cells(cx, cz)
            info = np.stack([block.mask, block.kind, block.lights], -1).tolist()
            rows = [[tuple(c) for c in row] for row in info]  # the walk reads single cells a lot
            self._keep(self._walk_cells, key, rows)
        else:
            self._walk_cells.move_to_end(key)
        return rows[z - cz * n][x - cx * n]

    def mask_at(self, x: int, z: int) -> int:
        """Open-wall bits of cell (x, z)."""
        return self.cell_at(x, z)[0]

    def start_cell(self) -> tuple[int, int]:
        """The walkable cell nearest the centre of chunk (0, 0): where every walk begins."""
        block = self.cells(0, 0)
        zz, xx = np.nonzero(block.mask > 0)
        centre = (self.spec.chunk_size - 1) / 2
        best = np.argmin((xx - centre) ** 2 + (zz - centre) ** 2 + 1e-3 * xx)
        return int(xx[best] + block.x0), int(zz[best] + block.z0)

    # -- camera ---------------------------------------------------------------------------------------
    @property
    def autopilot(self) -> Autopilot:
        if self._autopilot is None:
            self._autopilot = Autopilot(
                self.spec.seed, self.camera_spec, self.cell_at, self.cell_size, self.start_cell()
            )
        return self._autopilot

    @property
    def operator(self) -> Operator:
        """The person filming the autopilot's walk."""
        if self._operator is None or self._operator.walk is not self.autopilot:
            self._operator = Operator(self.spec.seed, self.autopilot)
        return self._operator

    def camera(self, frame: int, fps: float) -> Camera:
        """The camera at ``frame`` (any frame, in any order: the walk is a pure function of the seed)."""
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        key = (frame, fps)
        with self._cameras_lock:
            found, epoch = self._cameras.get(key), self._cameras_epoch
        if found is None:  # computed outside the lock: the walk is a pure function, a race only repeats it
            found = _frozen(self.operator.camera(frame / fps))
            with self._cameras_lock:
                if epoch == self._cameras_epoch:  # not if the walk changed meanwhile (a live change)
                    if len(self._cameras) >= CAMERA_CACHE:
                        del self._cameras[next(iter(self._cameras))]
                    self._cameras[key] = found
        return found

    def cameras(self, frame: int, fps: float) -> tuple[Camera, Camera]:
        """(previous, current) cameras for exact motion vectors; frame 0 is its own previous."""
        return self.camera(max(frame - 1, 0), fps), self.camera(frame, fps)

    # -- scene views --------------------------------------------------------------------------------
    def loaded_chunks(self, position: np.ndarray) -> list[tuple[int, int]]:
        """Chunks within ``load_radius`` (Chebyshev) of the chunk holding ``position``."""
        cx, cz = self.chunk_of(position)
        r = self.load_radius
        check_neighbourhood(self.spec.chunk_size, r)
        return [(cx + i, cz + j) for j in range(-r, r + 1) for i in range(-r, r + 1)]

    def view(self, position: np.ndarray) -> SceneView:
        """The loaded neighbourhood of ``position``; its ``version`` changes only with the chunk set."""
        chunks = tuple(self.loaded_chunks(np.asarray(position, np.float64)))
        key = (self.spec, chunks)
        found = self._views.get(key)
        if found is None:
            self._generate(chunks)
            scene = concat_scenes([self._scene(cx, cz) for cx, cz in chunks])
            version = stream_key(self.spec.seed, repr(self.spec), chunks) & 0x7FFFFFFFFFFFFFFF
            found = SceneView(
                self.library.library,
                scene.instances,
                scene.lights,
                version=version,
                meta={
                    "chunks": chunks,
                    "chunk_size": self.spec.chunk_size,
                    "cell_size": self.cell_size,
                    "seed": self.spec.seed,
                },
            )
            self._views[key] = found
            if len(self._views) > 4:
                self._views.popitem(last=False)
        return found


def check_neighbourhood(chunk_size: int, load_radius: int) -> None:
    """Refuse, in one line naming both knobs, a neighbourhood of more than ``MAX_LOADED_CELLS``."""
    cells = (chunk_size * (2 * load_radius + 1)) ** 2
    if cells > MAX_LOADED_CELLS:
        loads = f"world.chunk_size {chunk_size} at world.load_radius {load_radius} loads {cells:,} cells"
        raise UserError(f"{loads} at once, more than {MAX_LOADED_CELLS:,}; lower either")


def _frozen(camera: Camera) -> Camera:
    """``camera`` with read-only arrays: one cached pose is handed to every node of a frame."""
    camera.position.setflags(write=False)
    camera.rotation.setflags(write=False)
    return camera
