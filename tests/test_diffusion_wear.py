"""The invented wear's tint: centred over seeds at every strength, the stains growing faster with
strength than the damp (a stain costs SSIM against the target several times what damp does per unit
of seed difference, so damp carries the default strength's share)."""

import pytest
import torch

from backrooms.diffusion.wear import blotch_fields, wear_gain

H, W = 48, 64
WALL = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1).expand(1, 3, H, W)  # facing sideways
NEAR = torch.ones(1, 1, H, W)


def _darkening(stains: float, damp: float, amount: float) -> torch.Tensor:
    """1 - the wall's gain where the stain and damp fields are uniformly these values."""
    fields = torch.tensor([stains, damp]).view(1, 2, 1, 1).expand(1, 2, H, W)
    return (1.0 - wear_gain(fields, WALL, NEAR, amount))[0, :, 0, 0]


@pytest.mark.parametrize("amount", [0.25, 0.5, 1.0])
def test_the_tint_is_centred_over_seeds(amount):
    noise = torch.randn(16, 3, 240, 320, generator=torch.Generator().manual_seed(3))  # 16 seeds' frames
    wall = WALL[..., :1, :1].expand(16, 3, 240, 320)
    gain = wear_gain(blotch_fields(noise), wall, torch.ones(16, 1, 240, 320), amount)
    assert abs(float(gain.mean()) - 1.0) < 0.003


def test_stains_grow_faster_with_strength_than_damp():
    stain = [_darkening(5.0, -5.0, a) - _darkening(-5.0, -5.0, a) for a in (0.25, 0.5, 1.0)]
    damp = [_darkening(-5.0, 5.0, a) - _darkening(-5.0, -5.0, a) for a in (0.25, 0.5, 1.0)]
    for quarter, half, full in (stain, damp):
        assert torch.all(quarter > 0) and torch.all(quarter < half) and torch.all(half < full)
    # damp darkens in proportion to the strength; a stain at half strength less than half as much
    assert torch.allclose(damp[1], 0.5 * damp[2]) and torch.allclose(damp[0], 0.25 * damp[2])
    assert torch.all(stain[1] < 0.35 * stain[2]) and torch.all(stain[0] < 0.5 * stain[1])
    # at full strength a stain is still darker on a wall than a damp patch
    assert torch.all(stain[2] > damp[2])
