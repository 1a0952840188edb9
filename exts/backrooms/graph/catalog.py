"""Node types a recipe can name, imported lazily so a recipe only pays for what it uses."""

from __future__ import annotations

import importlib

from backrooms.errors import UserError
from backrooms.graph.node import Node

NODE_TYPES: dict[str, str] = {
    "render": "backrooms.render.node:RenderNode",
    "diffusion": "backrooms.diffusion.node:DiffusionNode",
    "decay": "backrooms.decay.node:DecayNode",
    "audio": "backrooms.audio.node:AudioNode",
}

# Modules that declare parameters without being nodes themselves (world, camera, output ...).
PARAM_MODULES: tuple[str, ...] = ("backrooms.world.params",)


def node_class(kind: str) -> type[Node]:
    try:
        target = NODE_TYPES[kind]
    except KeyError:
        raise UserError(f"unknown node type {kind!r} (known: {', '.join(NODE_TYPES)})") from None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def declare_all() -> None:
    """Import every node and parameter module so the registry holds the whole table."""
    for kind in NODE_TYPES:
        node_class(kind)
    for module_name in PARAM_MODULES:
        importlib.import_module(module_name)
