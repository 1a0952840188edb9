"""The render reconstructed from the samples of its frames (``accumulate``): below full size the
jittered samples gathered, at full size the 1-sample render averaged."""

import math

import pytest
import torch
from torch.nn import functional as F

from backrooms.diffusion.accumulate import SIGMA, accumulate, frame_samples, nearest_samples
from backrooms.diffusion.warping import source_grid
from backrooms.graph.product import RenderProduct
from backrooms.render.upscale import jitter

H, W = 24, 32


def _surface(y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A wallpaper finer than the traced grid at half size: what full-size pixels should show."""
    return 0.5 + 0.2 * torch.sin(1.9 * x) * torch.cos(1.3 * y) + 0.15 * torch.sin(0.7 * x + 2.1 * y)


def _traced(offset: tuple[float, float]) -> torch.Tensor:
    """The surface traced at half size, each ray moved by ``offset`` (traced pixels) inside its pixel."""
    y = (torch.arange(H // 2) + 0.5 + offset[1]) * 2
    x = (torch.arange(W // 2) + 0.5 + offset[0]) * 2
    image = _surface(y.view(-1, 1), x.view(1, -1))  # in output pixel units
    return image.expand(1, 3, -1, -1).contiguous()


def test_each_pixel_gets_its_nearest_sample_weighted_by_where_it_was_taken():
    traced = torch.arange(12 * 16, dtype=torch.float32).view(1, 1, 12, 16).expand(1, 3, -1, -1)
    picked, weight = nearest_samples(traced, (H, W), (-0.25, -0.25))
    # with this offset the sample of traced pixel n sits on output pixel 2n's centre exactly
    assert torch.equal(picked[0, 0, ::2, ::2], traced[0, 0])
    assert torch.allclose(weight[0, 0, ::2, ::2], torch.ones(12, 16))
    # output pixel 2n + 1 lies one output pixel from the samples either side of it
    one_off = math.exp(-1 / (2 * SIGMA**2))
    assert torch.allclose(weight[0, 0, 1::2, ::2], torch.full((12, 16), one_off))
    assert weight.shape == (1, 1, H, W) and picked.shape == (1, 3, H, W)


def test_a_still_view_gathers_the_detail_the_bilinear_fill_loses():
    ys, xs = torch.meshgrid(torch.arange(H) + 0.5, torch.arange(W) + 0.5, indexing="ij")
    truth = _surface(ys, xs).expand(1, 3, -1, -1)
    grid = source_grid(torch.zeros(1, 2, H, W))
    valid = torch.ones(1, 1, H, W)
    history = None
    for frame in range(16):
        traced = _traced(jitter(frame))
        fill = F.interpolate(traced, size=(H, W), mode="bilinear", align_corners=False)
        history = accumulate(history, grid, valid, fill, nearest_samples(traced, (H, W), jitter(frame)), 2)
    fill_error = (fill - truth).abs().mean()
    assert (history - truth).abs().mean() < 0.6 * fill_error


def test_a_chain_start_and_newly_seen_pixels_take_the_fill():
    fill = torch.rand(1, 3, H, W, generator=torch.Generator().manual_seed(1))
    samples = nearest_samples(_traced((0.1, -0.2)), (H, W), (0.1, -0.2))
    grid = source_grid(torch.zeros(1, 2, H, W))
    assert accumulate(None, grid, torch.ones(1, 1, H, W), fill, samples, 2) is fill
    unseen = accumulate(torch.zeros_like(fill), grid, torch.zeros(1, 1, H, W), fill, samples, 2)
    assert torch.equal(unseen, fill)


def test_history_cannot_outshine_a_panel_that_went_dark():
    lit = torch.ones(1, 3, H, W)
    dark = torch.full((1, 3, H, W), 0.1)
    samples = (dark.clone(), torch.zeros(1, 1, H, W))  # no sample near any pixel this frame
    out = accumulate(lit, source_grid(torch.zeros(1, 2, H, W)), torch.ones(1, 1, H, W), dark, samples, 1)
    assert out.max() <= 0.1 + 0.04 + 1e-6  # the fill's range and the clamp's margin


def test_at_full_size_the_render_is_averaged_over_frames_and_a_sample_every_k_counts_k_times():
    """At full size a sample brings the 1-sample render's noise and no detail: a still view's noise
    is averaged down over several frames (an exponential average taking in 0.5 of a sample keeps 0.58
    of the noise, 0.35 0.46), and with samples every k frames each counts k times as much (up to all)."""
    product = RenderProduct(0, W, H, "cpu", {})  # no meta["internal"]: traced at full size
    noise = torch.Generator().manual_seed(3)
    grid, valid = source_grid(torch.zeros(1, 2, H, W)), torch.ones(1, 1, H, W)
    history = None
    for _ in range(32):
        render = 0.5 + 0.05 * torch.randn(1, 3, H, W, generator=noise)
        history = accumulate(history, grid, valid, render, frame_samples(product, render), 1)
    assert (history - 0.5).std() < 0.5 * 0.05
    weights = [float(frame_samples(product, render, span)[1]) for span in (1, 2, 3, 8)]
    assert weights[0] < 1 and weights == pytest.approx([min(1.0, span * weights[0]) for span in (1, 2, 3, 8)])
