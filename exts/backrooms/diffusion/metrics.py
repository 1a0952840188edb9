"""Image and temporal quality metrics on (T, 3, H, W) tensors in [0, 1]."""

from __future__ import annotations

import torch
from torch.nn import functional as F

from backrooms.diffusion.lighting import relit, unlit
from backrooms.diffusion.warping import source_grid, valid_mask, warp


def warping_error(
    frames: torch.Tensor,
    motion: torch.Tensor,
    disocclusion: torch.Tensor | None,
    light: torch.Tensor | None = None,
) -> float:
    """Lai et al. 2018: mean over t of the masked mean squared difference between frame t and
    frame t-1 warped to it, with the renderer's exact motion vectors and disocclusion mask.

    ``motion[t]`` (T, 2, H, W) moves frame t-1 to t; ``disocclusion[t]`` (T, 1, H, W) or None.
    With ``light`` (T, 1, H, W; the render's lighting, see ``lighting.lighting``) the warped frame t-1
    is first re-lit by the render's change of light, so a frame that dims with a flickering panel
    as the render does is not counted as unstable: this variant measures what changes on the
    surfaces, the plain one also counts the render's own flicker.
    """
    errors = []
    for t in range(1, frames.shape[0]):
        grid = source_grid(motion[t : t + 1])
        mask = valid_mask(grid, None if disocclusion is None else disocclusion[t : t + 1])
        before = warp(frames[t - 1 : t], grid)
        if light is not None:
            before = relit(unlit(before, warp(light[t - 1 : t], grid)), light[t : t + 1])
        diff = (frames[t : t + 1] - before) * mask
        count = mask.sum() * frames.shape[1]
        count = count if count > 0 else torch.tensor(float(diff.numel()))
        errors.append(float((diff**2).sum() / count))
    return sum(errors) / max(len(errors), 1)


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(F.mse_loss(a.clamp(0, 1), b.clamp(0, 1)))
    return float("inf") if mse == 0 else 10.0 * torch.log10(torch.tensor(1.0 / mse)).item()


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float32) - (size - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(3, 1, size, size).contiguous()


def ssim(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean SSIM (Wang et al. 2004; 11x11 Gaussian window, sigma 1.5) over frames and channels."""
    window = _gaussian_window().to(a.device, a.dtype)
    c1, c2 = 0.01**2, 0.03**2

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, groups=3)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a**2
    var_b = blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float((num / den).mean())
