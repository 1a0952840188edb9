"""The one place where knobs are declared.

Every consumer (recipe, CLI ``--set``, OSC, OSCQuery, MIDI, the Kit panel, the web preview,
automation) reads this registry, so a parameter declared next to its node is playable everywhere.
"""

from __future__ import annotations

import difflib
import importlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from backrooms.errors import UserError

KINDS = ("continuous", "discrete", "trigger")


class ParamError(UserError):
    """A value, name or assignment that the registry refuses."""


@dataclass(frozen=True)
class Param:
    """One knob: what it is, what values it takes, and where it lives on OSC."""

    node: str
    name: str
    type: type
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    unit: str = ""
    choices: tuple[str, ...] = field(default_factory=tuple)
    kind: str = "continuous"
    # A value the type and range allow may still be unusable (a date that does not parse, a model
    # folder that does not exist): ``check`` raises ValueError for those, so every way in refuses
    # them at the door instead of a node failing on them frames later.
    check: Callable[[Any], None] | None = field(default=None, compare=False)

    @property
    def key(self) -> str:
        return f"{self.node}.{self.name}"

    @property
    def osc_address(self) -> str:
        return f"/backrooms/{self.node}/{self.name}"

    def coerce(self, value: Any) -> Any:
        """Return ``value`` as this parameter's type, or raise a one-line ParamError."""
        value = self.coerce_type(value)
        if self.check is not None:
            try:
                self.check(value)
            except (ValueError, OSError) as exc:  # OSError: a path check on a name no file system takes
                raise ParamError(f"{self.key}: {exc}") from None
        return value

    def coerce_type(self, value: Any) -> Any:
        """Type and range only (``check`` is left out: it may depend on files that come later)."""
        if isinstance(value, str) and self.type is not str:
            value = _parse_text(self, value)
        if self.type is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise ParamError(f"{self.key}: expected true/false, got {value!r}")
        if self.type is str:
            if not isinstance(value, str):
                raise ParamError(f"{self.key}: expected text, got {value!r}")
            if self.choices and value not in self.choices:
                raise ParamError(f"{self.key}: {value!r} is not one of {', '.join(self.choices)}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParamError(f"{self.key}: expected a number, got {value!r}")
        if self.type is int:
            if isinstance(value, float) and not value.is_integer():
                raise ParamError(f"{self.key}: expected a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(f"{self.key}: {value!r} is not a finite number")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ParamError(f"{self.key}: {value!r} is outside {self.min}..{self.max}")
        return value

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "node": self.node,
            "name": self.name,
            "type": self.type.__name__,
            "default": self.default,
            "min": self.min,
            "max": self.max,
            "unit": self.unit,
            "choices": list(self.choices),
            "kind": self.kind,
            "description": self.description,
            "osc_address": self.osc_address,
        }


def _parse_text(param: Param, text: str) -> Any:
    text = text.strip()
    if param.type is bool:
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ParamError(f"{param.key}: expected true/false, got {text!r}")
    try:
        return int(text) if param.type is int else float(text)
    except ValueError:
        kind = "a whole number" if param.type is int else "a number"
        raise ParamError(f"{param.key}: expected {kind}, got {text!r}") from None


class Registry:
    """An ordered, append-only table of parameters keyed ``node.name``.

    ``complete`` (called once, before the first read) declares every knob there is, so a reader never
    sees a partial table, whatever happened to be imported before it.
    """

    def __init__(self, complete: Callable[[], None] | None = None) -> None:
        self._params: dict[str, Param] = {}
        self._complete = complete

    def _table(self) -> dict[str, Param]:
        if self._complete is not None:
            complete, self._complete = self._complete, None
            complete()
        return self._params

    def declare(
        self,
        node: str,
        name: str,
        default: Any,
        description: str,
        *,
        min: float | None = None,
        max: float | None = None,
        unit: str = "",
        choices: tuple[str, ...] = (),
        kind: str | None = None,
        check: Callable[[Any], None] | None = None,
    ) -> Param:
        """Declare a knob once; re-declaring the same key with the same spec is a no-op."""
        ptype = type(default)
        if kind is None:
            kind = "discrete" if ptype in (bool, str) or choices else "continuous"
        if kind not in KINDS:
            raise ValueError(f"{node}.{name}: kind {kind!r} is not one of {KINDS}")
        param = Param(node, name, ptype, default, description, min, max, unit, tuple(choices), kind, check)
        param.coerce_type(default)
        existing = self._params.get(param.key)
        if existing is not None and existing != param:
            raise ValueError(f"parameter {param.key} declared twice with different specs")
        self._params[param.key] = param
        return param

    def __getitem__(self, key: str) -> Param:
        table = self._table()
        try:
            return table[key]
        except KeyError:
            hint = difflib.get_close_matches(key, table, n=1)
            suffix = f" (did you mean {hint[0]}?)" if hint else ""
            raise ParamError(f"unknown parameter {key!r}{suffix}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._table()

    def __iter__(self) -> Iterator[Param]:
        return iter(self._table().values())

    def __len__(self) -> int:
        return len(self._table())

    def nodes(self) -> list[str]:
        return sorted({p.node for p in self})

    def for_node(self, node: str) -> list[Param]:
        return [p for p in self if p.node == node]

    def by_address(self, address: str) -> Param | None:
        prefix = "/backrooms/"
        if not address.startswith(prefix):
            return None
        return self._table().get(address[len(prefix) :].replace("/", ".", 1))

    def defaults(self) -> dict[str, Any]:
        return {p.key: p.default for p in self}


def _declare_catalogue() -> None:
    # The catalogue imports every module that declares knobs (each node's, world, camera, beat).
    importlib.import_module("backrooms.graph.catalog").declare_all()


REGISTRY = Registry(complete=_declare_catalogue)


def declare(node: str, name: str, default: Any, description: str, **spec: Any) -> Param:
    """Declare a parameter in the global registry (at import time, in a module the catalogue lists in
    ``PARAM_MODULES``: a node's ``params`` module, not the node, which may import torch)."""
    return REGISTRY.declare(node, name, default, description, **spec)


def parse_assignment(text: str, registry: Registry = REGISTRY) -> tuple[str, Any]:
    """Parse ``node.param=value`` into a checked (key, value) pair."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ParamError(f"{text!r}: expected node.param=value")
    return key, registry[key].coerce(raw)
