"""A small fixed Backrooms floor plan for tests, benchmarks and the standalone script.

The world generator makes the real, endless layouts; this one is hand-drawn so that renders of it
are comparable between versions: 4 m cells, 2.7 m ceilings, one panel per open cell.
"""

from __future__ import annotations

import math

import numpy as np

from backrooms.world.types import Camera, InstanceSet, LightSet, Material, Mesh, PrototypeLibrary, SceneView

CELL = 4.0
HEIGHT = 2.7
# '.' open cell, '#' solid. Row 0 is the far end (most negative z); the walk goes up the middle column.
PLAN = (
    "#######",
    "#.....#",
    "#.#.#.#",
    "##...##",
    "#..#..#",
    "##...##",
    "#.#.#.#",
    "##...##",
    "###.###",
)
MATERIALS = [
    Material("wallpaper", (0.8, 0.68, 0.3), 0.85, pattern="wallpaper"),
    Material("carpet", (0.56, 0.44, 0.22), 0.95, pattern="carpet"),
    Material("ceiling", (0.78, 0.74, 0.58), 0.9, pattern="ceiling_tile"),
    Material("panel", (0.9, 0.9, 0.85), 0.4, emissive=(1.0, 0.97, 0.85), pattern="light_panel"),
    Material("baseboard", (0.45, 0.38, 0.25), 0.6, pattern="trim"),
]


def _quad(
    corners: list[tuple[float, float, float]], normal: tuple[float, float, float], material: int
) -> Mesh:
    """Two counter-clockwise triangles over four corners listed counter-clockwise about ``normal``."""
    pts = np.array(corners, np.float32)
    return Mesh(
        name="quad",
        points=pts,
        triangles=np.array([[0, 1, 2], [0, 2, 3]], np.int32),
        normals=np.tile(np.array(normal, np.float32), (4, 1)),
        uvs=pts[:, [0, 2]] if abs(normal[1]) > 0.5 else pts[:, [0, 1]],
        tri_material=np.full(2, material, np.int32),
    )


def _merge(name: str, parts: list[Mesh]) -> Mesh:
    offsets = np.cumsum([0] + [len(p.points) for p in parts[:-1]])
    return Mesh(
        name=name,
        points=np.concatenate([p.points for p in parts]),
        triangles=np.concatenate([p.triangles + o for p, o in zip(parts, offsets, strict=True)]).astype(
            np.int32
        ),
        normals=np.concatenate([p.normals for p in parts]),
        uvs=np.concatenate([p.uvs for p in parts]),
        tri_material=np.concatenate([p.tri_material for p in parts]),
    )


def library() -> PrototypeLibrary:
    """Floor, ceiling, wall (facing +z, with a baseboard) and light panel prototypes."""
    h, c = HEIGHT, CELL / 2
    floor = _quad([(-c, 0, c), (c, 0, c), (c, 0, -c), (-c, 0, -c)], (0, 1, 0), 1)
    ceiling = _quad([(-c, h, -c), (c, h, -c), (c, h, c), (-c, h, c)], (0, -1, 0), 2)
    wall = _merge(
        "wall",
        [
            _quad([(-c, 0, 0), (c, 0, 0), (c, h, 0), (-c, h, 0)], (0, 0, 1), 0),
            _quad([(-c, 0, 0.015), (c, 0, 0.015), (c, 0.1, 0.015), (-c, 0.1, 0.015)], (0, 0, 1), 4),
        ],
    )
    panel = _quad(
        [(-0.3, h - 0.01, -0.6), (0.3, h - 0.01, -0.6), (0.3, h - 0.01, 0.6), (-0.3, h - 0.01, 0.6)],
        (0, -1, 0),
        3,
    )
    return PrototypeLibrary(meshes=[floor, ceiling, wall, panel], materials=list(MATERIALS), cell_size=CELL)


def _placed(x: float, z: float, yaw: float) -> np.ndarray:
    m = np.eye(4, dtype=np.float32)
    cs, sn = math.cos(yaw), math.sin(yaw)
    m[:3, :3] = [[cs, 0, sn], [0, 1, 0], [-sn, 0, cs]]
    m[:3, 3] = (x, 0.0, z)
    return m


def cell_centre(row: int, col: int) -> tuple[float, float]:
    return (col - len(PLAN[0]) // 2) * CELL, (row - len(PLAN) + 1) * CELL


def _solid(row: int, col: int) -> bool:
    return not (0 <= row < len(PLAN) and 0 <= col < len(PLAN[0])) or PLAN[row][col] == "#"


def view(lib: PrototypeLibrary | None = None, version: int = 0) -> SceneView:
    """The whole plan as one view (it is small enough to need no streaming)."""
    lib = lib or library()
    mesh, transform, light_pos = [], [], []
    for r, line in enumerate(PLAN):
        for k, ch in enumerate(line):
            if ch != ".":
                continue
            x, z = cell_centre(r, k)
            mesh += [0, 1, 3]
            transform += [_placed(x, z, 0.0), _placed(x, z, 0.0), _placed(x, z, 0.0)]
            light_pos.append((x, HEIGHT - 0.01, z))
            # wall toward each solid neighbour, facing into this cell
            for dr, dk, yaw in ((-1, 0, 0.0), (1, 0, math.pi), (0, -1, math.pi / 2), (0, 1, -math.pi / 2)):
                if _solid(r + dr, k + dk):
                    dx, dz = dk * CELL / 2, dr * CELL / 2
                    mesh.append(2)
                    transform.append(_placed(x + dx, z + dz, yaw))
    count = len(mesh)
    lights = len(light_pos)
    keys = (np.arange(lights, dtype=np.uint64) * 2654435761 % 2**32).astype(np.uint32)
    state = np.zeros(lights, np.int32)
    state[3::5] = 1
    return SceneView(
        library=lib,
        instances=InstanceSet(
            mesh=np.array(mesh, np.int32),
            transform=np.array(transform, np.float32),
            look=np.zeros((count, 4), np.int32),
            key=np.arange(count, dtype=np.uint32),
        ),
        lights=LightSet(
            position=np.array(light_pos, np.float32),
            half_size=np.tile(np.array([0.3, 0.6], np.float32), (lights, 1)),
            intensity=np.ones(lights, np.float32),
            state=state,
            key=keys,
        ),
        version=version,
        meta={"cell_size": CELL},
    )


def camera(frame: int, fps: float = 24.0, fov_y: float = 60.0) -> Camera:
    """A slow walk up the middle column with a little head sway, looking down -z."""
    t = frame / fps
    z = cell_centre(len(PLAN) - 1, 0)[1] + 1.5 - 1.2 * t
    yaw = 0.08 * math.sin(0.7 * t)
    pitch = -0.03 + 0.01 * math.sin(2.1 * t)
    position = np.array([0.25 * math.sin(0.5 * t), 1.6 + 0.02 * math.sin(4.2 * t), z], np.float32)
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    forward = np.array([-sy * cp, sp, -cy * cp])
    right = np.array([cy, 0.0, -sy])
    up = np.cross(-forward, right)
    return Camera(
        position=position, rotation=np.stack([right, up, -forward], axis=1).astype(np.float32), fov_y=fov_y
    )
