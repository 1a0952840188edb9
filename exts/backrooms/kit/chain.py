"""Runs our post-render nodes (diffusion, decay ...) on frames that RTX rendered. Kit-free.

In the embedded host the ``render`` node fills the render product; in Kit, Replicator's annotators do.
Annotator names map one to one onto our AOV names (see ``backrooms.graph.product``). With
``do_array_copy=False`` Replicator reuses its buffers on the next frame; the executor copies every
frame into buffers it owns (allocated once) before any node touches it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backrooms.graph.product import DEPTH, MOTION_VECTORS, NORMALS, RGB
from backrooms.graph.recipe import Recipe

# Replicator annotator name -> our AOV name. "LdrColor" and "rgb" are the same annotator.
ANNOTATOR_AOVS: dict[str, str] = {
    "LdrColor": RGB,
    "rgb": RGB,
    "distance_to_camera": DEPTH,
    "normals": NORMALS,
    "motion_vectors": MOTION_VECTORS,
}
# What the writer and the live preview attach to each render product.
ANNOTATORS: tuple[str, ...] = ("LdrColor", "distance_to_camera", "normals", "motion_vectors")


def post_render_kinds(recipe: Recipe) -> tuple[str, ...]:
    """The recipe's nodes after ``render`` (RTX takes the render node's place in Kit)."""
    return tuple(kind for kind in recipe.nodes if kind != "render")


def annotator_aovs(data: Mapping[str, Any]) -> dict[str, Any]:
    """Our AOV name -> array, from annotator outputs (bare arrays or ``{"data": array, "info": ...}``)."""
    aovs: dict[str, Any] = {}
    for name, value in data.items():
        aov = ANNOTATOR_AOVS.get(name)
        if aov is None:
            continue
        aovs[aov] = value["data"] if isinstance(value, Mapping) else value
    return aovs
