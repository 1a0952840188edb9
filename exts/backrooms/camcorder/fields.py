"""Interlacing: a frame is two fields exposed 1/60 s apart, the upper (even rows) first.

The lower field is not rendered again: it is the frame moved along the exact motion vectors by
the field interval, so a fast pan combs like tape. Downstream, the decay node's ``fields`` knob
(upper / lower, line-doubled) shows one instant or the other, and its per-line tape noise already
times odd lines one field later.
"""

from __future__ import annotations

import warp as wp

FIELD_S = 1.0 / 60.0


def field_offset(fps: float, interlace: bool) -> float:
    """How much later than the frame the lower field is exposed, in frames."""
    return fps * FIELD_S if interlace else 0.0


@wp.func
def field_start(row: int, offset: float) -> float:
    """The exposure time of ``row``'s field, in frames after the frame's own time."""
    return wp.where(row % 2 == 1, offset, 0.0)
