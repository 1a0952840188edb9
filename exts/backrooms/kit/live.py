"""The live session shared by the Replicator augmentation and the preview panel. Kit-free.

Replicator calls an augmentation function by reference with only ``(data_in, **params)``, so what
it needs (the parameter store the panel and OSC write to, one chain per resolution, a frame
counter) lives in a session that the extension binds on startup and unbinds on shutdown.
"""

from __future__ import annotations

from typing import Any

import warp as wp

from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.params.store import ParamStore

DECAY_ONLY = ("decay",)


class LiveSession:
    """Chains keyed by (nodes, size, device, seed), built on first use; frames counted per stream."""

    def __init__(self, store: ParamStore, seed: int, fps: float) -> None:
        self.store = store
        self.seed = seed
        self.fps = fps
        self._chains: dict[tuple, Executor] = {}
        self._frames: dict[str, int] = {}

    def chain(self, kinds: tuple[str, ...], width: int, height: int, device: str, seed: int) -> Executor:
        key = (kinds, width, height, device, seed)
        if key not in self._chains:
            self._chains[key] = Executor(
                kinds,
                GraphContext(seed, width, height, self.fps, device),
                lambda _frame: self.store.snapshot(),
            )
        return self._chains[key]

    def next_frame(self, stream: str) -> int:
        """0, 1, 2 ... for each stream (the augmentation and the preview count their own frames)."""
        frame = self._frames.get(stream, 0)
        self._frames[stream] = frame + 1
        return frame


_session: LiveSession | None = None


def bind(session: LiveSession) -> None:
    global _session
    _session = session


def unbind() -> None:
    global _session
    _session = None


def current() -> LiveSession | None:
    return _session


def decay_augmentation(data_in: Any, seed: int) -> Any:
    """Replicator augmentation: the decay pass on an LdrColor frame, on the frame's own device.

    Registered with ``rep.annotators.Augmentation.from_function(decay_augmentation, seed=...)``.
    Without a bound session (extension disabled) the frame passes through unchanged.
    """
    session = _session
    if session is None:
        return data_in
    device = str(data_in.device) if isinstance(data_in, wp.array) else "cpu"
    height, width = data_in.shape[:2]
    chain = session.chain(DECAY_ONLY, width, height, device, seed)
    product = chain.render(session.next_frame("augmentation"), {RGB: data_in})
    return product[RGB] if isinstance(data_in, wp.array) else product[RGB].numpy()
