"""The stylisation pipeline: one frame in, one frame out, reading like the algorithm.

1. Start from the warped previous output where it is valid, the cheap render elsewhere.
2. Noise that start to level ``strength`` with the (warped) noise tensor.
3. For each of ``steps`` levels: predict the clean frame, re-noise it to the next level.

Images are (1, 3, H, W) tensors in [-1, 1]; the noise is a standard normal tensor of that shape.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import torch

from backrooms.diffusion.model import stack_planes, start_image
from backrooms.diffusion.sampler import FlowSampler


@dataclass
class FrameInputs:
    """What the denoiser is conditioned on for one frame (all (N, C, H, W), same H and W)."""

    render: torch.Tensor  # 3 channels, [-1, 1]
    depth: torch.Tensor  # 1 channel, 1 / (1 + distance)
    normals: torch.Tensor  # 3 channels, [-1, 1]
    previous: torch.Tensor  # 3 channels, previous output warped to this frame (zeros if none)
    valid: torch.Tensor  # 1 channel in [0, 1]: trust in ``previous`` (0 = none)
    motion: torch.Tensor | None = None  # 2 channels, pixels moved since the last frame (latent backends)

    @cached_property
    def masked_previous(self) -> torch.Tensor:
        """``previous * valid``: what the model sees of the memory (made once per frame)."""
        return self.previous * self.valid

    def start(self) -> torch.Tensor:
        """The image the sampler starts from: memory where it is valid, the render where it is not."""
        return start_image(self.render, self.masked_previous, self.valid)

    def planes(self, x_t: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        """The denoiser's stacked input for ``x_t`` at level ``t`` (a float or per-sample (N, 1, 1, 1))."""
        return stack_planes(
            {
                "x_t": x_t,
                "render": self.render,
                "previous": self.masked_previous,
                "valid": self.valid,
                "depth": self.depth,
                "normals": self.normals,
                # the level broadcast as a plane: a view, ``stack_planes`` makes the one copy
                "t": torch.as_tensor(t, dtype=self.depth.dtype, device=self.depth.device).expand_as(
                    self.depth
                ),
            }
        )


class Denoise(Protocol):
    """Any backend: stacked planes (N, IN_CHANNELS, H, W) -> predicted clean frame (N, 3, H, W)."""

    def __call__(self, planes: torch.Tensor) -> torch.Tensor: ...


class Stylizer(Protocol):
    """What the node calls; the tiny pipeline and the diffusers img2img backend both fit."""

    def __call__(
        self, inputs: FrameInputs, noise: torch.Tensor, strength: float, steps: int
    ) -> torch.Tensor: ...


class StylisePipeline:
    """Our denoiser + the few-step flow sampler."""

    def __init__(self, denoise: Denoise, multiple: int = 1, sampler: FlowSampler | None = None) -> None:
        self.denoise = denoise
        self.multiple = multiple  # frame sides must be multiples of this
        self.sampler = sampler or FlowSampler()

    def __call__(self, inputs: FrameInputs, noise: torch.Tensor, strength: float, steps: int) -> torch.Tensor:
        levels = self.sampler.timesteps(steps, strength)
        x = self.sampler.add_noise(inputs.start(), noise, levels[0])
        for t, t_next in itertools.pairwise(levels):
            x0 = self.denoise(inputs.planes(x, t))
            x = self.sampler.step(x0, noise, t_next)
        return x.clamp(-1.0, 1.0)
