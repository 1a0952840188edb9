"""The model we ship in models/remembered: small, loadable without pickles, and coherent in motion."""

import pytest
import torch

from backrooms.diffusion.data import clip_settings, clip_world, render_clip
from backrooms.diffusion.evaluate import run_node
from backrooms.diffusion.metrics import warping_error
from backrooms.diffusion.model import Denoiser, parameter_count
from backrooms.diffusion.styles import DEFAULT_STYLE, models_dir

SHIPPED = models_dir() / DEFAULT_STYLE


def test_shipped_model_is_small_and_loads_from_safetensors():
    model = Denoiser.from_pretrained(SHIPPED)
    assert parameter_count(model) < 3_000_000
    assert (SHIPPED / "model.safetensors").is_file()
    assert not list(SHIPPED.glob("*.bin")) and not list(SHIPPED.glob("*.pt"))


def test_model_card_names_the_command_that_trains_it():
    card = (models_dir() / "MODEL_CARD.md").read_text()
    assert "backrooms train" in card


@pytest.mark.slow
def test_memory_lowers_the_warping_error_on_a_walk_the_model_never_saw():
    clip, _ = render_clip(*clip_world(7, 123), 8, 160, 120, clip_settings(7, 123), expensive_spp=1, scale=1)
    style = {"diffusion.style": str(SHIPPED)}
    with_memory = run_node(clip, style).frames
    frame_by_frame = run_node(
        clip, {**style, "diffusion.temporal_weight": 0.0, "diffusion.warp_noise": False}
    )
    a = warping_error(with_memory, clip.motion, clip.disocclusion)
    b = warping_error(frame_by_frame.frames, clip.motion, clip.disocclusion)
    assert a < 0.7 * b
    assert torch.isfinite(with_memory).all()
