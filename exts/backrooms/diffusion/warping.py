"""Backward warping along the renderer's exact motion vectors (differentiable: also used in training).

A pixel p of frame t was at ``p - mv(p)`` in frame t-1 (Replicator convention). Warping the previous
output therefore samples it there; pixels whose source left the frame, or that the renderer marks
as disoccluded, are not valid and must be filled from the current frame.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

# The memory is warped every frame and carried on, so a bilinear warp blurs it a little more each
# frame; a bicubic one keeps the wallpaper's edges (held-out walk: SSIM 0.903 -> 0.906 at
# render.scale 1, 0.896 -> 0.900 at generate 2, for about 2 ms of the node's 29 a frame).
MEMORY_FILTER = "bicubic"


def source_grid(motion: torch.Tensor) -> torch.Tensor:
    """Normalised grid_sample coordinates of each pixel's previous position. motion: (N, 2, H, W)."""
    _, _, h, w = motion.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=motion.dtype, device=motion.device),
        torch.arange(w, dtype=motion.dtype, device=motion.device),
        indexing="ij",
    )
    src_x = xs - motion[:, 0]
    src_y = ys - motion[:, 1]
    # align_corners=False: pixel centre i sits at (2i + 1) / size - 1
    return torch.stack(((2 * src_x + 1) / w - 1, (2 * src_y + 1) / h - 1), dim=-1)


def warp(image: torch.Tensor, grid: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Sample ``image`` (N, C, H, W) of the previous frame at each current pixel's source
    (``grid`` from :func:`source_grid`; computed once per frame, shared by every warp)."""
    return F.grid_sample(image, grid, mode=mode, padding_mode="border", align_corners=False)


def carry_noise(
    noise: torch.Tensor, grid: torch.Tensor, valid: torch.Tensor, fresh: torch.Tensor
) -> torch.Tensor:
    """The previous frame's noise moved along the motion where the surface stayed visible, ``fresh``
    where it was not: nearest, so each noise sample keeps its value (and its seed's detail) whole."""
    return valid * warp(noise, grid, mode="nearest") + (1 - valid) * fresh


def valid_mask(grid: torch.Tensor, disocclusion: torch.Tensor | None = None) -> torch.Tensor:
    """(N, 1, H, W) float: 1 where the previous frame saw this surface point inside the frame."""
    inside = (grid.abs() <= 1.0).all(dim=-1, keepdim=False).unsqueeze(1)
    mask = inside.to(grid.dtype)
    if disocclusion is not None:
        mask = mask * (disocclusion <= 0).to(grid.dtype)
    return mask


def camera_speed(motion: torch.Tensor) -> float:
    """Mean on-screen motion as a fraction of the frame diagonal per frame."""
    _, _, h, w = motion.shape
    return float(motion.norm(dim=1).mean()) / float((h * h + w * w) ** 0.5)
