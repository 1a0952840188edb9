"""A user's local diffusers checkpoint as the node's img2img backend, strictly offline.

The checkpoint is a tiny randomly initialised Stable Diffusion img2img pipeline that the test
builds and saves itself (tokenizer included), so nothing is ever fetched from the hub.
"""

import pytest
import torch
import warp as wp

from backrooms.diffusion.backends import load_stylizer
from backrooms.diffusion.node import DiffusionNode
from backrooms.diffusion.pipeline import FrameInputs
from backrooms.errors import UserError
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB, RenderProduct
from backrooms.params import ParamStore

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


def _tokenizer():
    """A character-level CLIP tokenizer built in place (no merges): enough to encode prompts."""
    from transformers import CLIPTokenizer

    chars = [chr(c) for c in range(33, 127)]
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[], model_max_length=16)


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from diffusers import (
        AutoencoderKL,
        EulerDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=1,
        sample_size=16,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=8,
    )
    vae = AutoencoderKL(
        block_out_channels=[16, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=8,
    )
    text = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-5,
            num_attention_heads=4,
            num_hidden_layers=2,
            pad_token_id=1,
            vocab_size=600,
        )
    )
    folder = tmp_path_factory.mktemp("sd-tiny")
    tokenizer = _tokenizer()
    pipe = StableDiffusionImg2ImgPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=EulerDiscreteScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    return folder


def _inputs(h=32, w=32):
    render = torch.rand(1, 3, h, w) * 2 - 1
    zeros1 = torch.zeros(1, 1, h, w)
    return FrameInputs(render, zeros1, torch.zeros_like(render), torch.zeros_like(render), zeros1)


def test_checkpoint_folder_loads_offline_and_stylises_a_frame(checkpoint, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    stylizer = load_stylizer(checkpoint, "auto", "cpu", prompt="a damp hallway", seed=3)
    inputs = _inputs()
    out = stylizer(inputs, torch.zeros_like(inputs.render), 0.5, 1)
    assert out.shape == inputs.render.shape and out.min() >= -1 and out.max() <= 1
    assert not torch.allclose(out, inputs.render, atol=1e-3)


def test_same_seed_gives_the_same_frame(checkpoint):
    stylizer = load_stylizer(checkpoint, "auto", "cpu", seed=3)
    inputs = _inputs()
    a = stylizer(inputs, inputs.render, 0.5, 1)
    assert torch.equal(a, stylizer(inputs, inputs.render, 0.5, 1))


def test_node_uses_a_checkpoint_named_by_style_and_pads_odd_sizes(checkpoint):
    w, h = 40, 26
    product = RenderProduct(0, w, h, "cpu", {})
    wp.to_torch(product.allocate(RGB))[..., 3] = 255
    params = ParamStore(values={"diffusion.style": str(checkpoint), "diffusion.strength": 0.6})
    DiffusionNode(GraphContext(0, w, h, 24.0, "cpu")).process(product, params.snapshot())
    assert wp.to_torch(product[RGB])[..., :3].float().std() > 0


def test_folder_without_a_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not a denoiser folder"):
        load_stylizer(tmp_path, "auto", "cpu")
