"""Node types a recipe can name, imported lazily so a recipe only pays for what it uses.

The catalogue is a value handed to whoever builds nodes (recipe loading, the executor, shard
workers); nothing changes it at run time. A host or a test with nodes of its own makes a new one
with ``CATALOG.with_nodes(...)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from backrooms.errors import UserError
from backrooms.graph.node import Node

# The modules that declare parameters, in the table's order: the knobs of no node (world and camera
# first, beat last) and each node's, declared apart from the node itself so the registry (``backrooms
# params``, ``layout``, ``decay``, the live page, Kit's panel) holds the whole table without torch
PARAM_MODULES: tuple[str, ...] = (
    "backrooms.world.params",
    "backrooms.render.params",
    "backrooms.diffusion.params",
    "backrooms.camcorder.params",
    "backrooms.decay.settings",
    "backrooms.decay.events",
    "backrooms.audio.params",
    "backrooms.control.beat",
)


@dataclass(frozen=True)
class Catalog:
    """Recipe name -> ``"module:Class"`` of the node; it pickles, so it travels to workers."""

    entries: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", MappingProxyType(dict(self.entries)))

    def __reduce__(self) -> tuple[type, tuple[dict[str, str]]]:
        return Catalog, (dict(self.entries),)

    def __contains__(self, kind: object) -> bool:
        return kind in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def with_nodes(self, **entries: str) -> Catalog:
        """This catalogue with more (or replaced) node types."""
        return Catalog({**self.entries, **entries})

    def node_class(self, kind: str) -> type[Node]:
        try:
            target = self.entries[kind]
        except KeyError:
            raise UserError(f"unknown node type {kind!r} (known: {', '.join(self.entries)})") from None
        module_name, _, attr = target.partition(":")
        return getattr(importlib.import_module(module_name), attr)


CATALOG = Catalog(
    {
        "render": "backrooms.render.node:RenderNode",
        "diffusion": "backrooms.diffusion.node:DiffusionNode",
        "camcorder": "backrooms.camcorder.node:CamcorderNode",
        "decay": "backrooms.decay.node:DecayNode",
        "audio": "backrooms.audio.node:AudioNode",
    }
)


def declare_all() -> None:
    """Import every parameter module so the registry holds the whole table (``tests/test_params_registry.py``
    checks that the nodes declare nothing more).

    The global registry calls this itself before its first read; nobody else needs to.
    """
    for module_name in PARAM_MODULES:
        importlib.import_module(module_name)
