"""Memory carries surfaces, not light: the node keeps its memory divided by the frame's lighting.

The lighting proxy is the render's own luminance, blurred by a 13x13 box at full size (the 1-spp
shading noise drops about 13x, so re-lighting re-injects little of it; sharp changes such as a
panel's own pixels switching off are caught by the 3x3 clamp instead). The memory is stored as
``output / lighting`` and re-lit by the *current* frame's lighting after warping, so a panel that
dips or goes off in the render dims the remembered surfaces with it on that frame.
Ratios of display-encoded values are ratios of linear light raised to 1/gamma, so no linearisation
is needed. ``EPS`` keeps black pixels from blowing the ratio up.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch.nn import functional as F

from backrooms.diffusion.warping import MEMORY_FILTER, warp

EPS = 0.02
RADIUS = 6  # box half-width in pixels
CLAMP_MARGIN = 0.04  # how far memory may leave the render's local range


def lighting(render01: torch.Tensor, render_scale: float = 1.0) -> torch.Tensor:
    """(N, 3, H, W) render in [0, 1] -> (N, 1, H, W) blurred luminance, the frame's light.

    A render filled up from one traced at ``render_scale`` < 1 has fewer samples under the box, so
    the box widens by 1 / scale to average as many as at full size: with the full-size box the
    light's shading noise, which the memory is re-lit by, grew with the missing samples (below full
    size the output's brightness shimmered with it)."""
    radius = round(RADIUS / render_scale)
    luma = render01.mean(dim=1, keepdim=True)
    return _box(_box(luma, radius, -1), radius, -2)  # separable


def _box(image: torch.Tensor, radius: int, dim: int) -> torch.Tensor:
    """The mean over ``2 radius + 1`` pixels along ``dim``, at the borders of those inside the frame.

    The bytes of ``avg_pool2d(count_include_pad=False)``, which sums each window left to right and
    divides by its count: here the same sums as shifted views of a zero-padded copy (adding the
    padding's zeros changes no sum), 2 radius + 1 whole-frame adds instead of a loop per pixel
    (0.5 ms instead of 2.7 at 320x240, 2.7 instead of 21 at 640x480, on one CPU thread)."""
    size = image.shape[dim]
    padded = F.pad(image, (0, 0, radius, radius) if dim == -2 else (radius, radius, 0, 0))
    total = padded.narrow(dim, 0, size).clone()
    for shift in range(1, 2 * radius + 1):
        total += padded.narrow(dim, shift, size)
    i = torch.arange(size, dtype=image.dtype, device=image.device)
    count = (i + radius).clamp(max=size - 1) - (i - radius).clamp(min=0) + 1
    return total / (count.view(-1, 1) if dim == -2 else count)


def unlit(image01: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """An image in [0, 1] as reflectance-like ratios to ``light`` (what the memory stores)."""
    return (image01 + EPS) / (light + EPS)


def relit(ratio: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`unlit` under another frame's light, clamped to [0, 1]."""
    return (ratio * (light + EPS) - EPS).clamp(0.0, 1.0)


def remembered(
    ratio: torch.Tensor, grid: torch.Tensor, light: torch.Tensor, render01: torch.Tensor, radius: int
) -> torch.Tensor:
    """The memory as this frame sees it: the last output's ratio (:func:`unlit`) warped along the
    motion, re-lit by this frame's ``light`` and clamped to its render's range (:func:`clamp_to_render`).
    The node and training both make it here, so the network learns from the memory it is shown."""
    return clamp_to_render(relit(warp(ratio, grid, MEMORY_FILTER), light), render01, radius=radius)


def clamp_to_render(
    memory01: torch.Tensor, render01: torch.Tensor, margin: float = CLAMP_MARGIN, radius: int = 1
) -> torch.Tensor:
    """Keep re-lit memory within the range of the render's neighbourhood (``2 radius + 1`` pixels
    square, plus ``margin``), as temporal anti-aliasing clamps its history: where the light changes
    sharply (a panel switching off, its edge, a saturated panel that dims) the render wins; elsewhere
    the memory is untouched. A render filled up from a smaller one needs the wider window
    (:func:`clamp_radius`): its 3x3 range spans less than one traced sample. The node clamps its
    memory to the reconstructed render (``accumulate``, 3x3) and that reconstruction's history to
    the render as filled up (one traced sample wide)."""
    edged = F.pad(render01, (radius,) * 4, mode="replicate")  # an edge pixel is in its own window already
    high = _extreme(edged, radius, torch.maximum)
    low = _extreme(edged, radius, torch.minimum)
    return memory01.clamp(min=low.sub_(margin), max=high.add_(margin))


def clamp_radius(render_scale: float) -> int:
    """The clamp's half-width in output pixels for a render traced at ``render_scale``: one traced
    sample's spacing, at least 1."""
    return max(1, math.ceil(1.0 / render_scale - 1e-6))


def _extreme(edged: torch.Tensor, radius: int, pick: Callable[..., torch.Tensor]) -> torch.Tensor:
    """The max (or min) over each pixel's (2 radius + 1)^2 neighbourhood inside the frame, from the
    image padded by ``radius`` edge-replicated pixels: max_pool2d's result, as two separable passes
    of shifted views (max_pool2d took 5.7-8.4 ms at 320x240 on one CPU thread, these 0.2 ms)."""
    span = 2 * radius  # at least 2: the first pick of each pass makes the buffer the rest write into
    h, w = edged.shape[-2] - span, edged.shape[-1] - span
    rows = pick(edged[..., :, :w], edged[..., :, 1 : 1 + w])
    for shift in range(2, span + 1):
        pick(rows, edged[..., :, shift : shift + w], out=rows)
    out = pick(rows[..., :h, :], rows[..., 1 : 1 + h, :])
    for shift in range(2, span + 1):
        pick(out, rows[..., shift : shift + h, :], out=out)
    return out
