"""``render.scale`` < 1: the renderer traces a smaller internal image; this fills the full-size
product from it (colour bilinear, the other AOVs from the nearest internal pixel, motion vectors
rescaled to output pixels) so every node downstream sees full-size AOVs, and the diffusion node
reconstructs detail from its full-resolution memory.

As in temporal upsampling (DLSS, FSR 2), the internal image is traced with its rays moved inside
their pixels by a different sub-pixel offset every frame (:func:`jitter`) and filled up with the
samples at the places they were really taken: a still image samples the surface at 8 places per
internal pixel over 8 frames, which the memory can gather, where an unmoved grid samples one."""

from __future__ import annotations

import warp as wp

from backrooms.graph.product import (
    DEPTH,
    DISOCCLUSION,
    INSTANCE_ID,
    MOTION_VECTORS,
    NORMALS,
    RGB,
    RenderProduct,
)

wp.set_module_options({"enable_backward": False})


@wp.kernel
def upscale_aovs(
    rgb_in: wp.array3d(dtype=wp.uint8),
    depth_in: wp.array2d(dtype=wp.float32),
    normals_in: wp.array3d(dtype=wp.float32),
    motion_in: wp.array3d(dtype=wp.float32),
    ids_in: wp.array2d(dtype=wp.uint32),
    disocclusion_in: wp.array2d(dtype=wp.uint8),
    rgb: wp.array3d(dtype=wp.uint8),
    depth: wp.array2d(dtype=wp.float32),
    normals: wp.array3d(dtype=wp.float32),
    motion: wp.array3d(dtype=wp.float32),
    ids: wp.array2d(dtype=wp.uint32),
    disocclusion: wp.array2d(dtype=wp.uint8),
    jitter: wp.vec2,
):
    """Internal pixel (n, m) was traced at internal image point (m + 0.5, n + 0.5) + ``jitter``."""
    i, j = wp.tid()
    h_in, w_in = rgb_in.shape[0], rgb_in.shape[1]
    sy = float(h_in) / float(rgb.shape[0])
    sx = float(w_in) / float(rgb.shape[1])
    # the output pixel's centre on the internal image, then the nearest sample
    cy = (float(i) + 0.5) * sy - jitter[1]
    cx = (float(j) + 0.5) * sx - jitter[0]
    ni = wp.clamp(int(wp.floor(cy)), 0, h_in - 1)
    nj = wp.clamp(int(wp.floor(cx)), 0, w_in - 1)
    depth[i, j] = depth_in[ni, nj]
    ids[i, j] = ids_in[ni, nj]
    disocclusion[i, j] = disocclusion_in[ni, nj]
    for c in range(4):
        normals[i, j, c] = normals_in[ni, nj, c]
    motion[i, j, 0] = motion_in[ni, nj, 0] / sx
    motion[i, j, 1] = motion_in[ni, nj, 1] / sy
    # bilinear colour between the samples around the centre
    y = wp.clamp(cy - 0.5, 0.0, float(h_in - 1))
    x = wp.clamp(cx - 0.5, 0.0, float(w_in - 1))
    y0, x0 = int(y), int(x)
    y1, x1 = wp.min(y0 + 1, h_in - 1), wp.min(x0 + 1, w_in - 1)
    fy, fx = y - float(y0), x - float(x0)
    for c in range(4):
        top = float(rgb_in[y0, x0, c]) * (1.0 - fx) + float(rgb_in[y0, x1, c]) * fx
        bottom = float(rgb_in[y1, x0, c]) * (1.0 - fx) + float(rgb_in[y1, x1, c]) * fx
        rgb[i, j, c] = wp.uint8(wp.clamp(top * (1.0 - fy) + bottom * fy + 0.5, 0.0, 255.0))


def internal_size(width: int, height: int, scale: float) -> tuple[int, int]:
    """The traced size for ``scale``: sides rounded to whole pixels, at least 8 (or the frame's)."""
    return min(width, max(8, round(width * scale))), min(height, max(8, round(height * scale)))


JITTER_CYCLE = 8  # frames before the offsets repeat


def jitter(frame: int) -> tuple[float, float]:
    """The sub-pixel offset of ``frame``'s rays, in internal pixels from the centre (each in
    [-0.5, 0.5)): the Halton (2, 3) sequence, a pure function of the frame, so a seek traces what a
    long run traced. Its points fill the pixel evenly after any few frames, not only after a cycle."""
    index = frame % JITTER_CYCLE + 1  # the sequence's 0th point is the corner
    return _halton(index, 2) - 0.5, _halton(index, 3) - 0.5


def _halton(index: int, base: int) -> float:
    value, fraction = 0.0, 1.0
    while index:
        fraction /= base
        index, digit = divmod(index, base)
        value += digit * fraction
    return value


def upscale(internal: RenderProduct, product: RenderProduct) -> None:
    """Fill every AOV of ``product`` from the smaller ``internal`` one, traced with the sub-pixel
    offset its ``meta["jitter"]`` records (the renderer's :func:`jitter` of the frame)."""
    names = (RGB, DEPTH, NORMALS, MOTION_VECTORS, INSTANCE_ID, DISOCCLUSION)  # the kernel's order
    inputs = [internal.allocate(n) for n in names]
    outputs = [product.allocate(n) for n in names]
    offset = wp.vec2(*internal.meta["jitter"])
    wp.launch(
        upscale_aovs, (product.height, product.width), inputs, [*outputs, offset], device=product.device
    )
