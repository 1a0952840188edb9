"""Render product buffers <-> the (1, C, H, W) float tensors the denoiser uses (zero-copy views in)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import warp as wp

from backrooms.graph.product import DEPTH, DISOCCLUSION, MOTION_VECTORS, NORMALS, RGB, RenderProduct

ALL = slice(None)  # every row (or column)


@dataclass
class FrameAOVs:
    """One frame's render as tensors; missing AOVs are None (the Kit host may not provide them all)."""

    render: torch.Tensor  # (1, 3, H, W) in [-1, 1]
    depth: torch.Tensor  # (1, 1, H, W): 1 / (1 + distance), 0 for misses
    normals: torch.Tensor  # (1, 3, H, W)
    motion: torch.Tensor | None  # (1, 2, H, W) pixels moved since the previous frame
    disocclusion: torch.Tensor | None  # (1, 1, H, W) 1 where newly visible


def rgb_to_signed(rgb: torch.Tensor) -> torch.Tensor:
    """(H, W, >=3) uint8 -> (1, 3, H, W) float in [-1, 1]."""
    return rgb[..., :3].permute(2, 0, 1).unsqueeze(0).float() / 127.5 - 1.0


def signed_to_rgb(image: torch.Tensor) -> torch.Tensor:
    """(1, 3, H, W) float in [-1, 1] -> (H, W, 3) uint8, rounded."""
    return ((image[0] + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0)


def depth_plane(distance: torch.Tensor) -> torch.Tensor:
    """Distance in metres (inf for misses) -> 1 / (1 + d): bounded, near is bright."""
    d = torch.nan_to_num(distance.float(), nan=float("inf"), posinf=float("inf")).clamp(min=0.0)
    return (1.0 / (1.0 + d)).unsqueeze(0).unsqueeze(0)


def read_aovs(product: RenderProduct, rows: slice = ALL, cols: slice = ALL) -> FrameAOVs:
    """The product's AOVs as tensors; ``rows`` and ``cols``: a window of them (each plane cropped
    before it is converted)."""

    def plane(name: str) -> torch.Tensor:
        return wp.to_torch(product[name])[rows, cols]

    render = rgb_to_signed(plane(RGB))
    h, w = render.shape[-2:]
    zeros = torch.zeros((1, 1, h, w), device=render.device)
    depth = depth_plane(plane(DEPTH)) if DEPTH in product else zeros
    normals = (
        plane(NORMALS)[..., :3].permute(2, 0, 1).unsqueeze(0).float()
        if NORMALS in product
        else zeros.expand(1, 3, h, w)
    )
    motion = read_motion(product, rows, cols)
    disocclusion = plane(DISOCCLUSION).float().unsqueeze(0).unsqueeze(0) if DISOCCLUSION in product else None
    return FrameAOVs(render, depth, normals, motion, disocclusion)


def read_motion(product: RenderProduct, rows: slice = ALL, cols: slice = ALL) -> torch.Tensor | None:
    """(1, 2, h, w) pixels moved since the previous frame (a window of them), None without them."""
    if MOTION_VECTORS not in product:
        return None
    return wp.to_torch(product[MOTION_VECTORS])[rows, cols][..., :2].permute(2, 0, 1).unsqueeze(0).float()


def write_rgb(product: RenderProduct, image: torch.Tensor) -> None:
    """Write the stylised frame into the product's ``rgb`` in place (alpha left as is)."""
    wp.to_torch(product[RGB])[..., :3] = signed_to_rgb(image)
