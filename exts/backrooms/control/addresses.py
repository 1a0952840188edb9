"""The one OSC address table, built from the registry: every way in reads it.

Each knob lives at ``/backrooms/<node>/<name>``; a float knob with a range also has
``<address>/native``, where floats are the knob's own units instead of 0..1. No other knob has one.
The OSC receiver, OSCQuery (tree and feedback), MIDI, the web preview and the Kit panel all list and
resolve addresses here, so none of them can disagree about what exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from backrooms.params.registry import Param, Registry

NATIVE = "/native"


@dataclass(frozen=True)
class Address:
    """One OSC address: the knob it sets, and whether it is the ``/native`` address (floats in the
    knob's own units rather than 0..1; see control/values.py for the whole rule)."""

    path: str
    param: Param
    native: bool


def has_normalized_address(param: Param) -> bool:
    """Ranged float knobs are addressed 0..1 on their main address (and natively on ``/native``)."""
    return param.type is float and param.min is not None and param.max is not None


class AddressTable:
    """Address -> :class:`Address` for every knob of a registry, in registry order."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._addresses: dict[str, Address] = {}
        for param in registry:
            normalized = has_normalized_address(param)
            self._addresses[param.osc_address] = Address(param.osc_address, param, False)
            if normalized:
                path = param.osc_address + NATIVE
                self._addresses[path] = Address(path, param, True)

    def __getitem__(self, path: str) -> Address:
        return self._addresses[path]

    def get(self, path: str) -> Address | None:
        return self._addresses.get(path)

    def __contains__(self, path: object) -> bool:
        return path in self._addresses

    def __iter__(self) -> Iterator[Address]:
        return iter(self._addresses.values())

    def paths(self) -> list[str]:
        return list(self._addresses)

    def for_param(self, param: Param) -> list[Address]:
        """The addresses of one knob: its main address first."""
        main = self._addresses[param.osc_address]
        native = self._addresses.get(param.osc_address + NATIVE)
        return [main, native] if native is not None else [main]

    def describe(self, param: Param) -> dict[str, object]:
        """The knob's registry description plus its addresses (what the preview and panel show)."""
        return {**param.to_json(), "addresses": [a.path for a in self.for_param(param)]}
