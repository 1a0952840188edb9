"""Gaussian latent noise from the node's pixel-resolution noise (integral noise, exactly renormalised).

The node keeps one standard normal sample per pixel and colour and carries it along the motion
vectors by nearest-sample transport, so it follows surfaces with pixel precision. A latent cell
covers ``factor x factor`` pixels: its noise is a sum of the samples under it (as in "How I Warped
Your Noise", Chang et al. 2024: a latent value is the integral of a finer noise field), each latent
channel summing its own band of rows (all colours) so the channels stay independent and a stretched
surface mostly repeats samples inside one band. Sub-cell motion thus moves latent noise part way
instead of in whole-cell jumps.

Transport copies samples (a stretched surface repeats a source pixel), and a sum of k copies of one
sample has variance k², not k. Copies of a float drawn from a normal are bit-identical, and distinct
draws coincide with probability zero, so counting equal pairs in a subset gives its exact variance
``sum_i k_i²``; dividing by its square root keeps every latent value exactly N(0, 1).
"""

from __future__ import annotations

import torch


def latent_noise(noise: torch.Tensor, factor: int, channels: int) -> torch.Tensor:
    """(1, C, H, W) pixel noise -> (1, channels, H / factor, W / factor) standard normal latent noise."""
    n, c, h, w = noise.shape
    gh, gw = h // factor, w // factor
    per_cell = c * factor * factor
    if per_cell < channels:
        raise ValueError(f"{per_cell} pixel samples per latent cell cannot make {channels} channels")
    take = per_cell // channels
    cells = noise[:, :, : gh * factor, : gw * factor].reshape(n, c, gh, factor, gw, factor)
    cells = cells.permute(0, 2, 4, 3, 5, 1).reshape(n, gh, gw, per_cell)  # rows, columns, colours
    subsets = cells[..., : take * channels].reshape(n, gh, gw, channels, take)
    copies = (subsets.unsqueeze(-1) == subsets.unsqueeze(-2)).sum(dim=(-1, -2)).to(noise.dtype)
    latent = subsets.sum(dim=-1) / copies.sqrt()
    return latent.permute(0, 3, 1, 2).contiguous()
