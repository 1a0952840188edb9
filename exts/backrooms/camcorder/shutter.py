"""The exposure of each field: light gathered along the exact motion vectors while the shutter is
open (motion blur without extra rays), through the defocused lens (depth-of-field taps), at the
field's own time (the lower field is 1/60 s later)."""

from __future__ import annotations

import warp as wp

from backrooms.camcorder.fields import field_start
from backrooms.camcorder.optics import circle_of_confusion, sample

MAX_TAPS = wp.constant(8)
# one turn by the golden angle (2.39996 rad), to spread taps over the blur disc without trigonometry
TURN_COS = wp.constant(-0.73736888)
TURN_SIN = wp.constant(0.67549029)


@wp.struct
class Exposure:
    aperture: float  # blur radius in pixels per diopter out of focus
    widest: float  # largest blur radius, pixels
    focus: float  # diopters in focus
    shutter: float  # open time, in frames
    field_offset: float  # lower field's delay, in frames (0: not interlaced)


@wp.func
def gather(
    lin: wp.array2d(dtype=wp.vec3),
    depth: wp.array2d(dtype=float),
    motion: wp.array3d(dtype=float),
    e: Exposure,
    x: int,
    y: int,
) -> wp.vec3:
    """The light pixel (x, y) collects: the average of taps spread along its motion during the
    shutter and over its blur disc.

    The picture ``tau`` frames after the frame's time is the frame moved along its motion vectors
    (``p + mv * tau``), so a pixel gathers from ``p - mv * tau``. A sharp, still pixel of the
    upper field takes one tap at its own centre and comes out unchanged.
    """
    mx = motion[y, x, 0]
    my = motion[y, x, 1]
    start = field_start(y, e.field_offset) - 0.5 * e.shutter
    coc = circle_of_confusion(depth[y, x], e.focus, e.aperture, e.widest)
    streak = e.shutter * wp.sqrt(mx * mx + my * my)
    n = wp.clamp(int(wp.max(streak, 2.0 * coc)) + 1, 1, MAX_TAPS)
    if n == 1 and start + 0.5 * e.shutter == 0.0:
        return lin[y, x]  # sharp and still (within a pixel) at the frame's time: the pixel itself
    acc = wp.vec3(0.0)
    c = wp.float32(1.0)  # direction of the current tap on the disc
    s = wp.float32(0.0)
    for i in range(n):
        tau = start + e.shutter * (float(i) + 0.5) / float(n)
        r = coc * wp.sqrt(float(i) / float(wp.max(n - 1, 1)))
        acc += sample(lin, float(x) - mx * tau + r * c, float(y) - my * tau + r * s)
        c, s = c * TURN_COS - s * TURN_SIN, c * TURN_SIN + s * TURN_COS
    return acc / float(n)
