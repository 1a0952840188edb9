"""How controller values become parameter values: the rule docs/osc.md documents.

Every path (OSC, MIDI, the web preview) ends here, and every result is checked by the registry, so
nothing a controller sends can leave a parameter outside its range.

- Normalised input (an OSC float on the main address, a MIDI CC / 127): 0..1 spans ``min..max``;
  integers round to the nearest step, booleans are on from 0.5, choices split 0..1 into equal bins.
  Values outside 0..1 are clamped.
- Native input (OSC ints, strings, T/F, and floats on ``<address>/native``; the web page's sliders):
  the parameter's own units, clamped to ``min..max``; ints of a choice parameter pick by index.
- A bang (no argument, OSC ``I`` impulse or nil) steps a trigger or discrete knob: ints +1 (wrapping
  to ``min``), booleans flip, choices move to the next. Continuous knobs need a value.
"""

from __future__ import annotations

import math
from typing import Any

from backrooms.control.packet import IMPULSE
from backrooms.params.registry import Param, ParamError


class Rejected(Exception):
    """A value a parameter cannot take; ``kind`` names the failure for counting."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


def is_bang(args: tuple[Any, ...]) -> bool:
    return not args or (len(args) == 1 and (args[0] is IMPULSE or args[0] is None))


def bang(param: Param, current: Any) -> Any:
    """The next value of a trigger or discrete knob (the "next preset" / "new seed" button)."""
    if param.kind == "continuous":
        raise Rejected("missing_argument", f"{param.osc_address} needs a value (continuous: no bang)")
    if param.type is bool:
        return not current
    if param.choices:
        return param.choices[(param.choices.index(current) + 1) % len(param.choices)]
    if param.type is int:
        nxt = current + 1
        return param.min if param.max is not None and nxt > param.max else nxt
    raise Rejected("missing_argument", f"{param.osc_address}: a float knob needs a value")


def from_normalized(param: Param, x: float) -> Any:
    """Map 0..1 (clamped) over the parameter's range."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise Rejected("wrong_type", f"{param.osc_address}: expected a number, got {type(x).__name__}")
    if not math.isfinite(x):
        raise Rejected("not_finite", f"{param.osc_address}: {x!r}")
    x = min(1.0, max(0.0, float(x)))
    if param.type is bool:
        return x >= 0.5
    if param.choices:
        return param.choices[min(int(x * len(param.choices)), len(param.choices) - 1)]
    if param.type is str:
        raise Rejected("wrong_type", f"{param.osc_address}: expected text")
    if param.min is None or param.max is None:
        return native(param, x)
    value = param.min + x * (param.max - param.min)
    return native(param, round(value) if param.type is int else value)


def native(param: Param, value: Any) -> Any:
    """A value in the parameter's own units, clamped into range and checked by the registry."""
    if isinstance(value, str) and param.type is not str:
        try:
            value = param.coerce(value) if param.type is bool else float(value.strip())
        except (ParamError, ValueError):
            raise Rejected("wrong_type", f"{param.osc_address}: cannot read {value[:40]!r}") from None
    if param.choices and isinstance(value, int) and not isinstance(value, bool):
        value = param.choices[min(max(value, 0), len(param.choices) - 1)]
    if isinstance(value, float) and not math.isfinite(value):
        raise Rejected("not_finite", f"{param.osc_address}: {value!r}")
    if param.type in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        if param.min is not None:
            value = max(param.min, value)
        if param.max is not None:
            value = min(param.max, value)
        if param.type is int:
            value = round(value)
    if param.type is bool and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = value >= 0.5
    try:
        return param.coerce(value)
    except ParamError as exc:
        raise Rejected("wrong_type", str(exc)) from None


def normalized(param: Param, value: Any) -> float:
    """The inverse of :func:`from_normalized` (for feedback to controllers)."""
    if param.type is bool:
        return 1.0 if value else 0.0
    if param.choices:
        return param.choices.index(value) / max(1, len(param.choices) - 1)
    if param.min is None or param.max is None or param.max == param.min:
        return float(value)
    return (float(value) - param.min) / (param.max - param.min)


def from_osc(param: Param, args: tuple[Any, ...], current: Any, native_address: bool) -> Any:
    """The value an OSC message's arguments ask for (rules above)."""
    if is_bang(args):
        return bang(param, current)
    if len(args) != 1:
        raise Rejected("wrong_argument_count", f"{param.osc_address}: {len(args)} arguments, expected 1")
    (arg,) = args
    if isinstance(arg, float) and not native_address:
        return from_normalized(param, arg)
    if isinstance(arg, (bool, int, float, str)):
        return native(param, arg)
    raise Rejected("wrong_type", f"{param.osc_address}: cannot use a {type(arg).__name__} argument")
