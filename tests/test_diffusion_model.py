"""The shipped denoiser's contract: small, round-trips through safetensors, never unpickles."""

import json

import pytest
import torch

from backrooms.diffusion.model import (
    CONFIG_NAME,
    IN_CHANNELS,
    PLANE_SLICES,
    WEIGHTS_NAME,
    Denoiser,
    DenoiserConfig,
    parameter_count,
)
from backrooms.errors import UserError

TINY = DenoiserConfig(widths=(8, 16), blocks=1)


def test_default_model_has_under_two_million_parameters():
    assert parameter_count(Denoiser()) < 2_000_000


def test_save_and_load_round_trip_gives_identical_output(tmp_path):
    torch.manual_seed(0)
    model = Denoiser(TINY)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.05)
    model.save_pretrained(tmp_path)
    loaded = Denoiser.from_pretrained(tmp_path)
    x = torch.randn(1, IN_CHANNELS, 16, 24)
    assert loaded.config == TINY
    assert torch.equal(model.eval()(x), loaded(x))


def test_saved_folder_is_json_config_plus_safetensors(tmp_path):
    Denoiser(TINY).save_pretrained(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([CONFIG_NAME, WEIGHTS_NAME])
    assert json.loads((tmp_path / CONFIG_NAME).read_text())["widths"] == [8, 16]
    assert (tmp_path / WEIGHTS_NAME).read_bytes()[8:9] == b"{"  # safetensors header, not a pickle


def test_loading_a_pickled_checkpoint_folder_is_refused(tmp_path):
    torch.save(Denoiser(TINY).state_dict(), tmp_path / "pytorch_model.bin")
    (tmp_path / CONFIG_NAME).write_text(TINY.to_json())
    with pytest.raises(UserError, match="not a denoiser folder"):
        Denoiser.from_pretrained(tmp_path)


def test_unknown_config_key_is_refused():
    with pytest.raises(ValueError, match="unknown denoiser config keys"):
        DenoiserConfig.from_json('{"widths": [8], "depth": 3}')


def test_untrained_model_stays_close_to_memory_where_valid_and_the_render_elsewhere():
    x = torch.randn(2, IN_CHANNELS, 16, 16)
    render, previous, valid = (PLANE_SLICES[k] for k in ("render", "previous", "valid"))
    x[:, valid] = (torch.rand(2, 1, 16, 16) > 0.5).float()
    x[:, previous] *= x[:, valid]  # the previous plane is stored pre-masked
    start = torch.where(x[:, valid] > 0, x[:, previous], x[:, render])
    assert (Denoiser(TINY)(x) - start).abs().max() < 0.05
