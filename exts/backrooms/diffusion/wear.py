"""Invented wear: stains and damp patches drawn from the node's warped noise.

Blotch fields are blurred fresh noise (a pure function of the seed and the frame, at a fixed
fraction of the frame width); the node keeps them in its memory and carries them along the motion
vectors (bilinear: the fields are smooth, so resampling barely blurs them), taking fresh fields
only where a surface is newly seen. So a stain stays on the surface it was invented on, and
``diffusion.seed`` picks which stains a walk remembers. The fields go through a soft threshold,
applied as a multiplicative tint (reflectance, so the current lighting still decides brightness):
walls get the most, carpet a little less, the ceiling less again, and misses none.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

POOL_PER_WIDTH = 80  # noise is pooled to about 80 cells across the frame before blurring
STAIN_SIGMA, DAMP_SIGMA = 1.5, 4.0  # blur radii in pooled cells
# How much each channel darkens at full strength (brown stains, grey-green damp).
STAIN_TINT = (0.26, 0.34, 0.5)
DAMP_TINT = (0.16, 0.17, 0.22)
WALL, CARPET, CEILING = 1.0, 0.8, 0.4


def _smoothstep(lo: float, hi: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _blotches(noise: torch.Tensor, pool: int, sigma: float, size: tuple[int, int]) -> torch.Tensor:
    """(N, 1, H, W) white noise -> unit-variance smooth field at frame size."""
    radius = int(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=noise.dtype, device=noise.device)
    taps = torch.exp(-0.5 * (x / sigma) ** 2)
    taps = taps / taps.sum()
    field = F.avg_pool2d(noise, pool, ceil_mode=True) if pool > 1 else noise
    field = F.conv2d(F.pad(field, (radius, radius, 0, 0), mode="replicate"), taps.view(1, 1, 1, -1))
    field = F.conv2d(F.pad(field, (0, 0, radius, radius), mode="replicate"), taps.view(1, 1, -1, 1))
    field = field * pool / float((taps**2).sum())  # pooled std 1/pool, blurred std sum(taps^2)
    return F.interpolate(field, size=size, mode="bilinear", align_corners=False)


def surface_weight(normals: torch.Tensor, depth: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W): how much wear each surface takes (normals are world space, y up)."""
    ny = normals[:, 1:2]
    weight = WALL * (1 - ny.abs()) + CARPET * ny.clamp(min=0) + CEILING * (-ny).clamp(min=0)
    return weight * (depth > 0).to(weight.dtype)


def blotch_fields(noise: torch.Tensor) -> torch.Tensor:
    """(N, >=2, H, W) white noise -> (N, 2, H, W) unit-variance smooth fields: stains, damp."""
    h, w = noise.shape[-2:]
    pool = max(1, round(w / POOL_PER_WIDTH))
    stains = _blotches(noise[:, 0:1], pool, STAIN_SIGMA, (h, w))
    damp = _blotches(noise[:, 1:2], pool, DAMP_SIGMA, (h, w))
    return torch.cat((stains, damp), dim=1)


def wear_gain(
    fields: torch.Tensor, normals: torch.Tensor, depth: torch.Tensor, amount: float
) -> torch.Tensor:
    """(N, 3, H, W) reflectance gain in (0, 1]: 1 = untouched, lower = stained. ``amount`` in [0, 1]."""
    stains = _smoothstep(1.2, 2.6, fields[:, 0:1])
    damp = _smoothstep(0.4, 1.8, fields[:, 1:2])
    stain_tint = torch.tensor(STAIN_TINT, dtype=fields.dtype, device=fields.device).view(1, 3, 1, 1)
    damp_tint = torch.tensor(DAMP_TINT, dtype=fields.dtype, device=fields.device).view(1, 3, 1, 1)
    darkening = stains * stain_tint + damp * damp_tint
    return (1.0 - amount * surface_weight(normals, depth) * darkening).clamp(0.0, 1.0)
