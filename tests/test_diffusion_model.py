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


def _cut_weights(folder):
    weights = folder / WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:-100])


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (_cut_weights, "file not fully covered"),
        (lambda folder: (folder / CONFIG_NAME).write_text('{"widths": ['), "Expecting value"),
        (lambda folder: (folder / CONFIG_NAME).write_text('{"widths": [8, 24]}'), "size mismatch for"),
        (lambda folder: (folder / CONFIG_NAME).write_text("[8, 16]"), "not a whole denoiser"),
    ],
)
def test_a_damaged_model_folder_is_one_line_naming_it(tmp_path, damage, reason):
    """Cut short by an older version's save, edited by hand, or beside another config's weights:
    these were tracebacks from safetensors, json or load_state_dict."""
    Denoiser(TINY).save_pretrained(tmp_path)
    damage(tmp_path)
    with pytest.raises(UserError, match=f"{tmp_path}: not a whole denoiser") as caught:
        Denoiser.from_pretrained(tmp_path)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


def test_unknown_config_key_is_refused():
    with pytest.raises(ValueError, match="unknown denoiser config keys"):
        DenoiserConfig.from_json('{"widths": [8], "depth": 3}')


@pytest.mark.parametrize("kernel", [0, 3])
def test_untrained_model_stays_close_to_memory_where_valid_and_the_render_elsewhere(kernel):
    """Up to the untrained kernel's blur (0.05 of the weight off-centre, on unit noise here)."""
    torch.manual_seed(0)
    x = torch.randn(2, IN_CHANNELS, 16, 16)
    render, previous, valid = (PLANE_SLICES[k] for k in ("render", "previous", "valid"))
    x[:, valid] = (torch.rand(2, 1, 16, 16) > 0.5).float()
    x[:, previous] *= x[:, valid]  # the previous plane is stored pre-masked
    start = torch.where(x[:, valid] > 0, x[:, previous], x[:, render])
    off = (Denoiser(DenoiserConfig(widths=(8, 16), filter=kernel))(x) - start).abs()
    assert off.max() < 0.05 if kernel == 0 else off.mean() < 0.06


def test_a_one_patch_stem_is_unshuffle_then_a_1x1_convolution():
    """``stem_kernel`` 1 embeds each patch with a patch-strided convolution: the same function as
    unshuffling the planes and a 1x1 convolution, whose copy of every plane it saves."""
    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(widths=(8, 16), patch=4, stem_kernel=1)).eval()
    x = torch.randn(1, IN_CHANNELS, 32, 48)
    # the strided kernel's weight[o, c, i, j] is the 1x1 weight of unshuffled channel c * 16 + 4 i + j
    pointwise = model.stem.weight.reshape(model.stem.out_channels, -1, 1, 1)
    unshuffled = torch.nn.functional.conv2d(
        torch.nn.functional.pixel_unshuffle(x, 4), pointwise, model.stem.bias
    )
    assert torch.allclose(model.stem(x), unshuffled, atol=1e-5)
    assert model.multiple == 8  # the patch (4) times 2 per down stage (one)
    assert model(x).shape == (1, 3, 32, 48)


def test_configs_saved_before_patch_and_stem_kernel_load_as_patch_2_with_a_3x3_stem():
    old = DenoiserConfig.from_json('{"widths": [8, 16], "blocks": 1}')
    assert (old.patch, old.stem_kernel, old.filter, old.head_kernel) == (2, 3, 0, 3)
    assert Denoiser(old).multiple == 4


def test_configs_saved_before_head_kernel_load_with_a_3x3_head():
    """The second shipped network's config.json names patch, stem and filter but not the head."""
    second = DenoiserConfig.from_json('{"widths": [8, 16], "patch": 4, "stem_kernel": 1, "filter": 3}')
    assert Denoiser(second).head.kernel_size == (3, 3)
    assert Denoiser(DenoiserConfig(widths=(8, 16))).head.kernel_size == (1, 1)  # new trainings


def test_the_predicted_kernel_filters_the_start_image_and_starts_near_keeping_it():
    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(widths=(8, 16), patch=4, stem_kernel=1, filter=3)).eval()
    x = torch.randn(1, IN_CHANNELS, 32, 32)
    render, previous, valid = (PLANE_SLICES[k] for k in ("render", "previous", "valid"))
    x[:, valid] = 0.0
    x[:, previous] = 0.0
    with torch.no_grad():
        out = model(x)
        # untrained: the kernel's centre holds 0.95, so the output is the render, slightly blurred
        blurred = (
            0.95 * x[:, render]
            + 0.05
            * torch.nn.functional.avg_pool2d(
                torch.nn.functional.pad(x[:, render], (1, 1, 1, 1), mode="replicate"), 3, stride=1
            )
            * 9
            / 8
            - 0.05 * x[:, render] / 8
        )
        assert (out - blurred).abs().mean() < 0.01
        assert (out - x[:, render]).abs().mean() > 0.02  # it does filter
        # a kernel that puts all its weight on the left neighbour moves the image one pixel right
        model.head.bias.zero_()
        model.head.weight.zero_()
        left = (3 + 3) * 16  # tap (1, 0) of the 3x3 kernel, after the 3 residual channels
        model.head.bias[left : left + 16] = 50.0
        shifted = model(x)
    assert torch.allclose(shifted[..., :, 1:], x[:, render][..., :, :-1], atol=1e-5)
