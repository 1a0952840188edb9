"""Scenes: named snapshots of knob values (every knob, or one node's), kept in a JSON file beside the
recipe (``<recipe>.scenes.json``: ``{"name": {"node.knob": value, ...}, ...}``), recalled at once or
morphed into over a time.

A file that does not parse, or that names an unknown knob or a value a knob refuses, is one
``UserError`` line and nothing is loaded; a recall goes through ``ParamStore.update``, so it is
all-or-nothing, reaches every listener (OSC, preview, automation) and is recorded like any change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backrooms.errors import UserError
from backrooms.io.atomic import write_json
from backrooms.params.registry import ParamError, Registry
from backrooms.params.store import ParamStore


def scenes_path(recipe: Path) -> Path:
    """Where a recipe's scenes live: beside it, ``<name>.scenes.json``."""
    return recipe.with_name(f"{recipe.stem}.scenes.json")


class SceneBook:
    """The scenes of one file, checked against the registry when loaded and when saved."""

    def __init__(self, path: Path, registry: Registry) -> None:
        self.path = Path(path)
        self.registry = registry
        self.scenes: dict[str, dict[str, Any]] = self._load() if self.path.exists() else {}

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError) as exc:
            raise UserError(f"{self.path}: not a scenes file ({exc})") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise UserError(f"{self.path}: expected {{scene name: {{knob: value}}}}")
        try:
            return {name: self._checked(values) for name, values in data.items()}
        except ParamError as exc:
            raise UserError(f"{self.path}: {exc}") from None

    def _checked(self, values: Mapping[str, Any]) -> dict[str, Any]:
        return {key: self.registry[key].coerce(value) for key, value in values.items()}

    def save(self, name: str, store: ParamStore, node: str | None = None) -> dict[str, Any]:
        """Keep the store's current values (of ``node`` only, if given) as scene ``name``, on disk."""
        if not name:
            raise UserError("a scene needs a name")
        snapshot = store.snapshot()
        values = {k: v for k, v in snapshot.items() if node is None or k.startswith(f"{node}.")}
        if not values:
            raise UserError(f"scene {name!r}: no knobs of node {node!r}")
        self.scenes[name] = values
        write_json(self.path, self.scenes)
        return values

    def get(self, name: str) -> dict[str, Any]:
        try:
            return self.scenes[name]
        except KeyError:
            known = ", ".join(sorted(self.scenes)) or "none saved"
            raise UserError(f"no scene {name!r} (scenes: {known})") from None

    def recall(self, name: str, store: ParamStore) -> dict[str, Any]:
        """Set every knob of the scene at once; returns what changed."""
        return store.update(self.get(name))

    def morph(self, name: str, store: ParamStore, frames: int) -> Morph:
        """A morph from the store's current values to the scene over ``frames`` frames: only the
        knobs whose value differs move (the others stay free for a controller meanwhile)."""
        start = store.snapshot()
        moving = {key: goal for key, goal in self.get(name).items() if start[key] != goal}
        return Morph(start, moving, max(int(frames), 1), self.registry)


@dataclass
class Morph:
    """Continuous knobs glide linearly from ``start`` to ``target``; the others switch half-way."""

    start: Mapping[str, Any]
    target: Mapping[str, Any]
    frames: int
    registry: Registry

    def at(self, done: int) -> dict[str, Any]:
        """The values after ``done`` of its frames (from 1; the target itself from the last one on)."""
        if done >= self.frames:
            return dict(self.target)  # exactly the scene's values (a glide's sum may miss by a bit)
        t = max(done, 0) / self.frames
        values = {}
        for key, goal in self.target.items():
            param, begin = self.registry[key], self.start[key]
            if param.kind == "continuous" and param.type is float:
                values[key] = begin + (goal - begin) * t
            elif param.kind == "continuous" and param.type is int:
                values[key] = round(begin + (goal - begin) * t)
            else:
                values[key] = goal if t >= 0.5 else begin
        return values
