"""The CCD and the camera's electronics: highlight bloom, vertical smear, gain and its noise,
white balance, and the tone curve back to 8-bit colour.

Bloom and smear come from the light above ``THRESHOLD`` at quarter resolution: bloom is that light
blurred into a halo, smear is its average down each column (charge read out through a lit column
picks some up on every line, above and below the light alike).
"""

from __future__ import annotations

import warp as wp

from backrooms.camcorder.metering import luma
from backrooms.camcorder.optics import sample
from backrooms.camcorder.shutter import Exposure, gather
from backrooms.render.kernels import tonemap

THRESHOLD = wp.constant(1.0)  # scene light where highlights begin to spill
QUARTER = 4  # bloom and smear work on 4x4 blocks
BLOOM_SIGMA = 2.5  # quarter-resolution pixels
BLOOM_GAIN = 0.06
SMEAR_GAIN = 0.025
READ_NOISE = 0.004  # sensor noise at no gain: a floor, and a part growing with the light
SHOT_NOISE = 0.008
TRIANGULAR = wp.constant(2.4494897)  # sqrt(6): scales the difference of two uniforms to unit spread


@wp.kernel
def highlights(
    lin: wp.array2d(dtype=wp.vec3),
    gain: float,
    bright: wp.array2d(dtype=wp.vec3),
):
    """The light above the threshold, averaged over each 4x4 block."""
    qy, qx = wp.tid()
    h = lin.shape[0]
    w = lin.shape[1]
    acc = wp.vec3(0.0)
    for dy in range(QUARTER):
        for dx in range(QUARTER):
            c = lin[wp.min(qy * QUARTER + dy, h - 1), wp.min(qx * QUARTER + dx, w - 1)] * gain
            lum = luma(c)
            if lum > THRESHOLD:
                acc += c * ((lum - THRESHOLD) / lum)
    bright[qy, qx] = acc / float(QUARTER * QUARTER)


@wp.kernel
def blur_line(
    src: wp.array2d(dtype=wp.vec3),
    weights: wp.array(dtype=float),
    step_x: int,
    step_y: int,
    dst: wp.array2d(dtype=wp.vec3),
):
    """One pass of a separable blur along (step_x, step_y), edges clamped."""
    y, x = wp.tid()
    radius = (weights.shape[0] - 1) // 2
    acc = wp.vec3(0.0)
    for k in range(weights.shape[0]):
        o = k - radius
        sx = wp.clamp(x + o * step_x, 0, src.shape[1] - 1)
        sy = wp.clamp(y + o * step_y, 0, src.shape[0] - 1)
        acc += src[sy, sx] * weights[k]
    dst[y, x] = acc


@wp.kernel
def smear_columns(bright: wp.array2d(dtype=wp.vec3), column: wp.array(dtype=wp.vec3)):
    """The average highlight light down each quarter-resolution column."""
    qx = wp.tid()
    acc = wp.vec3(0.0)
    for qy in range(bright.shape[0]):
        acc += bright[qy, qx]
    column[qx] = acc / float(bright.shape[0])


@wp.struct
class Readout:
    gain: float  # the exposure as a gain on scene light
    agc: float  # the part of it that is electronic gain (>= 1): it amplifies the noise too
    bloom: float
    smear: float
    noise: float
    wb: wp.vec3
    seed: int


@wp.kernel
def develop(
    lin: wp.array2d(dtype=wp.vec3),
    depth: wp.array2d(dtype=float),
    motion: wp.array3d(dtype=float),
    e: Exposure,
    bloom: wp.array2d(dtype=wp.vec3),
    smear: wp.array(dtype=wp.vec3),
    r: Readout,
    srgb: wp.array(dtype=wp.uint8),
    first_row: int,
    rgb: wp.array3d(dtype=wp.uint8),
):
    """The field's exposure (shutter.gather), gain, bloom and smear, noise, white balance, then
    the tone curve to bytes."""
    row, x = wp.tid()
    y = row + first_row
    c = gather(lin, depth, motion, e, x, y) * r.gain
    qx = (float(x) + 0.5) / float(QUARTER) - 0.5
    qy = (float(y) + 0.5) / float(QUARTER) - 0.5
    c += sample(bloom, qx, qy) * r.bloom
    fx = wp.clamp(qx, 0.0, float(smear.shape[0] - 1))
    x0 = int(fx)
    t = fx - float(x0)
    c += (smear[x0] * (1.0 - t) + smear[wp.min(x0 + 1, smear.shape[0] - 1)] * t) * r.smear
    if r.noise > 0.0:
        state = wp.rand_init(r.seed, y * rgb.shape[1] + x)
        scale = r.noise * r.agc
        light = wp.max(luma(c), 0.0) / r.agc
        sigma = scale * (READ_NOISE + SHOT_NOISE * wp.sqrt(light))
        # triangular noise of unit spread (the difference of two uniform draws): cheaper than normal
        u = wp.vec3(wp.randf(state), wp.randf(state), wp.randf(state))
        v = wp.vec3(wp.randf(state), wp.randf(state), wp.randf(state))
        c += (u - v) * (TRIANGULAR * sigma)
    rgb[y, x, 0] = tonemap(c[0] * r.wb[0], srgb)
    rgb[y, x, 1] = tonemap(c[1] * r.wb[1], srgb)
    rgb[y, x, 2] = tonemap(c[2] * r.wb[2], srgb)
