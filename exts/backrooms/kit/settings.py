"""The extension's settings: carb keys under ``/exts/backrooms/``, defaults mirrored in extension.toml.

Kit-free, so the batch script, the extension and the tests read the same table. Kit fills the
values from ``[settings] exts."backrooms".<name>`` and from ``--/exts/backrooms/<name>=...`` flags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from backrooms.errors import UserError

EXTENSION = "backrooms"
PREFIX = f"/exts/{EXTENSION}"


@dataclass(frozen=True)
class KitSettings:
    """Every knob of the Kit host that is not a graph parameter (those live in the registry)."""

    osc_host: str = "127.0.0.1"  # loopback only, as `backrooms live`
    osc_port: int = 9000
    recipe: str = ""  # recipe TOML; empty = the built-in recipe
    seed: int = 0  # global seed: rep.set_global_seed and our GraphContext seed
    panel: bool = True  # open the omni.ui panel on startup
    preview_camera: str = "/OmniverseKit_Persp"  # camera the live preview render product looks through
    preview_width: int = 640
    preview_height: int = 360
    reshuffle_every: int = 0  # frames between hallway reshuffles on on_frame; 0 = only on events
    output_dir: str = "out/kit"  # batch renders and the BackroomsWriter's default folder
    frames: int = 48  # batch length
    start: int = 0  # batch first frame
    fps: float = 24.0
    rt_subframes: int = 4  # RTX subframes per captured frame (ghosting vs cost)

    @classmethod
    def read(cls, get: Callable[[str], Any]) -> KitSettings:
        """Build from a carb-style getter (``carb.settings.get_settings().get``); unset keys keep defaults."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            key = f"{PREFIX}/{spec.name}"
            raw = get(key)
            if raw is None:
                continue
            default = spec.default
            try:
                values[spec.name] = _coerce(raw, type(default))
            except (TypeError, ValueError):
                raise UserError(f"setting {key}: expected {type(default).__name__}, got {raw!r}") from None
        return cls(**values)


def _coerce(raw: Any, kind: type) -> Any:
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        if str(raw).lower() in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return str(raw).lower() in ("1", "true", "yes", "on")
        raise ValueError(raw)
    if kind is int and (isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer())):
        raise ValueError(raw)
    return kind(raw)
