"""Few-step flow-matching sampler with consistency-style re-noising (step math only).

The forward process is the rectified-flow line ``x_t = (1 - t) * x0 + t * noise`` for t in [0, 1].
The denoiser predicts x0 directly, so one step already gives a clean frame; each further step
re-noises that prediction to a lower t with the *same* noise tensor (as consistency models do).
Reusing one noise tensor is what lets the node warp it along motion vectors: invented detail
is a function of noise that stays stuck to the walls.
"""

from __future__ import annotations

import torch


class FlowSampler:
    """Schedules and steps for img2img: start from an init frame at noise level ``strength``."""

    def timesteps(self, steps: int, strength: float) -> list[float]:
        """Noise levels visited, highest first, ending at 0 (so ``len == steps + 1``)."""
        if steps < 1:
            raise ValueError(f"steps must be at least 1, got {steps}")
        strength = min(max(float(strength), 0.0), 1.0)
        return [strength * (1.0 - i / steps) for i in range(steps)] + [0.0]

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        """A point on the line from ``x0`` (t=0) to ``noise`` (t=1)."""
        return (1.0 - t) * x0 + t * noise

    def step(self, x0_pred: torch.Tensor, noise: torch.Tensor, t_next: float) -> torch.Tensor:
        """Move to ``t_next`` by re-noising the prediction with the same noise (at 0, the last level,
        the prediction itself: what ``add_noise`` gives there, less two passes over the frame)."""
        if isinstance(t_next, float) and t_next == 0.0:
            return x0_pred
        return self.add_noise(x0_pred, noise, t_next)
