"""Scenes over OSC: ``/backrooms/scene/save NAME [NODE]``, ``/backrooms/scene/recall NAME`` and
``/backrooms/scene/morph NAME AMOUNT [s|beats]``; MIDI program change N recalls the N-th scene of the
file (0 = the first).

A recall goes into the inbox like any change (so it is applied on the next frame, reaches every
controller and is recorded in the take); a morph is handed to the inbox, which plays one set of
values on each coming frame (``Inbox.glide``), so it glides at the frame rate whatever the network
does, for as long as it lasts (up to an hour). Beats are counted at the Link tempo when
Link is on (120 BPM otherwise). A bad request is counted in the tally, never raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backrooms.control.inbox import MAX_AHEAD_SECONDS, Inbox
from backrooms.control.tally import Tally
from backrooms.errors import UserError
from backrooms.params.scenes import SceneBook
from backrooms.params.store import ParamStore

PREFIX = "/backrooms/scene/"


class SceneControl:
    def __init__(
        self,
        book: SceneBook,
        store: ParamStore,
        inbox: Inbox,
        tally: Tally,
        fps: float,
        tempo: Callable[[], float] = lambda: 120.0,
    ) -> None:
        self.book, self.store, self.inbox, self.tally = book, store, inbox, tally
        self.fps, self.tempo = fps, tempo

    def commands(self) -> dict[str, Callable[[tuple[Any, ...]], None]]:
        """OSC address -> handler, for ``OscReceiver.commands``."""
        return {PREFIX + verb: self._guarded(getattr(self, verb)) for verb in ("save", "recall", "morph")}

    def _guarded(self, handler: Callable[..., None]) -> Callable[[tuple[Any, ...]], None]:
        def call(args: tuple[Any, ...]) -> None:
            try:
                handler(*args)
            except (UserError, TypeError, ValueError) as exc:
                self.tally.add("scene", str(exc)[:200])

        return call

    def program(self, number: int) -> None:
        """A MIDI program change: recall the scene at that place in the file (0 = the first)."""
        names = list(self.book.scenes)
        if not 0 <= number < len(names):
            self.tally.add("scene", f"program {number}: only {len(names)} scenes")
            return
        self.recall(names[number])

    def save(self, name: str, node: str | None = None) -> None:
        self.book.save(str(name), self.store, None if node is None else str(node))

    def recall(self, name: str) -> None:
        self.inbox.submit(self.book.get(str(name)))

    def morph(self, name: str, amount: float, unit: str = "s") -> None:
        if unit not in ("s", "beats"):
            raise ValueError(f"morph {name!r}: unit {unit!r} is not s or beats")
        seconds = float(amount) * (60.0 / self.tempo() if unit == "beats" else 1.0)
        if not 0.0 <= seconds <= MAX_AHEAD_SECONDS:  # NaN too
            raise ValueError(f"morph {name!r}: {amount} {unit} is not from 0 to an hour")
        frames = max(1, round(seconds * self.fps))
        self.inbox.glide(self.book.morph(str(name), self.store, frames))
