"""MIDI CC and notes -> parameters (mido + python-rtmidi), with learn mode and a saved mapping file.

A CC value 0..127 is read as 0..1 over the parameter's range (the same rule as normalised OSC);
14-bit controllers (MSB on CC n < 32, LSB on CC n + 32) are read at full resolution.
Triggers fire when a CC crosses from below 64 to 64 or above (a button press). A note is a button
in the same table (binding ``NOTE_BASE + note``): note-on is 127, note-off (or velocity 0) is 0, so a
pad fires a trigger (a tape event, a new world) on every hit. In learn mode the next CC or note that
arrives is bound to the parameter being learned and the mapping file is saved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backrooms.control.inbox import Inbox
from backrooms.control.tally import Tally
from backrooms.control.values import Rejected, bang, from_normalized
from backrooms.errors import UserError
from backrooms.params.registry import ParamError, Registry

FORMAT = "backrooms-midi-map/1"
PRESSED = 64
FINE_OFFSET = 32  # CC n + 32 carries the low 7 bits of a 14-bit CC n (n < 32)
NOTE_BASE = 128  # note n is bound as control NOTE_BASE + n, beside the CCs

Binding = tuple[int, int]  # (channel 0..15, control 0..127 or NOTE_BASE + note)


class MidiMap:
    def __init__(
        self, registry: Registry, inbox: Inbox, tally: Tally, path: str | Path | None = None
    ) -> None:
        self.registry = registry
        self.inbox = inbox
        self.tally = tally
        self.path = Path(path) if path else None
        self.bindings: dict[Binding, str] = {}
        self._learning: str | None = None
        self._last: dict[Binding, int] = {}
        self._lock = threading.Lock()
        self.programs: Callable[[int], None] | None = None  # program change -> scene (control/scenes.py)
        if self.path and self.path.exists():
            self.bindings = load_mapping(self.path, registry)

    def learn(self, key: str) -> None:
        """Bind the next CC or note that arrives to ``key``."""
        self.registry[key]
        with self._lock:
            self._learning = key

    def handle(self, message: Any) -> None:
        """mido callback: never raises (runs on the MIDI backend's thread)."""
        if getattr(message, "type", None) == "program_change" and self.programs is not None:
            self.programs(message.program)
            return
        kind = getattr(message, "type", None)
        if kind in ("note_on", "note_off"):
            pressed = kind == "note_on" and message.velocity > 0
            self._control(message.channel, NOTE_BASE + message.note, 127 if pressed else 0)
        elif kind == "control_change":
            self._control(message.channel, message.control, message.value)

    def _control(self, channel: int, control: int, raw: int) -> None:
        binding = (channel, control)
        with self._lock:
            learned, self._learning = self._learning, None
            if learned is not None:
                self.bindings = {b: k for b, k in self.bindings.items() if k != learned}
                self.bindings[binding] = learned
            key = self.bindings.get(binding)
            previous = self._last.get(binding, 0)
            self._last[binding] = raw
            value = raw / 127
            if key is None and FINE_OFFSET <= control < 2 * FINE_OFFSET:
                # The LSB of a 14-bit pair (CC n + 32) refines the MSB bound at CC n.
                coarse = (channel, control - FINE_OFFSET)
                key = self.bindings.get(coarse)
                value = (self._last.get(coarse, 0) << 7 | raw) / 16383
                if key is not None and self.registry[key].kind == "trigger":
                    return
        if learned is not None:
            self._save()
        if key is None:
            return
        param = self.registry[key]
        try:
            if param.kind == "trigger":
                if previous < PRESSED <= raw:
                    self.inbox.submit({key: bang(param, self.inbox.target(key))})
            else:
                self.inbox.submit({key: from_normalized(param, value)})
        except Rejected as exc:
            self.tally.add(exc.kind, exc.detail)

    def _save(self) -> None:
        if self.path is not None:
            try:
                save_mapping(self.path, self.bindings)
            except OSError as exc:
                self.tally.add("midi_map_not_saved", f"{self.path}: {exc.strerror or exc}")

    def command(self, args: tuple[Any, ...]) -> None:
        """OSC ``/backrooms/midi/learn s:<node.param>``: arm learn mode from a controller."""
        if len(args) != 1 or not isinstance(args[0], str):
            raise Rejected("wrong_type", "/backrooms/midi/learn takes one string: node.param")
        try:
            self.learn(args[0])
        except ParamError as exc:
            raise Rejected("unknown_parameter", str(exc)) from None


def save_mapping(path: Path, bindings: dict[Binding, str]) -> None:
    rows = [
        {"channel": c, "note": n - NOTE_BASE, "param": k}
        if n >= NOTE_BASE
        else {"channel": c, "control": n, "param": k}
        for (c, n), k in sorted(bindings.items())
    ]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"format": FORMAT, "bindings": rows}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_mapping(path: Path, registry: Registry) -> dict[Binding, str]:
    """Read a mapping file; a bad file is a one-line UserError naming it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"--midi-map {path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    rows = data.get("bindings") if isinstance(data, dict) and data.get("format") == FORMAT else None
    if not isinstance(rows, list):
        raise UserError(f"--midi-map {path}: not a {FORMAT} file")
    bindings: dict[Binding, str] = {}
    for i, row in enumerate(rows):
        try:
            channel, key = row["channel"], row["param"]
            control = row["control"] if "control" in row else NOTE_BASE + row["note"]
            if not (isinstance(channel, int) and 0 <= channel < 16 and isinstance(control, int)):
                raise ValueError
            if not 0 <= control < NOTE_BASE + 128 or ("control" in row and control >= NOTE_BASE):
                raise ValueError
            registry[key]
        except (KeyError, TypeError, ValueError):
            problem = "needs channel 0..15, control 0..127 (or note 0..127) and param"
            raise UserError(f"--midi-map {path}: binding {i} {problem}") from None
        except ParamError as exc:
            raise UserError(f"--midi-map {path}: binding {i}: {exc}") from None
        bindings[(channel, control)] = key
    return bindings


def open_input(name: str, midi_map: MidiMap) -> Any:
    """Open a MIDI input port by name (substring match) with ``midi_map.handle`` as its callback."""
    import mido

    try:
        names = mido.get_input_names()
    except Exception as exc:  # the backend may be missing (no ALSA / CoreMIDI)
        raise UserError(f"--midi-in {name}: no MIDI backend ({exc})") from None
    matches = [n for n in names if name == n] or [n for n in names if name.lower() in n.lower()]
    if not matches:
        raise UserError(f"--midi-in {name!r}: no such input (available: {', '.join(names) or 'none'})")
    return mido.open_input(matches[0], callback=midi_map.handle)
