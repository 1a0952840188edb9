"""What each hallway prototype is made of: walls on its closed sides, carpet, a tiled drop ceiling,
light-panel slots, skirting, and the pieces that make a family (pillars, door frames, landmarks).

Prototypes are centred on their cell (x, z in [-2, 2] metres), floor at y = 0. Canonical portals:
a shape's open sides in its own frame; the layout turns prototypes in quarter turns to fit a cell.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from backrooms.world.geometry import QuadSoup
from backrooms.world.layout import EAST, NORTH, SOUTH, WEST

CELL = 4.0
HALF = CELL / 2
HEIGHT = 2.8  # drop ceiling
PLENUM = HEIGHT + 0.35  # dark void seen through missing tiles
WALL = 0.1  # each cell's half of a shared wall
TILES = 6  # drop-ceiling tiles per cell side (2/3 m)
TILE = CELL / TILES
SKIRT_H, SKIRT_D = 0.1, 0.015
PANEL_HALF = (TILE, TILE / 2)  # a 2 x 1 tile troffer, long side along local X
PANEL_DEPTH = 0.005  # a lay-in troffer sits flush in the tile grid (a hanging 4 cm box read as a slab)
PANEL_RIM = 0.04  # the painted steel frame around the prismatic lens

SHAPES = {
    "dead_end": EAST,
    "straight": EAST | WEST,
    "corner": EAST | NORTH,
    "tee": EAST | NORTH | WEST,
    "cross": EAST | NORTH | WEST | SOUTH,
}
SIDE_NAMES = {EAST: "east", NORTH: "north", WEST: "west", SOUTH: "south"}


@dataclass(frozen=True)
class MaterialSpec:
    """A UsdPreviewSurface plus the pattern name the renderer shades it with."""

    albedo: tuple[float, float, float]
    roughness: float
    pattern: str
    emissive: tuple[float, float, float] = (0.0, 0.0, 0.0)


MATERIALS = {
    "wallpaper": MaterialSpec((0.80, 0.72, 0.42), 0.9, "wallpaper"),
    "carpet": MaterialSpec((0.55, 0.48, 0.30), 1.0, "carpet"),
    "ceiling_tile": MaterialSpec((0.86, 0.84, 0.76), 0.95, "ceiling_tile"),
    "light_panel": MaterialSpec((0.62, 0.62, 0.60), 0.3, "light_panel", (6.0, 5.9, 5.2)),
    "panel_frame": MaterialSpec((0.90, 0.89, 0.85), 0.5, "plain"),
    "trim": MaterialSpec((0.62, 0.55, 0.38), 0.6, "trim"),
    "plenum": MaterialSpec((0.04, 0.04, 0.035), 1.0, "plain"),
    "door": MaterialSpec((0.36, 0.26, 0.16), 0.7, "plain"),
    "exit_sign": MaterialSpec((0.10, 0.60, 0.20), 0.5, "plain", (0.4, 3.0, 0.8)),
    "plastic": MaterialSpec((0.55, 0.12, 0.10), 0.5, "plain"),
    "cabinet": MaterialSpec((0.15, 0.15, 0.17), 0.4, "plain"),
    "vending_glow": MaterialSpec((0.80, 0.85, 0.90), 0.3, "plain", (2.2, 2.4, 2.6)),
    "bottle": MaterialSpec((0.50, 0.66, 0.80), 0.2, "plain"),
    "cardboard": MaterialSpec((0.56, 0.43, 0.28), 0.9, "plain"),
}


@dataclass
class Design:
    """One prototype: geometry by material, plus what the generator reads from its metadata."""

    name: str
    family: str  # corridor | room | pillar_hall | doorway | landmark
    shape: str
    portals: int
    soup: QuadSoup
    loose: QuadSoup  # ceiling tiles that the ceiling variants drop or remove
    light_slots: list[tuple[float, float]] = field(default_factory=list)  # panel centres (x, z)


def _tile_center(i: int) -> float:
    return -HALF + (i + 0.5) * TILE


def _walls(soup: QuadSoup, portals: int) -> None:
    """Wall slabs with skirting on every closed side."""
    for side in (EAST, NORTH, WEST, SOUTH):
        if portals & side:
            continue
        if side in (EAST, WEST):
            s = 1 if side == EAST else -1
            inner = s * (HALF - WALL)
            lo, hi = sorted((inner, s * HALF))
            soup.box("wallpaper", (lo, 0, -HALF), (hi, HEIGHT, HALF), "-x +z -z" if s > 0 else "+x +z -z")
            slo, shi = sorted((inner, inner - s * SKIRT_D))
            soup.box("trim", (slo, 0, -HALF), (shi, SKIRT_H, HALF), ("-x" if s > 0 else "+x") + " +y +z -z")
        else:
            s = 1 if side == SOUTH else -1
            inner = s * (HALF - WALL)
            lo, hi = sorted((inner, s * HALF))
            soup.box("wallpaper", (-HALF, 0, lo), (HALF, HEIGHT, hi), "-z +x -x" if s > 0 else "+z +x -x")
            slo, shi = sorted((inner, inner - s * SKIRT_D))
            soup.box("trim", (-HALF, 0, slo), (HALF, SKIRT_H, shi), ("-z" if s > 0 else "+z") + " +y +x -x")


def _floor_and_ceiling(
    soup: QuadSoup, loose: QuadSoup, panels: list[tuple[int, int]], loose_tiles: set
) -> None:
    """Carpet, the tile grid minus panel openings, loose tiles apart, and the plenum above."""
    soup.face("carpet", 1, 1, 0.0, (-HALF, -HALF), (HALF, HALF))
    taken = {(i + di, j) for i, j in panels for di in (0, 1)}
    for i in range(TILES):
        for j in range(TILES):
            if (i, j) in taken:
                continue
            target = loose if (i, j) in loose_tiles else soup
            x0, z0 = -HALF + i * TILE, -HALF + j * TILE
            target.face("ceiling_tile", 1, -1, HEIGHT, (z0, x0), (z0 + TILE, x0 + TILE))
    soup.face("plenum", 1, -1, PLENUM, (-HALF, -HALF), (HALF, HALF))


def _panel_slots(panels: list[tuple[int, int]]) -> list[tuple[float, float]]:
    """Panel centres for panels covering tiles (i, j) and (i + 1, j)."""
    return [(-HALF + (i + 1) * TILE, _tile_center(j)) for i, j in panels]


def _pillar(soup: QuadSoup) -> None:
    """A square pillar near the cell's +x/+z corner: halls of these cells show a 4 m pillar grid, and
    the camera's paths (centre lines and quarter arcs) keep more than a metre away from it."""
    lo, hi = 1.2, 1.8
    soup.box("wallpaper", (lo, 0, lo), (hi, HEIGHT, hi), "+x -x +z -z")
    soup.box("trim", (lo - SKIRT_D, 0, lo - SKIRT_D), (hi + SKIRT_D, SKIRT_H, hi + SKIRT_D), "+x -x +y +z -z")


def _door_frame(soup: QuadSoup) -> None:
    """A partition across the cell (the x = 0 plane) with a framed doorway in the middle."""
    t, half_door, top = 0.075, 0.6, 2.2
    soup.box("wallpaper", (-t, 0, -HALF), (t, HEIGHT, -half_door), "+x -x +z")
    soup.box("wallpaper", (-t, 0, half_door), (t, HEIGHT, HALF), "+x -x -z")
    soup.box("wallpaper", (-t, top, -half_door), (t, HEIGHT, half_door), "+x -x -y")
    jamb = 0.07
    soup.box("trim", (-t - 0.02, 0, -half_door), (t + 0.02, top + jamb, -half_door + jamb), "+x -x +z +y")
    soup.box("trim", (-t - 0.02, 0, half_door - jamb), (t + 0.02, top + jamb, half_door), "+x -x -z +y")
    soup.box("trim", (-t - 0.02, top, -half_door), (t + 0.02, top + jamb, half_door), "+x -x -y")


def _exit_door(soup: QuadSoup) -> None:
    """A locked door with a glowing EXIT sign on the closed west wall of a dead end."""
    x = -HALF + WALL
    soup.box("door", (x, 0, -0.48), (x + 0.05, 2.1, 0.48), "+x +y +z -z")
    soup.box("trim", (x, 0, -0.55), (x + 0.07, 2.17, -0.48), "+x +y +z -z")
    soup.box("trim", (x, 0, 0.48), (x + 0.07, 2.17, 0.55), "+x +y +z -z")
    soup.box("trim", (x, 2.1, -0.48), (x + 0.07, 2.17, 0.48), "+x +y -y")
    soup.box("cabinet", (x, 2.3, -0.3), (x + 0.08, 2.5, 0.3), "+x +y -y +z -z", px="exit_sign")


def _chair(soup: QuadSoup) -> None:
    """A lone plastic chair against the south wall of a corridor."""
    x0, z0, s = -0.25, 1.25, 0.45
    soup.box("plastic", (x0, 0.42, z0), (x0 + s, 0.47, z0 + s))
    soup.box("plastic", (x0, 0.47, z0 + s - 0.05), (x0 + s, 0.9, z0 + s))
    for lx in (x0, x0 + s - 0.04):
        for lz in (z0, z0 + s - 0.04):
            soup.box("trim", (lx, 0, lz), (lx + 0.04, 0.42, lz + 0.04), "+x -x +z -z")


def _vending(soup: QuadSoup) -> None:
    """A humming vending machine in the south-east corner of a crossing, facing west."""
    soup.box("cabinet", (1.15, 0, 1.05), (1.85, 1.9, 1.85), "+x -x +y +z -z", nx="vending_glow")


def _cooler(soup: QuadSoup) -> None:
    """A water cooler in the closed south-west corner of a corner cell, away from the arc walked."""
    soup.box("cabinet", (-1.85, 0, 1.45), (-1.45, 1.0, 1.85), "+x -x +y +z -z")
    soup.box("bottle", (-1.78, 1.0, 1.52), (-1.52, 1.42, 1.78), "+x -x +y +z -z")


def _boxes(soup: QuadSoup) -> None:
    """A stack of abandoned cardboard boxes against the closed south wall of a tee."""
    soup.box("cardboard", (-0.9, 0, 1.35), (-0.3, 0.45, 1.85), "+x -x +y +z -z")
    soup.box("cardboard", (-0.25, 0, 1.45), (0.3, 0.4, 1.85), "+x -x +y +z -z")
    soup.box("cardboard", (-0.75, 0.45, 1.45), (-0.3, 0.8, 1.85), "+x -x +y +z -z")


LANDMARKS = {  # one per corridor shape, so every landmark cell the layout marks gets its prop
    "landmark_exit": ("dead_end", _exit_door, [(2, 2)]),
    "landmark_chair": ("straight", _chair, [(2, 2)]),
    "landmark_cooler": ("corner", _cooler, [(2, 2)]),
    "landmark_boxes": ("tee", _boxes, [(2, 2)]),
    "landmark_vending": ("cross", _vending, [(1, 1), (3, 4)]),
}
FAMILY_PANELS = {
    "corridor": [(2, 2)],
    "room": [(0, 1), (3, 1), (1, 4), (4, 4)],
    "pillar_hall": [(0, 1), (3, 1), (1, 4)],
    "doorway": [(0, 2), (4, 2)],
}
LOOSE_TILES = {(1, 3), (4, 2), (5, 5)}


def _design(
    name: str,
    family: str,
    shape: str,
    panels: list[tuple[int, int]],
    extra: Callable[[QuadSoup], None] | None,
) -> Design:
    soup, loose = QuadSoup(), QuadSoup()
    portals = SHAPES[shape]
    _walls(soup, portals)
    _floor_and_ceiling(soup, loose, panels, LOOSE_TILES - {(i + d, j) for i, j in panels for d in (0, 1)})
    if extra is not None:
        extra(soup)
    return Design(name, family, shape, portals, soup, loose, _panel_slots(panels))


def all_designs() -> list[Design]:
    """Every prototype the library ships, in a fixed order."""
    designs = []
    for family, extra in (("corridor", None), ("room", None), ("pillar_hall", _pillar)):
        for shape in SHAPES:
            designs.append(_design(f"{family}_{shape}", family, shape, FAMILY_PANELS[family], extra))
    designs.append(_design("doorway_straight", "doorway", "straight", FAMILY_PANELS["doorway"], _door_frame))
    for name, (shape, extra, panels) in LANDMARKS.items():
        designs.append(_design(name, "landmark", shape, panels, extra))
    return designs


def panel_soup() -> QuadSoup:
    """The ceiling light panel, origin at the ceiling plane: a glowing lens in a white steel frame,
    flush with the tiles (only downward faces, so no lit or shadowed side shows a step)."""
    soup = QuadSoup()
    hx, hz = PANEL_HALF
    ix, iz = hx - PANEL_RIM, hz - PANEL_RIM
    y = -PANEL_DEPTH
    soup.face("light_panel", 1, -1, y, (-iz, -ix), (iz, ix))
    for lo, hi in (
        ((-hz, -hx), (hz, -ix)),
        ((-hz, ix), (hz, hx)),
        ((-hz, -ix), (-iz, ix)),
        ((iz, -ix), (hz, ix)),
    ):
        soup.face("panel_frame", 1, -1, y, lo, hi)
    return soup
