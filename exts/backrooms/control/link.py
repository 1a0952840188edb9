"""Ableton Link: the live loop joins the DAW's tempo session (aalink), so the graph can play on the beat.

Link keeps its session in its own threads; aalink needs an asyncio loop to live in, so the clock runs
one in a daemon thread and the frame loop only reads ``tempo``, ``beat`` and ``phase`` from it. Peers
are found by Link's own discovery (UDP multicast 224.76.78.75, port 20808, on every interface).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

QUANTUM = 4.0  # beats to a bar


class LinkClock:
    """This machine's place in a Link session: tempo (BPM), beat count and phase within the bar."""

    def __init__(self, tempo: float = 120.0, quantum: float = QUANTUM) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link", daemon=True)
        self._thread.start()
        self.link = asyncio.run_coroutine_threadsafe(self._join(tempo, quantum), self._loop).result(10)

    async def _join(self, tempo: float, quantum: float) -> Any:
        from aalink import Link

        link = Link(tempo)  # bound to this (running) loop
        link.quantum = quantum
        link.enabled = True
        return link

    @property
    def tempo(self) -> float:
        return float(self.link.tempo)

    @property
    def beat(self) -> float:
        """Beats since the session's origin (fractional)."""
        return float(self.link.beat)

    @property
    def phase(self) -> float:
        """Beats into the current bar, 0 .. quantum."""
        return float(self.link.phase)

    @property
    def peers(self) -> int:
        return int(self.link.num_peers)

    def state(self) -> dict[str, float]:
        """What the preview and the graph are told each frame."""
        return {"tempo": self.tempo, "beat": self.beat, "phase": self.phase, "peers": self.peers}

    def close(self) -> None:
        async def leave() -> None:
            self.link.enabled = False

        asyncio.run_coroutine_threadsafe(leave(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def start_link(tempo: float = 120.0) -> LinkClock | None:
    """A Link clock, or None after one line on stderr if Link cannot start (the live loop goes on)."""
    try:
        return LinkClock(tempo)
    except Exception as exc:  # a missing library, no network: Link is optional, the loop is not
        problem = f"{exc.__class__.__name__}: {exc}"
        print(f"link: cannot join a Link session ({problem}); going on without it", file=sys.stderr)
        return None
