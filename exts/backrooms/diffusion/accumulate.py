"""The render reconstructed over a memory chain before the network sees it: below full size the
jittered samples of many frames gathered at full resolution along the exact motion vectors
(temporal upsampling); at full size the 1-sample render averaged along the motion.

The render node fills the full-size frame from the traced one bilinearly (``render.upscale``), which
spreads each sample over the output pixels around it: at ``render.scale`` 0.5 an output pixel is a
blend of four samples up to 1.5 output pixels away. The renderer moves its rays inside their pixels
by a different offset every frame (``upscale.jitter``), so within a few frames a surface point is
sampled close to every output pixel. The reconstruction keeps a full-size history, warps it along the
motion, clamps it to the bilinear fill's neighbourhood (as temporal anti-aliasing clamps its history:
a panel switching off or a surface newly in view wins) and blends in each frame's nearest sample,
weighted by how close to the output pixel's centre it was taken (held-out walks, issue 17's twelfth
round: SSIM 0.916 -> 0.923 at ``render.scale`` 0.5 through the real graph, warping error -19 %).
At full size each pixel's own sample is at its centre but carries the 1-sample render's shading
noise and no new detail, so it counts for less (``FULL_SIZE_WEIGHT``): a longer average.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import warp as wp

from backrooms.diffusion.frames import rgb_to_signed
from backrooms.diffusion.lighting import clamp_to_render
from backrooms.diffusion.warping import MEMORY_FILTER, warp
from backrooms.graph.product import RGB, RenderProduct

BLEND = 0.5  # share of a sample taken in when it was taken at the output pixel's centre
SIGMA = 0.35  # how fast that share falls with the sample's distance, in output pixels
# a full-size sample's weight a frame (its share 0.35 at `generate` 1): it brings noise, not detail.
# Issue 17's thirty-fifth round, g1 / full size, five held-out walks' means, weight 1 / 0.7 / 0.5:
# SSIM 0.9433 / 0.9438 / 0.9437, PSNR 33.51 / 33.47 / 33.39 dB, warping error 3.58 / 3.25 / 3.08e-5
# (the card's walk with the panels still 2.17 / 1.75 / 1.52e-5). At `generate` 2 a weight of 0.5 a
# sample lost 0.0010 SSIM and 0.24 dB; below full size a lower share loses the jitter's detail
# (0.5 -> 0.25 at `generate` 2, scale 0.5: card's walk SSIM 0.9004 -> 0.8941)
FULL_SIZE_WEIGHT = 0.7


def frame_samples(
    product: RenderProduct, render01: torch.Tensor, span: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`nearest_samples` of the image the render node traced for ``product`` below full size
    (``meta["internal"]``, with its jitter); at full size ``render01`` (the product's render in [0,
    1]) itself, every pixel's sample taken at its centre, weighted ``FULL_SIZE_WEIGHT`` per frame of
    the ``span`` since the history's frame (at most 1: with ``diffusion.generate`` k the samples come
    every k frames, and the average then covers the same time)."""
    internal = product.meta.get("internal")
    if internal is None:
        weight = min(1.0, FULL_SIZE_WEIGHT * max(span, 1))
        return render01, torch.full((1, 1, 1, 1), weight, dtype=render01.dtype, device=render01.device)
    traced01 = (rgb_to_signed(wp.to_torch(internal[RGB])) + 1.0) / 2.0
    return nearest_samples(traced01, (product.height, product.width), internal.meta["jitter"])


def nearest_samples(
    traced01: torch.Tensor, size: tuple[int, int], jitter: tuple[float, float]
) -> tuple[torch.Tensor, torch.Tensor]:
    """The traced image (N, 3, h, w) in [0, 1] -> its sample nearest each output pixel's centre (N, 3,
    H, W) and that sample's weight (1, 1, H, W), from where it was really taken: the traced pixel's
    centre moved by ``jitter`` (x, y in traced pixels, as ``upscale.jitter`` gives it)."""
    height, width = size
    rows, row_offset = _nearest_axis(traced01.shape[-2], height, jitter[1])
    cols, col_offset = _nearest_axis(traced01.shape[-1], width, jitter[0])
    picked = traced01.index_select(-2, rows.to(traced01.device)).index_select(-1, cols.to(traced01.device))
    distance2 = row_offset.view(-1, 1) ** 2 + col_offset.view(1, -1) ** 2
    weight = torch.exp(-distance2 / (2 * SIGMA**2)).view(1, 1, height, width)
    return picked, weight.to(traced01.device)


def _nearest_axis(traced: int, output: int, offset: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Along one axis, per output pixel: the nearest traced pixel, and how far from the output pixel's
    centre (in output pixels, signed) its sample was taken."""
    scale = traced / output
    centre = torch.arange(output, dtype=torch.float64) + 0.5
    index = (centre * scale - offset).floor().clamp(0, traced - 1)
    taken = (index + 0.5 + offset) / scale
    return index.long(), (taken - centre).float()


def accumulate(
    history: torch.Tensor | None,
    grid: torch.Tensor | None,
    valid: torch.Tensor | None,
    fill01: torch.Tensor,
    samples: tuple[torch.Tensor, torch.Tensor],
    radius: int,
    relight: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """This frame's full-size render in [0, 1]: ``history`` (the last one; None where a memory chain
    starts) warped along ``grid`` and clamped to the ``2 radius + 1`` window of ``fill01`` (the
    render as the render node made it: below full size, the bilinear fill), with the frame's
    ``samples`` (:func:`frame_samples`) blended in; ``fill01`` where ``valid`` says the last frame did
    not see the surface. ``relight`` puts the warped history under this frame's light (the panels'
    change, ``relight.Relighter``), so a panel's dip is not averaged away over the history."""
    if history is None or grid is None or valid is None:
        return fill01
    picked, weight = samples
    carried = warp(history, grid, MEMORY_FILTER)
    if relight is not None:
        carried = relight(carried)
    carried = clamp_to_render(carried, fill01, radius=radius)
    # carried + (BLEND weight)(picked - carried), then valid * that + (1 - valid) fill01: in place
    # in one buffer, the same bytes as those expressions
    out = picked - carried
    out *= BLEND * weight
    out += carried
    out *= valid
    out += (1 - valid) * fill01
    return out
