"""A differentiable VHS perceptual distance for torch.

Two frames are compared the way a VHS deck would let a viewer see them: in YIQ, with luma and
chroma band-limited horizontally to the tape's bandwidth (sp: 2.4 MHz / 320 kHz on the 52.66 us
line that spans the frame width) and chroma averaged over two lines (the deck's 1H delay line).
Differences the tape would erase cost nothing, so a model trained with it spends its capacity on
what survives the tape; chroma weighs less than luma, Q less than I, as for the eye.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from backrooms.decay.signal import ACTIVE_LINE_US, RGB_TO_YIQ

WEIGHTS = (1.0, 0.5, 0.25)  # Y, I, Q
EDGE_WEIGHT = 0.5  # luma gradients (edges, halos) on top of levels
EPS = 1e-3  # Charbonnier smoothing: |d| with a gradient at 0


def gaussian_taps(cut_mhz: float, width: int) -> torch.Tensor:
    """Horizontal Gaussian FIR whose -3 dB point is ``cut_mhz`` at this frame width."""
    cycles = cut_mhz / (width / ACTIVE_LINE_US)
    sigma = math.sqrt(math.log(2.0) / 2.0) / (math.pi * cycles)
    radius = max(1, math.ceil(3.0 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float64)
    taps = torch.exp(-0.5 * (x / sigma) ** 2)
    return (taps / taps.sum()).float()


def tape_view(rgb: torch.Tensor, luma_cut_mhz: float = 2.4, chroma_cut_mhz: float = 0.32) -> torch.Tensor:
    """NCHW RGB in [0, 1] -> NCHW YIQ as seen through the tape's bandwidth (differentiable)."""
    c, w = rgb.shape[1], rgb.shape[3]
    if c != 3:
        raise ValueError(f"expected 3 colour channels (NCHW RGB), got {c}")
    m = torch.as_tensor(RGB_TO_YIQ, dtype=rgb.dtype, device=rgb.device)
    yiq = torch.einsum("kc,nchw->nkhw", m, rgb)
    planes = []
    for k, cut in enumerate((luma_cut_mhz, chroma_cut_mhz, chroma_cut_mhz)):
        taps = gaussian_taps(cut, w).to(rgb.device, rgb.dtype)
        plane = yiq[:, k : k + 1]
        plane = F.conv2d(
            F.pad(plane, (len(taps) // 2, len(taps) // 2, 0, 0), mode="replicate"), taps.view(1, 1, 1, -1)
        )
        if k > 0:
            plane = 0.5 * (plane + torch.cat([plane[:, :, :1], plane[:, :, :-1]], dim=2))
        planes.append(plane)
    return torch.cat(planes, dim=1)


def charbonnier(d: torch.Tensor) -> torch.Tensor:
    return torch.sqrt(d * d + EPS * EPS) - EPS


def vhs_perceptual_loss(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Scalar VHS-perceptual distance between two NCHW RGB batches in [0, 1] (sp tape)."""
    if a.shape != b.shape:
        raise ValueError(f"frames differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    d = tape_view(a) - tape_view(b)
    w = torch.as_tensor(WEIGHTS, dtype=a.dtype, device=a.device).view(1, 3, 1, 1)
    level = (charbonnier(d) * w).mean(dim=(2, 3)).sum(dim=1)
    edge = charbonnier(d[:, :1, :, 1:] - d[:, :1, :, :-1]).mean(dim=(1, 2, 3))
    return (level + EDGE_WEIGHT * edge).mean()
