"""Automation: a live performance written down frame by frame, and replayed offline.

The file is JSON Lines. The first line is a header with the recipe (nodes, seed, size, fps,
device) and every parameter's value at frame 0; each further line is ``{"frame": n, "set": {...}}``
with the values the frame loop applied at frame ``n`` (after smoothing), and the last line
``{"end": n}`` says how many frames were played. Because the *applied* values are recorded, a replay
needs no smoothing or timing logic: ``params_at(n)`` is the header plus every change up to ``n``,
so the batch render sees exactly the snapshots the live loop saw, and any frame can be produced alone.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from backrooms.errors import UserError
from backrooms.params.registry import REGISTRY, ParamError, Registry
from backrooms.params.store import Snapshot

FORMAT = "backrooms-automation/1"


class Recorder:
    """Appends each frame's applied changes to the file and flushes, so a crash keeps the take.

    A write that fails (a full disk) ends the take there: the file is cut back to its last whole
    line, which replays, and ``record`` raises ``OSError`` once; the performance is not its business.
    """

    def __init__(self, path: str | Path, recipe: Mapping[str, Any], initial: Mapping[str, Any]) -> None:
        self.path = Path(path)
        self.frames = 0
        self._whole = 0  # bytes of whole lines in the file
        try:
            self._file: TextIO = self.path.open("w", encoding="utf-8")
            self._write({"format": FORMAT, "recipe": dict(recipe), "initial": dict(initial)})
        except OSError as exc:
            raise UserError(f"--record {path}: cannot write ({exc.strerror or exc})") from None

    def record(self, frame: int, changes: Mapping[str, Any]) -> None:
        if self._file.closed:
            return
        if changes:
            self._write({"frame": frame, "set": dict(changes)})
        self.frames = max(self.frames, frame + 1)

    def close(self) -> None:
        if not self._file.closed:
            self._write({"end": self.frames})
            self._file.close()

    def _write(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, separators=(",", ":")) + "\n"  # ASCII: its length is its bytes
        try:
            self._file.write(line)
            self._file.flush()
        except OSError:
            self._end_at_whole_lines()
            raise
        self._whole += len(line)

    def _end_at_whole_lines(self) -> None:
        with contextlib.suppress(OSError):  # the buffer holds the failed line: closing would retry it
            self._file.buffer.raw.close()
        with contextlib.suppress(OSError, ValueError):
            self._file.close()
        with contextlib.suppress(OSError):
            os.truncate(self.path, self._whole)


class Automation:
    """A loaded take: the recipe it was played with and the parameter values at every frame."""

    def __init__(
        self,
        source: str,
        recipe: dict[str, Any],
        initial: dict[str, Any],
        events: list[tuple[int, dict[str, Any]]],
        frames: int,
    ) -> None:
        self.source = source
        self.recipe = recipe
        self.frames = frames
        self._raw = (initial, events)
        self._frames: list[int] = []
        self._snapshots: list[Snapshot] = []
        values = dict(initial)
        self.initial = Snapshot(values, 0)
        for frame, changes in events:
            values.update(changes)
            if self._frames and self._frames[-1] == frame:
                self._snapshots[-1] = Snapshot(values, len(self._frames))
            else:
                self._frames.append(frame)
                self._snapshots.append(Snapshot(values, len(self._frames)))

    def __reduce__(self) -> tuple[Any, ...]:
        # Snapshots do not pickle; rebuild from the raw take so process pools and Ray can replay it.
        return Automation, (self.source, self.recipe, *self._raw, self.frames)

    def __call__(self, frame: int) -> Snapshot:
        return self.params_at(frame)

    def changes(self, until: int) -> list[int]:
        """The frames up to ``until`` whose values differ from the frame before's (a node whose
        output follows how the knobs moved, the render's walk, plays them again after a seek)."""
        return self._frames[: bisect.bisect_right(self._frames, until)]

    def params_at(self, frame: int) -> Snapshot:
        """The values the live loop used for ``frame`` (the last recorded ones after the take)."""
        i = bisect.bisect_right(self._frames, frame)
        return self._snapshots[i - 1] if i else self.initial


def load_automation(path: str | Path, registry: Registry = REGISTRY) -> Automation:
    """Read and check a take; every problem is a one-line UserError naming the file and line."""
    source = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise UserError(f"--automation {source}: cannot read ({reason})") from None

    def fail(number: int, problem: str) -> UserError:
        return UserError(f"--automation {source}:{number}: {problem}")

    def checked(number: int, values: Any) -> dict[str, Any]:
        if not isinstance(values, dict):
            raise fail(number, "expected an object of parameter values")
        try:
            return {key: registry[key].coerce(value) for key, value in values.items()}
        except ParamError as exc:
            raise fail(number, str(exc)) from None

    records = []
    for number, line in enumerate(lines, 1):
        if line.strip():
            try:
                records.append((number, json.loads(line)))
            except json.JSONDecodeError as exc:
                raise fail(number, f"not JSON ({exc.msg})") from None
    if not records or not isinstance(records[0][1], dict) or records[0][1].get("format") != FORMAT:
        raise fail(1, f"not a {FORMAT} file (missing header)")
    header = records[0][1]
    if not isinstance(header.get("recipe"), dict):
        raise fail(1, "header has no recipe")
    initial = registry.defaults() | checked(1, header.get("initial"))
    events: list[tuple[int, dict[str, Any]]] = []
    end = None
    for number, record in records[1:]:
        if isinstance(record, dict) and set(record) == {"end"} and isinstance(record["end"], int):
            end = record["end"]
            continue
        frame = record.get("frame") if isinstance(record, dict) else None
        if isinstance(frame, bool) or not isinstance(frame, int) or frame < 0:
            raise fail(number, 'expected {"frame": n, "set": {...}} with a frame number >= 0')
        if events and frame < events[-1][0]:
            raise fail(number, f"frame {frame} comes after frame {events[-1][0]}")
        events.append((frame, checked(number, record.get("set"))))
    frames = end if end is not None else (events[-1][0] + 1 if events else 1)
    return Automation(source, header["recipe"], initial, events, max(1, frames))
