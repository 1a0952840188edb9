"""Latent noise from pixel noise stays exactly Gaussian under transport; latent step math inverts."""

import pytest
import torch
from torch.nn import functional as F

from backrooms.diffusion.latent import LatentSchedule, latent_motion, latent_valid, warp_latent
from backrooms.diffusion.noise_warp import latent_noise


def _noise(h=256, w=256, seed=0):
    return torch.randn(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("channels", [4, 16])
def test_fresh_pixel_noise_gives_independent_standard_normal_latent_channels(channels):
    z = latent_noise(_noise(), 8, channels)
    assert z.shape == (1, channels, 32, 32)
    assert abs(float(z.mean())) < 0.05 and abs(float(z.std()) - 1.0) < 0.05
    corr = torch.corrcoef(z[0].flatten(1))
    assert corr.fill_diagonal_(0).abs().max() < 0.2


def test_stretched_noise_is_renormalised_by_its_copies():
    """A 2x zoom copies every sample four times: the naive sum has std 2, the result std 1."""
    stretched = F.interpolate(_noise(128, 128), scale_factor=2, mode="nearest")
    z = latent_noise(stretched, 8, 4)
    naive = stretched.reshape(1, 3, 32, 8, 32, 8).permute(0, 2, 4, 3, 5, 1).reshape(1, 32, 32, 192)
    naive = naive[..., :48].sum(-1) / 48**0.5
    assert abs(float(naive.std()) - 2.0) < 0.15
    assert abs(float(z.std()) - 1.0) < 0.06


def test_sub_cell_motion_moves_latent_noise_part_way():
    """Shifting the pixel noise by 2 of 8 pixels keeps about 3/4 of each latent cell's samples."""
    noise = _noise()
    shifted = torch.roll(noise, 2, dims=-1)
    a, b = latent_noise(noise, 8, 4), latent_noise(shifted, 8, 4)
    corr = float(torch.corrcoef(torch.stack((a[..., 1:].flatten(), b[..., 1:].flatten())))[0, 1])
    assert 0.6 < corr < 0.9


def test_latent_motion_and_validity_follow_the_pixels():
    motion = torch.zeros(1, 2, 16, 16)
    motion[:, 0] = 8.0
    assert torch.allclose(
        latent_motion(motion, 8), torch.ones(1, 2, 2, 2) * torch.tensor([1.0, 0.0]).view(1, 2, 1, 1)
    )
    valid = torch.ones(1, 1, 16, 16)
    valid[..., 3, 3] = 0.0
    assert latent_valid(valid, 8)[0, 0].tolist() == [[0.0, 1.0], [1.0, 1.0]]
    latent = torch.arange(16.0).view(1, 1, 4, 4)
    moved = warp_latent(latent, torch.full((1, 2, 32, 32), 0.0).index_fill_(1, torch.tensor([0]), 8.0), 8)
    assert torch.equal(moved[..., 1:], latent[..., :-1])


@pytest.mark.parametrize("prediction", ["epsilon", "v_prediction", "sample", "flow"])
def test_clean_inverts_add_noise_for_the_exact_model_output(prediction):
    from diffusers import DDPMScheduler, FlowMatchEulerDiscreteScheduler

    if prediction == "flow":
        schedule = LatentSchedule.from_scheduler(FlowMatchEulerDiscreteScheduler(shift=3.0))
    else:
        schedule = LatentSchedule.from_scheduler(DDPMScheduler(prediction_type=prediction))
    x0, noise = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    level = 0.6
    x_t = schedule.add_noise(x0, noise, level)
    if prediction == "flow":
        s = schedule.shift * level / (1 + (schedule.shift - 1) * level)
        assert torch.allclose(x_t, (1 - s) * x0 + s * noise) and schedule.timestep(level) == pytest.approx(
            s * 1000
        )
        output = noise - x0
    else:
        a = float(schedule.alphas_cumprod[schedule._index(level)])
        output = {"epsilon": noise, "v_prediction": a**0.5 * noise - (1 - a) ** 0.5 * x0, "sample": x0}[
            prediction
        ]
    assert torch.allclose(schedule.clean(x_t, output, level), x0, atol=1e-4)
    assert schedule.levels(2, 0.5) == [0.5, 0.25] and schedule.levels(3, 0.0) == []
