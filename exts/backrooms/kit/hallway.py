"""The hallway randomizer: Replicator recombines the prototypes' variants on every trigger.

The layout (which prototype sits in which cell) is ours: a pure function of the seed, authored as
USD by ``backrooms.world``. Replicator drives what it is good at, re-rolling each cell's variant
sets (wallpaper, carpet, ceiling, lights) when a trigger fires: ``on_frame`` in scripts, and
``on_custom_event`` for reshuffles played over OSC.
"""

from __future__ import annotations

import omni.replicator.core as rep

from backrooms.kit.walk import CELL_PATTERN
from backrooms.world.layout import VARIANTS

RANDOMIZER = "backrooms_hallway"
RESHUFFLE_EVENT = "backrooms_reshuffle"


def register() -> None:
    """Make ``rep.randomizer.backrooms_hallway()`` available to Replicator scripts."""

    def backrooms_hallway():
        cells = rep.get.prims(path_pattern=CELL_PATTERN)
        with cells:
            for variant_set, options in VARIANTS.items():
                rep.modify.variant(variant_set, rep.distribution.choice(list(options)))
        return cells.node

    backrooms_hallway.__name__ = RANDOMIZER
    rep.randomizer.register(backrooms_hallway)


def add_triggers(reshuffle_every: int) -> None:
    """Re-roll the hallway on the reshuffle event, and every ``reshuffle_every`` frames if > 0."""
    with rep.trigger.on_custom_event(event_name=RESHUFFLE_EVENT):
        rep.randomizer.backrooms_hallway()
    if reshuffle_every > 0:
        with rep.trigger.on_frame(interval=reshuffle_every):
            rep.randomizer.backrooms_hallway()


def reshuffle() -> None:
    """Fire the reshuffle event (the graph runs on the next orchestrator step)."""
    rep.utils.send_og_event(event_name=RESHUFFLE_EVENT)
