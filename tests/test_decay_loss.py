"""The differentiable VHS perceptual loss compares frames through the tape's bandwidth."""

from __future__ import annotations

import pytest
import torch

from backrooms.decay.loss import vhs_perceptual_loss


def base() -> torch.Tensor:
    torch.manual_seed(0)
    return 0.3 + 0.4 * torch.rand(1, 3, 1, 1).expand(1, 3, 48, 720).clone()


def test_identical_frames_have_zero_loss():
    a = base()
    assert vhs_perceptual_loss(a, a).item() == pytest.approx(0.0, abs=1e-7)


def test_the_loss_has_gradients_for_training():
    a = base().requires_grad_(True)
    b = base() + 0.05
    vhs_perceptual_loss(a, b).backward()
    assert a.grad is not None and a.grad.abs().sum() > 0


def test_detail_beyond_the_tape_bandwidth_costs_less_than_a_visible_change():
    a = base()
    x = torch.arange(720)  # 720 px: the tape keeps ~2.4 MHz of a 6.8 MHz line
    fine = a + 0.1 * ((x % 2) * 2 - 1).float().view(1, 1, 1, -1)  # luma at Nyquist: erased by tape
    coarse = a + 0.1 * torch.sin(x / 40.0).view(1, 1, 1, -1)  # slow luma change: survives
    assert vhs_perceptual_loss(fine, a) < 0.25 * vhs_perceptual_loss(coarse, a)


def test_frames_of_different_shapes_are_refused():
    with pytest.raises(ValueError, match="shape"):
        vhs_perceptual_loss(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 9))
