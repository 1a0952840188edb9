"""Frame-rate smoothing of continuous parameters, so 7-bit MIDI steps and network jitter never show.

A one-pole low-pass (exponential approach) stepped once per frame: deterministic, never overshoots,
and stays inside the parameter's range because each step is a convex mix of the value and its
target. Discrete parameters and triggers are not smoothed: they jump on the frame they arrive.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from backrooms.params.registry import Registry

SETTLE = 1e-4  # share of the range under which a value snaps onto its target


class Smoother:
    def __init__(self, registry: Registry, values: Mapping[str, Any], fps: float, seconds: float) -> None:
        """``seconds`` is the time constant: after it a step has covered 63 % of the way."""
        self.registry = registry
        self.alpha = 1.0 if seconds <= 0 else 1.0 - math.exp(-1.0 / (fps * seconds))
        self._state: dict[str, float] = {}
        self._targets: dict[str, float] = {}
        self._values = dict(values)

    def smooths(self, key: str) -> bool:
        param = self.registry[key]
        return param.kind == "continuous" and param.type in (int, float) and self.alpha < 1.0

    def set_target(self, key: str, value: float) -> None:
        self._targets[key] = value
        self._state.setdefault(key, float(self._values[key]))

    def jump(self, key: str, value: Any) -> None:
        """Set a value with no smoothing (and cancel any glide in progress)."""
        self._values[key] = value
        self._targets.pop(key, None)
        self._state.pop(key, None)

    def step(self) -> dict[str, Any]:
        """Advance every gliding parameter one frame; returns the values that changed."""
        changes: dict[str, Any] = {}
        for key, target in list(self._targets.items()):
            param = self.registry[key]
            span = (param.max - param.min) if param.min is not None and param.max is not None else 1.0
            state = self._state[key] + (target - self._state[key]) * self.alpha
            if abs(target - state) <= SETTLE * max(span, 1e-12):
                state = target
                del self._targets[key], self._state[key]
            else:
                self._state[key] = state
            if param.min is not None:
                state = max(param.min, state)
            if param.max is not None:
                state = min(param.max, state)
            value = round(state) if param.type is int else state
            if value != self._values[key]:
                self._values[key] = value
                changes[key] = value
        return changes
