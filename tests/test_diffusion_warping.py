"""Motion-vector warping, validity masks and the quality metrics built on them."""

import pytest
import torch

from backrooms.diffusion.metrics import psnr, ssim, warping_error
from backrooms.diffusion.warping import MEMORY_FILTER, camera_speed, source_grid, valid_mask, warp


def _shift(dx: float, h: int = 6, w: int = 8) -> torch.Tensor:
    motion = torch.zeros(1, 2, h, w)
    motion[:, 0] = dx
    return motion


def test_integer_motion_warps_like_a_shift():
    image = torch.rand(1, 3, 6, 8)
    warped = warp(image, source_grid(_shift(2.0)))
    assert torch.allclose(warped[..., 2:], image[..., :-2], atol=1e-6)


def test_the_memory_keeps_its_edges_when_carried_along_a_slow_pan():
    """Eight frames of a third of a pixel each: the memory's warp must keep most of a fine stripe
    pattern's contrast (a bilinear warp, blurring once a frame, keeps under half of it)."""
    stripes = torch.tensor([0.0, 0.0, 1.0, 1.0] * 16).repeat(1, 1, 8, 1)  # period 4 px
    grid = source_grid(_shift(1.0 / 3.0, 8, 64))
    kept = {}
    for mode in (MEMORY_FILTER, "bilinear"):
        image = stripes
        for _ in range(8):
            image = warp(image, grid, mode)
        core = image[..., 16:48]  # away from the border the warp clamps to
        kept[mode] = float(core.max() - core.min())
    assert kept[MEMORY_FILTER] > 0.7 and kept["bilinear"] < 0.5, kept


def test_pixels_whose_source_left_the_frame_are_invalid():
    mask = valid_mask(source_grid(_shift(2.0)))
    assert mask[0, 0, :, :2].sum() == 0 and mask[0, 0, :, 2:].min() == 1


def test_disoccluded_pixels_are_invalid():
    disocclusion = torch.zeros(1, 1, 6, 8)
    disocclusion[..., 3, 4] = 1
    mask = valid_mask(source_grid(_shift(0.0)), disocclusion)
    assert mask[0, 0, 3, 4] == 0 and mask.sum() == 6 * 8 - 1


def test_camera_speed_is_motion_over_diagonal():
    assert abs(camera_speed(_shift(3.0, 30, 40)) - 3.0 / 50.0) < 1e-6


def _moving_sequence(flicker: float) -> tuple[torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    base = torch.rand(1, 3, 6, 20)
    frames = torch.cat([torch.roll(base, i, dims=3)[..., :12] for i in range(4)])
    frames = (frames + flicker * torch.rand(frames.shape)).clamp(0, 1)
    return frames, torch.cat([_shift(1.0, 6, 12)] * 4)


def test_warping_error_is_zero_for_motion_consistent_frames():
    frames, motion = _moving_sequence(0.0)
    assert warping_error(frames, motion, None) < 1e-10


def test_warping_error_grows_with_flicker():
    a = warping_error(*_moving_sequence(0.1), None)
    b = warping_error(*_moving_sequence(0.3), None)
    assert 0 < a < b


def test_identical_frames_have_infinite_psnr_and_unit_ssim():
    x = torch.rand(2, 3, 16, 16)
    assert psnr(x, x) == float("inf") and abs(ssim(x, x) - 1) < 1e-5


def test_noise_lowers_psnr_and_ssim():
    torch.manual_seed(1)
    x = torch.rand(1, 3, 32, 32)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    assert psnr(x, y) < 25 and ssim(x, y) < 0.95


def test_relit_warping_error_forgives_following_the_light_but_not_changing_surfaces():
    """Frames that dim with the render's light are stable once re-lit; a surface change is not."""
    from backrooms.diffusion.lighting import lighting

    frames, motion = _moving_sequence(0.0)
    gains = torch.tensor([1.0, 0.5, 1.0, 0.7]).view(4, 1, 1, 1)
    dimmed = frames * gains  # a panel flickering: the light changes, the surfaces do not
    light = lighting(dimmed)
    assert warping_error(dimmed, motion, None) > 1e-3
    assert warping_error(dimmed, motion, None, light) < 1e-3 * warping_error(dimmed, motion, None)
    stained = dimmed.clone()
    stained[2, :, 2:4, 4:8] *= 0.5  # a stain that appears on one frame only
    assert warping_error(stained, motion, None, light) > 30 * warping_error(dimmed, motion, None, light)


@pytest.mark.parametrize("shape", [(2, 240, 320), (1, 7, 5), (1, 1, 1), (1, 13, 40)])
def test_lighting_is_the_border_aware_box_mean_bit_for_bit(shape):
    """The shifted-sum box gives avg_pool2d's exact bytes (windows cut by the frame's borders
    average the pixels inside), so the node's output did not move when it replaced it."""
    from torch.nn import functional as F

    from backrooms.diffusion.lighting import RADIUS, lighting

    n, h, w = shape
    render = torch.rand(n, 3, h, w, generator=torch.Generator().manual_seed(h * w))
    size = 2 * RADIUS + 1
    luma = render.mean(dim=1, keepdim=True)
    rows = F.avg_pool2d(luma, (1, size), stride=1, padding=(0, RADIUS), count_include_pad=False)
    expected = F.avg_pool2d(rows, (size, 1), stride=1, padding=(RADIUS, 0), count_include_pad=False)
    assert torch.equal(lighting(render), expected)


def test_the_light_of_a_smaller_render_averages_as_many_samples_as_at_full_size():
    """A render filled up from half size repeats each traced sample over 2x2 pixels: under the
    full-size box its light is twice as noisy; the box widened by 1 / scale brings it back."""
    from backrooms.diffusion.lighting import lighting

    generator = torch.Generator().manual_seed(3)
    full = 0.5 + 0.1 * torch.randn(1, 3, 240, 320, generator=generator)
    half = 0.5 + 0.1 * torch.randn(1, 3, 120, 160, generator=generator)
    filled = half.repeat_interleave(2, dim=-2).repeat_interleave(2, dim=-1)
    inside = (slice(None), slice(None), slice(30, -30), slice(30, -30))  # away from the borders
    at_full_size = float(lighting(full)[inside].std())
    assert float(lighting(filled)[inside].std()) > 1.7 * at_full_size
    assert float(lighting(filled, 0.5)[inside].std()) < 1.15 * at_full_size
