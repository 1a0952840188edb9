"""The extension's settings: carb keys under ``/exts/backrooms/``, defaults mirrored in extension.toml.

Kit-free, so the batch script, the extension and the tests read the same table. Kit fills the
values from ``[settings] exts."backrooms".<name>`` and from ``--/exts/backrooms/<name>=...`` flags.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from backrooms.errors import UserError
from backrooms.graph.recipe import MAX_SEED, check_span, frame_rate_problem, parse_size

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

    def __post_init__(self) -> None:
        """Refuse what a headless batch could not finish (no frames, a rate of 0, a negative
        start), naming the setting, before Kit opens a stage."""
        least = {"osc_port": 0, "seed": 0, "reshuffle_every": 0, "start": 0, "frames": 1, "rt_subframes": 1}
        for name, low in least.items():
            if (value := getattr(self, name)) < low:
                raise UserError(f"setting {PREFIX}/{name}: expected at least {low}, got {value}")
        if self.osc_port > 65535 or self.seed > MAX_SEED:
            name = "osc_port" if self.osc_port > 65535 else "seed"
            raise UserError(f"setting {PREFIX}/{name}: {getattr(self, name)} is too large")
        if problem := frame_rate_problem(self.fps):
            raise UserError(f"setting {PREFIX}/fps: {problem}")
        span = "start" if self.start else "frames"
        check_span(self.start, self.frames, self.fps, f"setting {PREFIX}/{span}")
        try:
            parse_size(f"{self.preview_width}x{self.preview_height}")
        except UserError as exc:
            raise UserError(f"setting {PREFIX}/preview_width, preview_height: {exc}") from None

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
