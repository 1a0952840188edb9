"""Few-step flow sampler: schedules and the consistency-style re-noising."""

import pytest
import torch

from backrooms.diffusion.model import PLANE_SLICES
from backrooms.diffusion.pipeline import FrameInputs, StylisePipeline
from backrooms.diffusion.sampler import FlowSampler


def test_timesteps_start_at_strength_and_end_at_zero():
    assert FlowSampler().timesteps(2, 0.6) == pytest.approx([0.6, 0.3, 0.0])


def test_timesteps_refuse_zero_steps():
    with pytest.raises(ValueError):
        FlowSampler().timesteps(0, 0.5)


def test_step_renoises_prediction_with_the_same_noise():
    x0, noise = torch.zeros(1, 3, 2, 2), torch.ones(1, 3, 2, 2)
    assert torch.allclose(FlowSampler().step(x0, noise, 0.25), torch.full_like(x0, 0.25))


def test_the_last_step_is_the_line_at_zero_bit_for_bit():
    """At t = 0 the step returns the prediction: what (1 - 0) x0 + 0 noise computes, exactly."""
    g = torch.Generator().manual_seed(3)
    x0, noise = torch.randn(1, 3, 8, 8, generator=g), torch.randn(1, 3, 8, 8, generator=g)
    assert torch.equal(FlowSampler().step(x0, noise, 0.0), (1.0 - 0.0) * x0 + 0.0 * noise)


def test_planes_hold_the_masked_memory_and_the_level_as_before():
    g = torch.Generator().manual_seed(4)
    render, previous = torch.randn(1, 3, 4, 5, generator=g), torch.randn(1, 3, 4, 5, generator=g)
    valid, depth = torch.rand(1, 1, 4, 5, generator=g), torch.rand(1, 1, 4, 5, generator=g)
    inputs = FrameInputs(render, depth, torch.zeros_like(render), previous, valid)
    planes = inputs.planes(render, 0.3)
    assert torch.equal(planes[:, PLANE_SLICES["previous"]], previous * valid)
    assert torch.equal(planes[:, PLANE_SLICES["t"]], torch.zeros_like(depth) + 0.3)
    assert torch.equal(inputs.start(), previous * valid + (1.0 - valid) * render)


def _inputs(render: torch.Tensor) -> FrameInputs:
    zeros1 = torch.zeros_like(render[:, :1])
    return FrameInputs(render, zeros1, torch.zeros_like(render), torch.zeros_like(render), zeros1)


@pytest.mark.parametrize("steps", [1, 2, 4])
def test_pipeline_with_an_oracle_denoiser_returns_the_clean_frame(steps):
    clean = torch.rand(1, 3, 8, 8) * 2 - 1
    calls = []

    def oracle(planes):
        calls.append(float(planes[0, -1, 0, 0]))
        return clean

    out = StylisePipeline(oracle)(_inputs(torch.zeros_like(clean)), torch.randn_like(clean), 0.8, steps)
    assert torch.allclose(out, clean)
    assert calls == pytest.approx(FlowSampler().timesteps(steps, 0.8)[:-1])


def test_pipeline_starts_from_memory_where_valid_and_render_elsewhere():
    render, memory = torch.zeros(1, 3, 1, 2), torch.ones(1, 3, 1, 2)
    valid = torch.tensor([[[[1.0, 0.0]]]])
    inputs = FrameInputs(render, torch.zeros_like(valid), torch.zeros_like(render), memory, valid)
    assert inputs.start()[0, 0].tolist() == [[1.0, 0.0]]


def test_fast_camera_lowers_the_strength_by_the_response():
    from backrooms.diffusion.controller import FULL_SPEED, motion_strength

    assert motion_strength(0.6, 0.0, 0.5) == pytest.approx(0.6)
    assert motion_strength(0.6, FULL_SPEED / 2, 0.5) == pytest.approx(0.45)
    assert motion_strength(0.6, 10 * FULL_SPEED, 0.5) == pytest.approx(0.3)
