"""Knobs of the world (layout, variants, streaming) and of the camera autopilot.

Layout knobs are ``discrete``: changing one regenerates chunks (a new world), so a controller
should step them, not sweep them; so are the camera's route knobs (turn, explore, stop... rates),
which re-plan the walk from the next cell on (live: docs/world.md). The operator style
is discrete too (it shapes the walk's timing). Variant rates, speed and the filming knobs (shake,
bob, curiosity, fov, height) may move continuously.
"""

from __future__ import annotations

from backrooms.params import declare
from backrooms.world.styles import STYLES

WORLD = "world"
CAMERA = "camera"

declare(
    WORLD,
    "variation",
    0,
    "added to the run seed: a different endless world",
    min=0,
    max=2**31 - 1,
    kind="trigger",
)
declare(
    WORLD,
    "chunk_size",
    16,
    "cells per chunk side (generation and streaming unit)",
    min=4,
    max=64,
    unit="cells",
    kind="discrete",
)
declare(
    WORLD,
    "load_radius",
    1,
    "chunks loaded around the camera's chunk",
    min=0,
    max=4,
    unit="chunks",
    kind="discrete",
)
declare(
    WORLD,
    "corridor_density",
    0.55,
    "share of cells that are walkable before carving",
    min=0.2,
    max=1.0,
    kind="discrete",
)
declare(
    WORLD,
    "loop_rate",
    0.3,
    "chance an extra wall between two walkable cells is opened",
    min=0.0,
    max=1.0,
    kind="discrete",
)
declare(
    WORLD,
    "room_rate",
    0.35,
    "chance each of a chunk's room slots becomes a room",
    min=0.0,
    max=1.0,
    kind="discrete",
)
declare(WORLD, "pillar_rate", 0.35, "share of rooms built as pillar halls", min=0.0, max=1.0, kind="discrete")
declare(
    WORLD,
    "doorway_rate",
    0.12,
    "share of straight corridor cells with a door frame",
    min=0.0,
    max=1.0,
    kind="discrete",
)
declare(
    WORLD,
    "landmark_rate",
    0.004,
    "share of corridor cells replaced by a rare landmark",
    min=0.0,
    max=0.2,
    kind="discrete",
)
declare(WORLD, "light_failure_rate", 0.12, "share of ceiling panels that are dead", min=0.0, max=1.0)
declare(WORLD, "flicker_rate", 0.08, "share of ceiling panels that flicker", min=0.0, max=1.0)
declare(WORLD, "missing_light_rate", 0.04, "share of ceiling panels that are missing", min=0.0, max=1.0)
declare(WORLD, "stain_rate", 0.3, "wallpaper variant weight: stained", min=0.0, max=1.0)
declare(WORLD, "peel_rate", 0.1, "wallpaper variant weight: peeling", min=0.0, max=1.0)
declare(WORLD, "damp_rate", 0.15, "carpet variant weight: damp", min=0.0, max=1.0)
declare(WORLD, "carpet_stain_rate", 0.2, "carpet variant weight: stained", min=0.0, max=1.0)
declare(WORLD, "missing_tile_rate", 0.1, "ceiling variant weight: missing tiles", min=0.0, max=1.0)
declare(WORLD, "sag_rate", 0.06, "ceiling variant weight: sagging tiles", min=0.0, max=1.0)
declare(
    WORLD, "decay_scale", 12.0, "size of the zones where failures cluster", min=1.0, max=200.0, unit="cells"
)

declare(
    CAMERA,
    "speed",
    1.4,
    "walking speed; live changes carry on from where the camera is",
    min=0.0,
    max=8.0,
    unit="m/s",
)
declare(CAMERA, "fov", 62.0, "vertical field of view", min=20.0, max=120.0, unit="deg")
declare(CAMERA, "height", 1.6, "eye height above the carpet", min=0.5, max=2.4, unit="m")
declare(
    CAMERA,
    "operator",
    "walking",
    "who holds the camera: tripod (a fluid head on a dolly), steadicam, walking (handheld), nervous, running",
    choices=tuple(STYLES),
    kind="discrete",
)
declare(CAMERA, "shake", 1.0, "hand tremor and aim drift, times the operator's own", min=0.0, max=3.0)
declare(CAMERA, "bob", 1.0, "step bob, sway and roll, times the operator's own", min=0.0, max=3.0)
declare(
    CAMERA,
    "curiosity",
    1.0,
    "how far the operator looks around, up at failing panels and into side openings",
    min=0.0,
    max=2.0,
)
declare(
    CAMERA,
    "turn_rate",
    0.45,
    "chance to take a side opening when going straight is possible",
    min=0.0,
    max=1.0,
    kind="discrete",
)
declare(
    CAMERA, "explore", 0.85, "preference for cells not visited recently", min=0.0, max=1.0, kind="discrete"
)
declare(
    CAMERA,
    "stop_rate",
    0.05,
    "chance per cell to stop for a while (times the operator's)",
    min=0.0,
    max=1.0,
    kind="discrete",
)
declare(
    CAMERA,
    "look_rate",
    0.08,
    "chance per cell to stop and look around (times the operator's)",
    min=0.0,
    max=1.0,
    kind="discrete",
)
declare(CAMERA, "backtrack_rate", 0.01, "chance per cell to turn back", min=0.0, max=1.0, kind="discrete")
declare(CAMERA, "pause", 2.5, "length of a stop or look-around", min=0.0, max=30.0, unit="s", kind="discrete")
