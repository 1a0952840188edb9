"""Adversarial noise injection: the most *visible-after-tape* noise a budget allows.

Projected gradient ascent (PGD, L-inf ball of radius ``budget``) on the VHS perceptual distance
between the frame and its perturbed copy. Plain random noise of the same budget is mostly high
frequency, which the tape's bandwidth erases; this noise is pushed into what the tape keeps (low
frequency luma blotches, edge-aligned halos, colour patches), so it reads as tape damage rather than
digital grain. Deterministic: the random start is keyed by (seed, frame).
"""

from __future__ import annotations

import torch
import warp as wp

from backrooms.decay.loss import vhs_perceptual_loss
from backrooms.decay.settings import FrameSettings
from backrooms.seeds import stream_key

STEPS = 4


def adversarial_noise(rgb: torch.Tensor, budget: float, key: int, steps: int = STEPS) -> torch.Tensor:
    """A perturbation of NCHW ``rgb`` in [0, 1] with |delta| <= budget; ``key`` seeds its start."""
    gen = torch.Generator(device="cpu").manual_seed(key & 0x7FFFFFFFFFFFFFFF)
    delta = (torch.rand(rgb.shape, generator=gen, dtype=rgb.dtype) * 2.0 - 1.0).to(rgb.device) * budget
    step = 2.5 * budget / steps
    for _ in range(steps):
        delta.requires_grad_(True)
        loss = vhs_perceptual_loss((rgb + delta).clamp(0.0, 1.0), rgb)
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            delta = (delta + step * grad.sign()).clamp(-budget, budget)
            delta = (rgb + delta).clamp(0.0, 1.0) - rgb
    return delta.detach()


def perturb_in_place(rgb: wp.array, s: FrameSettings) -> None:
    """Add adversarial noise of budget ``s.adversarial`` to an (H, W, 4) uint8 frame before the tape."""
    frame = wp.to_torch(rgb)
    x = frame[..., :3].permute(2, 0, 1).unsqueeze(0).float() / 255.0
    delta = adversarial_noise(x, s.adversarial, stream_key(s.seed, "decay", "adversarial", s.frame))
    out = ((x + delta) * 255.0).round().clamp(0, 255).to(torch.uint8)
    frame[..., :3] = out[0].permute(1, 2, 0)
