"""Recipes: TOML files naming the nodes, their order, the output settings and parameter values."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from backrooms.errors import UserError
from backrooms.graph.catalog import CATALOG, Catalog
from backrooms.params.registry import REGISTRY, ParamError

DEFAULT_SOURCE = "<built-in default recipe>"
OUTPUT_KEYS = {"seed", "size", "fps", "frames", "seconds", "device"}
DEVICES = ("cpu", "cuda")
# The clip's limits, for a recipe and the command line alike. A clip ends within a day of footage:
# the walk is followed from its start (a seek to the day's end takes seconds), and an absurd rate
# or length would stall the render before its first frame instead of being named.
FPS_RANGE = (1.0, 240.0)
MAX_SECONDS = 86400.0
MAX_SEED = 2**64 - 1  # the world hashes its seed as an unsigned 64-bit key


class RecipeError(UserError):
    """A recipe that cannot run; the message names the file, key and problem."""


@dataclass(frozen=True)
class Recipe:
    """A validated recipe; CLI flags override its output settings through ``with_overrides``.

    A length given in ``seconds`` stays in seconds: ``frames`` follows the frame rate, so a 5 s
    recipe rendered with ``--fps 30`` is 150 frames. ``catalog`` is what its node names mean.

    A recipe that names no ``fps`` (and no ``--fps``) runs at its colour standard's rate
    (``standard_fps``): this is the one place the clip's clock is decided, so frames, audio, the MP4
    and the OSD all follow it. ``fps`` is always a number once the recipe exists.
    """

    source: str
    nodes: tuple[str, ...]
    seed: int = 0
    width: int = 320
    height: int = 240
    fps: float | None = None  # None: the colour standard's rate (resolved in __post_init__)
    frames: int = 120
    device: str = "cpu"
    params: dict[str, Any] = field(default_factory=dict)
    seconds: float | None = None
    catalog: Catalog = field(default=CATALOG, repr=False, compare=False)
    fps_follows_standard: bool = field(default=False, repr=False)

    def __post_init__(self) -> None:
        if self.fps is None:
            object.__setattr__(self, "fps", standard_fps(self.params))
            object.__setattr__(self, "fps_follows_standard", True)
        if self.seconds is not None:
            object.__setattr__(self, "frames", max(1, round(self.seconds * self.fps)))

    def with_overrides(self, **changes: Any) -> Recipe:
        """A copy with the given settings (None keeps one); frames and seconds replace each other."""
        changes = {k: v for k, v in changes.items() if v is not None}
        if "frames" in changes:
            changes.setdefault("seconds", None)
        if "fps" in changes:
            changes["fps_follows_standard"] = False
        return replace(self, **changes)

    def with_params(self, values: Mapping[str, Any]) -> Recipe:
        """This recipe run with ``values`` (its params plus ``--set``): a rate it leaves to the
        standard follows the standard those values choose (seconds follow the rate)."""
        if not self.fps_follows_standard:
            return self
        return replace(self, fps=standard_fps(values))

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "nodes": list(self.nodes),
            "seed": self.seed,
            "size": f"{self.width}x{self.height}",
            "fps": self.fps,
            "frames": self.frames,
            "seconds": self.seconds,
            "device": self.device,
            "params": dict(self.params),
        }


def standard_fps(values: Mapping[str, Any]) -> float:
    """The frame rate of a clip that names none: 25 for a PAL or SECAM tape, else 24 (film)."""
    from backrooms.decay.signal import STANDARDS  # the decay node's colour standards

    standard = values.get("decay.standard", REGISTRY["decay.standard"].default)
    return STANDARDS[standard].clip_fps


def parse_size(text: str) -> tuple[int, int]:
    """``WxH`` with even sides between 16 and 8192 (H.264 needs even sizes)."""
    w, sep, h = str(text).lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        raise UserError(f"size {text!r}: expected WxH, e.g. 320x240")
    width, height = int(w), int(h)
    for side in (width, height):
        if not 16 <= side <= 8192 or side % 2:
            raise UserError(f"size {text!r}: each side must be an even number from 16 to 8192")
    return width, height


def load_recipe(path: str | Path | None = None, catalog: Catalog = CATALOG) -> Recipe:
    """Load and validate a recipe file, or the built-in default when ``path`` is None.

    Node names are checked against ``catalog`` (hosts and tests with nodes of their own pass theirs).
    """
    if path is None:
        text = resources.files("backrooms.recipes").joinpath("default.toml").read_text()
        source = DEFAULT_SOURCE
    else:
        source = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RecipeError(f"{source}: cannot read recipe ({exc.strerror or exc})") from None
        except UnicodeDecodeError as exc:
            problem = f"not a text file (a recipe is UTF-8 TOML; byte {exc.start})"
            raise RecipeError(f"{source}: {problem}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(f"{source}: not valid TOML ({exc})") from None
    return _validate(data, source, catalog)


def _validate(data: dict[str, Any], source: str, catalog: Catalog) -> Recipe:
    def fail(key: str, problem: str) -> RecipeError:
        return RecipeError(f"{source}: {key}: {problem}")

    unknown = set(data) - {"nodes", "output", "params"}
    if unknown:
        raise fail(sorted(unknown)[0], "unknown key (expected nodes, output, params)")
    nodes = data.get("nodes")
    if not isinstance(nodes, list) or not nodes or not all(isinstance(n, str) for n in nodes):
        raise fail("nodes", "expected a non-empty list of node names")
    for node in nodes:
        if node not in catalog:
            raise fail("nodes", f"unknown node {node!r} (known: {', '.join(catalog)})")
    if nodes[0] != "render":
        raise fail("nodes", "the first node must be 'render' (it creates the render product)")

    settings: dict[str, Any] = {}
    output = data.get("output", {})
    if not isinstance(output, dict):
        raise fail("output", "expected a table")
    for key, value in output.items():
        if key not in OUTPUT_KEYS:
            raise fail(f"output.{key}", f"unknown key (expected {', '.join(sorted(OUTPUT_KEYS))})")
        try:
            settings.update(_output_setting(key, value))
        except UserError as exc:
            raise fail(f"output.{key}", str(exc)) from None

    if "seconds" in settings and "frames" in settings:
        raise fail("output.seconds", "give frames or seconds, not both")

    params: dict[str, Any] = {}
    tables = data.get("params", {})
    if not isinstance(tables, dict):
        raise fail("params", "expected tables like [params.decay]")
    for node, table in tables.items():
        if not isinstance(table, dict):
            raise fail(f"params.{node}", "expected a table of name = value")
        for name, value in table.items():
            try:
                params[f"{node}.{name}"] = REGISTRY[f"{node}.{name}"].coerce(value)
            except ParamError as exc:
                raise fail(f"params.{node}.{name}", str(exc)) from None
    recipe = Recipe(source=source, nodes=tuple(nodes), params=params, catalog=catalog, **settings)
    check_span(0, recipe.frames, recipe.fps, f"{source}: output.frames")
    return recipe


def check_span(start: int, frames: int, fps: float, flag: str) -> None:
    """Frames ``start`` .. ``start + frames`` at ``fps`` lie within a day of footage (``MAX_SECONDS``);
    ``flag`` names the input that set them."""
    if (start + frames) / fps > MAX_SECONDS:
        raise RecipeError(
            f"{flag}: the clip would end {(start + frames) / fps:.0f} s in, past a day of footage "
            f"({MAX_SECONDS:.0f} s at {fps:g} fps is {int(MAX_SECONDS * fps)} frames)"
        )


def frame_rate_problem(value: object) -> str | None:
    """Why ``value`` is no frame rate (None: it is one)."""
    low, high = FPS_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        return f"{value!r} is not a frame rate from {low:g} to {high:g}"
    return None


def _output_setting(key: str, value: Any) -> dict[str, Any]:
    if key == "size":
        width, height = parse_size(value)
        return {"width": width, "height": height}
    if key == "device":
        if value not in DEVICES:
            raise UserError(f"{value!r} is not one of {', '.join(DEVICES)}")
        return {"device": value}
    if key == "fps":
        if problem := frame_rate_problem(value):
            raise UserError(problem)
        return {"fps": float(value)}
    if key == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_SECONDS:
            raise UserError(f"{value!r} is not a duration in seconds (0 < s <= {MAX_SECONDS:.0f})")
        return {"seconds": float(value)}
    if isinstance(value, bool) or not isinstance(value, int) or value < (1 if key != "seed" else 0):
        raise UserError(f"{value!r} is not a {'non-negative' if key == 'seed' else 'positive'} whole number")
    if key == "seed" and value > MAX_SEED:
        raise UserError(f"{value} is over the largest seed, {MAX_SEED}")
    return {key: value}
