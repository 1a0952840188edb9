"""Runs our post-render nodes (diffusion, decay ...) on frames that RTX rendered. Kit-free.

In the embedded host the ``render`` node fills the render product; in Kit, Replicator's annotators do.
Annotator names map one to one onto our AOV names (see ``backrooms.graph.product``). With
``do_array_copy=False`` Replicator reuses its buffers on the next frame, so every frame is copied
into buffers this chain owns (allocated once) before any node touches it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import warp as wp

from backrooms.graph.catalog import node_class
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import DEPTH, MOTION_VECTORS, NORMALS, RGB, RenderProduct
from backrooms.graph.recipe import Recipe
from backrooms.params.store import Snapshot

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


class PostChain:
    """Owns the post-render nodes and the frame buffers of one render product (one camera, one size)."""

    def __init__(self, node_types: Iterable[type[Node]], context: GraphContext) -> None:
        self.context = context
        with wp.ScopedDevice(context.device):
            self.nodes: list[Node] = [node_type(context) for node_type in node_types]
        self._buffers: dict[str, wp.array] = {}
        self._next_frame: int | None = None

    @classmethod
    def for_kinds(cls, kinds: Iterable[str], context: GraphContext) -> PostChain:
        return cls([node_class(kind) for kind in kinds], context)

    def process(self, frame: int, aovs: Mapping[str, Any], params: Snapshot) -> RenderProduct:
        """Copy the frame's AOVs in, run the nodes, return the product (its buffers are reused next call)."""
        ctx = self.context
        if frame != self._next_frame:
            for node in self.nodes:
                node.reset()
        product = RenderProduct(frame, ctx.width, ctx.height, ctx.device, self._buffers)
        for name, source in aovs.items():
            _copy_into(product.allocate(name), source)
        with wp.ScopedDevice(ctx.device):
            for node in self.nodes:
                node.process(product, params)
        self._next_frame = frame + 1
        return product


def _copy_into(target: wp.array, source: Any) -> None:
    """Copy an annotator array into ``target``: zero-copy-sized device copy when layouts match."""
    if isinstance(source, wp.array) and source.shape == target.shape and source.dtype == target.dtype:
        wp.copy(target, source)
        return
    host = source.numpy() if isinstance(source, wp.array) else np.asarray(source)
    wp.copy(target, wp.array(_fit(host, target.shape), dtype=target.dtype, device=target.device))


def _fit(host: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Reshape an annotator array to our layout: (H, W) <-> (H, W, 1), 3 <-> 4 channels (padding with 0)."""
    height, width = shape[:2]
    if host.shape[:2] != (height, width):
        raise ValueError(f"annotator array of shape {host.shape} does not fit a {width}x{height} chain")
    if len(shape) == 2:
        return host.reshape(height, width, -1)[..., 0]
    host = host.reshape(height, width, -1)
    out = np.zeros(shape, dtype=host.dtype)
    channels = min(shape[2], host.shape[2])
    out[..., :channels] = host[..., :channels]
    return out
