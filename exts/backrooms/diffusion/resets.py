"""Seekable memory without a visible reset: overlapping memory chains, cross-faded.

A memory chain starts at ``k * interval - fade`` (chain 0 at frame 0) and is what the output shows
from ``k * interval`` on. During the ``fade`` frames before ``k * interval`` both chain k-1 and
chain k run and the output blends from the old to the new one, so the frame where the old chain
ends shows no jump. Every frame depends only on the frames since the start of the oldest chain it
uses, which is what ``DiffusionNode.history`` returns for a seek.
"""

from __future__ import annotations


def fade_frames(interval: int, fade: int) -> int:
    """The cross-fade length actually used: at most half the interval."""
    return max(0, min(fade, interval // 2))


def chain_start(index: int, interval: int, fade: int) -> int:
    return 0 if index == 0 else index * interval - fade_frames(interval, fade)


def active_chains(frame: int, interval: int, fade: int) -> list[tuple[int, float]]:
    """(chain start frame, blend weight) of the chains frame ``frame`` shows; weights sum to 1."""
    index = frame // interval
    current = chain_start(index, interval, fade)
    upcoming = chain_start(index + 1, interval, fade)
    if frame < upcoming:
        return [(current, 1.0)]
    weight = (frame - upcoming + 1) / (fade_frames(interval, fade) + 1)
    return [(current, 1.0 - weight), (upcoming, weight)]


def history_start(frame: int, interval: int, fade: int) -> int:
    """The first frame a seek to ``frame`` must replay from."""
    return chain_start(frame // interval, interval, fade)
