"""Invented wear: stains and damp patches drawn from the node's warped noise.

Blotch fields are blurred fresh noise (a pure function of the seed and the frame, at a fixed
fraction of the frame width); the node keeps them in its memory and carries them along the motion
vectors (bilinear: the fields are smooth, so resampling barely blurs them), taking fresh fields
only where a surface is newly seen. So a stain stays on the surface it was invented on, and
``diffusion.seed`` picks which stains a walk remembers. The fields go through a soft threshold,
applied as a multiplicative tint (reflectance, so the current lighting still decides brightness):
walls and carpet get the most, the bright ceiling little, and misses none.

The tint is centred: its expected value over the seed is subtracted, so a seed darkens its stains
and lifts the rest slightly around the model's frame. The model predicts the *average* of the
plausible worn targets, so wear drawn on top of it must be a zero-mean deviation, or every seed
darkens the frame on average and pays for that bias against the target. The amplitude is the
smallest that keeps two seeds >= 2/255 apart over a held-out walk (see the model card: a seed's
detail is independent of the target's, so each unit of it costs PSNR and SSIM).

Damp carries most of that difference at the default strength and the stains grow faster with it
(``STAIN_RAMP``): a stain is small and sharp-edged, a damp patch broad and soft, and on the model
card's walk a stain cost SSIM about 8x what damp cost per 1/255 it moved the frame (a gain that is
nearly constant over SSIM's window costs it only at second order). Issue 17's twenty-seventh
round: stains at 0.6 of their old tint and damp at 1.15x at strength 0.5 kept the seeds 2.49/255
apart (2.48 before) and raised SSIM on that walk by 0.005 at every size; at strength 1 the stains
are as dark as before.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

POOL_PER_WIDTH = 80  # noise is pooled to about 80 cells across the frame before blurring
STAIN_SIGMA, DAMP_SIGMA = 1.5, 4.0  # blur radii in pooled cells
# How much each channel darkens at full strength (brown stains, grey-green damp).
STAIN_TINT = (0.156, 0.204, 0.3)
DAMP_TINT = (0.110, 0.117, 0.152)
STAIN_RAMP = 0.2  # the stains' share of ``amount`` as it nears 0; it grows linearly to all of it at 1
WALL, CARPET, CEILING = 1.0, 1.0, 0.2
STAIN_EDGES, DAMP_EDGES = (1.2, 2.6), (0.4, 1.8)  # soft thresholds on the unit-variance fields


def _smoothstep(lo: float, hi: float, x: torch.Tensor) -> torch.Tensor:
    t = ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _mean_over_unit_normal(lo: float, hi: float) -> float:
    """E[smoothstep(lo, hi, z)] for z ~ N(0, 1): the share of a surface a threshold tints on average."""
    z = torch.linspace(-8.0, 8.0, 16001, dtype=torch.float64)
    density = torch.exp(-0.5 * z * z)
    return float((_smoothstep(lo, hi, z) * density).sum() / density.sum())


STAIN_MEAN, DAMP_MEAN = _mean_over_unit_normal(*STAIN_EDGES), _mean_over_unit_normal(*DAMP_EDGES)


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
    """(N, 3, H, W) reflectance gain around 1: below 1 stained, slightly above 1 between the stains
    (the mean over seeds is 1). ``amount`` in [0, 1]: the damp's share, and the stains' is
    ``amount`` times a share rising from ``STAIN_RAMP`` to 1 with it."""
    stains = _smoothstep(*STAIN_EDGES, fields[:, 0:1]) - STAIN_MEAN
    damp = _smoothstep(*DAMP_EDGES, fields[:, 1:2]) - DAMP_MEAN
    stain_tint = torch.tensor(STAIN_TINT, dtype=fields.dtype, device=fields.device).view(1, 3, 1, 1)
    damp_tint = torch.tensor(DAMP_TINT, dtype=fields.dtype, device=fields.device).view(1, 3, 1, 1)
    stain_share = STAIN_RAMP + (1.0 - STAIN_RAMP) * amount
    darkening = stain_share * stains * stain_tint + damp * damp_tint
    return (1.0 - amount * surface_weight(normals, depth) * darkening).clamp(min=0.0)
