"""Tiny randomly initialised diffusers checkpoints built and saved in place (nothing from the hub).

Shapes follow diffusers' own pipeline tests; the tokenizer is a character-level CLIP tokenizer made
here. ``sd`` is an SD 1.x-style UNet img2img pipeline (optionally with a depth ControlNet in its
``controlnet/`` folder), ``sdxl`` the same with two text encoders and size conditioning,
``sd3`` an SD3-style transformer with rectified flow (no T5).
"""

from pathlib import Path

import torch


def _tokenizer():
    from transformers import CLIPTokenizer

    chars = [chr(c) for c in range(33, 127)]
    tokens = ["<|startoftext|>", "<|endoftext|>", *chars, *(c + "</w>" for c in chars)]
    return CLIPTokenizer(vocab={t: i for i, t in enumerate(tokens)}, merges=[], model_max_length=16)


def _clip_config(**extra):
    from transformers import CLIPTextConfig

    return CLIPTextConfig(
        bos_token_id=0,
        eos_token_id=1,
        hidden_size=32,
        intermediate_size=37,
        layer_norm_eps=1e-5,
        num_attention_heads=4,
        num_hidden_layers=2,
        pad_token_id=1,
        vocab_size=600,
        **extra,
    )


def _unet_config() -> dict:
    return {
        "block_out_channels": (32, 64),
        "layers_per_block": 1,
        "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
        "cross_attention_dim": 32,
        "norm_num_groups": 8,
        "in_channels": 4,
    }


def _sd_vae():
    """The tiny VAE the SD- and SDXL-style pipelines share (4 latent channels, 2x down)."""
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=[16, 32],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        latent_channels=4,
        norm_num_groups=8,
    )


def sd(folder: Path, controlnet: bool = False) -> Path:
    from diffusers import (
        ControlNetModel,
        EulerDiscreteScheduler,
        StableDiffusionImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        **_unet_config(), sample_size=16, out_channels=4, up_block_types=("CrossAttnUpBlock2D", "UpBlock2D")
    )
    vae = _sd_vae()
    pipe = StableDiffusionImg2ImgPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(_clip_config()),
        tokenizer=_tokenizer(),
        unet=unet,
        scheduler=EulerDiscreteScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(folder)
    if controlnet:
        net = ControlNetModel(
            **_unet_config(), conditioning_embedding_out_channels=(16, 32)
        )  # 2x down, as the VAE
        for p in net.parameters():  # zero-initialised outputs would make any weight a no-op
            torch.nn.init.normal_(p, std=0.05)
        net.save_pretrained(folder / "controlnet")
    return folder


def sd3(folder: Path) -> Path:
    from diffusers import (
        AutoencoderKL,
        FlowMatchEulerDiscreteScheduler,
        SD3Transformer2DModel,
        StableDiffusion3Img2ImgPipeline,
    )
    from transformers import CLIPTextModelWithProjection

    torch.manual_seed(0)
    transformer = SD3Transformer2DModel(
        sample_size=32,
        patch_size=1,
        in_channels=4,
        num_layers=1,
        attention_head_dim=8,
        num_attention_heads=4,
        joint_attention_dim=32,
        caption_projection_dim=32,
        pooled_projection_dim=64,
        out_channels=4,
    )
    vae = AutoencoderKL(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(4, 8),
        down_block_types=["DownEncoderBlock2D"] * 2,
        up_block_types=["UpDecoderBlock2D"] * 2,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=1,
        use_quant_conv=False,
        use_post_quant_conv=False,
        shift_factor=0.0609,
        scaling_factor=1.5035,
    )
    clip = _clip_config(hidden_act="gelu", projection_dim=32)
    pipe = StableDiffusion3Img2ImgPipeline(
        transformer=transformer,
        scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0),
        vae=vae,
        text_encoder=CLIPTextModelWithProjection(clip),
        tokenizer=_tokenizer(),
        text_encoder_2=CLIPTextModelWithProjection(clip),
        tokenizer_2=_tokenizer(),
        text_encoder_3=None,
        tokenizer_3=None,
    )
    pipe.save_pretrained(folder)
    return folder


def sdxl(folder: Path) -> Path:
    from diffusers import (
        EulerDiscreteScheduler,
        StableDiffusionXLImg2ImgPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    torch.manual_seed(0)
    unet = UNet2DConditionModel(
        **{**_unet_config(), "cross_attention_dim": 64},  # both text encoders' states, concatenated
        sample_size=16,
        out_channels=4,
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=(2, 4),
        use_linear_projection=True,
        addition_embed_type="text_time",
        addition_time_embed_dim=8,
        transformer_layers_per_block=(1, 2),
        projection_class_embeddings_input_dim=80,  # 6 size ids x 8 + the 32-wide pooled embedding
    )
    vae = _sd_vae()
    pipe = StableDiffusionXLImg2ImgPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(_clip_config()),
        tokenizer=_tokenizer(),
        text_encoder_2=CLIPTextModelWithProjection(_clip_config(projection_dim=32)),
        tokenizer_2=_tokenizer(),
        unet=unet,
        scheduler=EulerDiscreteScheduler(),
        requires_aesthetics_score=False,
    )
    pipe.save_pretrained(folder)
    return folder
