"""Latent-space pieces for a diffusers checkpoint: motion on the latent grid, and few-step sampling.

Motion: a latent cell covers ``factor x factor`` pixels, so its motion is the mean motion of those
pixels divided by ``factor``; it is trusted only if every pixel under it is (min-pooled validity).

Sampling (:class:`LatentSchedule`): the node's rule for every backend. Noise levels ``strength *
(steps - k) / steps``; at each level predict the clean latent, then re-noise it to the next level
with the *same* (warped) noise, as consistency models and our own sampler do. The same noise tensor
at every step is what lets warped noise carry detail along surfaces. Two parametrisations cover the
img2img checkpoints: DDPM ``alphas_cumprod`` (SD 1.x/2.x, SDXL and their Turbo versions; epsilon,
v or sample prediction) and rectified flow (SD3/3.5: ``x_t = (1 - s) x0 + s noise``, velocity
prediction, the scheduler's shift applied to the level).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch.nn import functional as F

from backrooms.diffusion.warping import source_grid, warp


def latent_motion(motion: torch.Tensor, factor: int) -> torch.Tensor:
    """(N, 2, H, W) pixel motion -> (N, 2, H / factor, W / factor) motion in latent cells."""
    return F.avg_pool2d(motion, factor) / factor


def latent_valid(valid: torch.Tensor, factor: int) -> torch.Tensor:
    """(N, 1, H, W) trust in [0, 1] -> per latent cell: the least trust of its pixels."""
    return -F.max_pool2d(-valid, factor)


def warp_latent(latent: torch.Tensor, motion: torch.Tensor, factor: int) -> torch.Tensor:
    """The previous frame's latent sampled where each latent cell was (pixel ``motion``)."""
    return warp(latent, source_grid(latent_motion(motion, factor).to(latent.dtype)))


@dataclass(frozen=True)
class LatentSchedule:
    """Step math only: noise levels in (0, 1], noising, and the model output -> clean latent."""

    flow: bool  # rectified flow (SD3) instead of DDPM alphas
    prediction: str  # "epsilon" | "v_prediction" | "sample" | "flow"
    alphas_cumprod: torch.Tensor | None = None
    shift: float = 1.0
    train_steps: int = 1000

    @classmethod
    def from_scheduler(cls, scheduler) -> LatentSchedule:
        config = scheduler.config
        steps = int(config.get("num_train_timesteps", 1000))
        if getattr(scheduler, "alphas_cumprod", None) is None:
            return cls(flow=True, prediction="flow", shift=float(config.get("shift", 1.0)), train_steps=steps)
        prediction = config.get("prediction_type", "epsilon")
        return cls(False, prediction, scheduler.alphas_cumprod.float().cpu(), train_steps=steps)

    def levels(self, steps: int, strength: float) -> list[float]:
        """Noise levels to denoise from, highest first (none when ``strength`` is 0)."""
        return [strength * (steps - k) / steps for k in range(steps) if strength > 0]

    def _sigma(self, level: float) -> float:
        return self.shift * level / (1.0 + (self.shift - 1.0) * level)

    def _alpha(self, level: float) -> float:
        return float(self.alphas_cumprod[self._index(level)])

    def _index(self, level: float) -> int:
        return min(self.train_steps - 1, max(0, round(level * (self.train_steps - 1))))

    def timestep(self, level: float) -> float:
        """The timestep the denoiser is conditioned on at ``level``."""
        return self._sigma(level) * self.train_steps if self.flow else float(self._index(level))

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, level: float) -> torch.Tensor:
        if self.flow:
            s = self._sigma(level)
            return (1.0 - s) * x0 + s * noise
        a = self._alpha(level)
        return a**0.5 * x0 + (1.0 - a) ** 0.5 * noise

    def target(self, x0: torch.Tensor, noise: torch.Tensor, level: float) -> torch.Tensor:
        """What the model should output at ``level`` (its training objective)."""
        if self.flow:
            return noise - x0
        a = self._alpha(level)
        if self.prediction == "epsilon":
            return noise
        if self.prediction == "v_prediction":
            return a**0.5 * noise - (1.0 - a) ** 0.5 * x0
        return x0

    def clean(self, x_t: torch.Tensor, output: torch.Tensor, level: float) -> torch.Tensor:
        """The clean latent the model's ``output`` at ``level`` implies."""
        if self.flow:
            return x_t - self._sigma(level) * output
        a = self._alpha(level)
        if self.prediction == "epsilon":
            return (x_t - (1.0 - a) ** 0.5 * output) / a**0.5
        if self.prediction == "v_prediction":
            return a**0.5 * x_t - (1.0 - a) ** 0.5 * output
        return output
