"""Parameter registry and store: every knob declared once, read everywhere."""

from backrooms.params.registry import REGISTRY, Param, ParamError, Registry, declare, parse_assignment
from backrooms.params.store import ParamStore, Snapshot

__all__ = [
    "REGISTRY",
    "Param",
    "ParamError",
    "ParamStore",
    "Registry",
    "Snapshot",
    "declare",
    "parse_assignment",
]
