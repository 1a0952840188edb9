"""Adversarial noise: within its budget, and more visible after the tape than random noise."""

from __future__ import annotations

import torch

from backrooms.decay.adversarial import adversarial_noise
from backrooms.decay.loss import vhs_perceptual_loss

BUDGET = 6.0 / 255.0


def frame() -> torch.Tensor:
    g = torch.Generator().manual_seed(3)
    coarse = torch.rand(1, 3, 6, 10, generator=g)
    return torch.nn.functional.interpolate(coarse, size=(48, 720), mode="bilinear", align_corners=False)


def test_the_perturbation_stays_within_the_budget_and_the_colour_range():
    x = frame()
    delta = adversarial_noise(x, BUDGET, key=1)
    assert delta.abs().max() <= BUDGET + 1e-6
    assert ((x + delta) >= 0).all() and ((x + delta) <= 1).all()


def test_it_is_more_visible_through_the_tape_than_random_noise_of_the_same_budget():
    x = frame()
    g = torch.Generator().manual_seed(4)
    random = BUDGET * torch.sign(torch.rand(x.shape, generator=g) - 0.5)
    adversarial = adversarial_noise(x, BUDGET, key=1)
    assert vhs_perceptual_loss(x + adversarial, x) > 2.0 * vhs_perceptual_loss((x + random).clamp(0, 1), x)


def test_the_same_key_gives_the_same_noise():
    x = frame()
    assert torch.equal(adversarial_noise(x, BUDGET, key=9), adversarial_noise(x, BUDGET, key=9))
