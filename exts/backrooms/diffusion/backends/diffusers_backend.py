"""A user's local diffusers checkpoint (SD-Turbo, Stable Diffusion 3, ...) as frame img2img.

Loaded strictly offline: ``HF_HUB_OFFLINE=1`` and ``local_files_only=True``; the folder is the
user's, nothing is downloaded. Temporal coherence comes from the node's start image (memory where
valid, render elsewhere) and a fixed per-clip seed; the noise itself is the pipeline's own, so
it is not warped (our shipped denoiser does warp it).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import torch

from backrooms.diffusion.pipeline import FrameInputs
from backrooms.errors import UserError


class DiffusersStylizer:
    def __init__(self, folder: Path, prompt: str = "", device: str = "cpu", seed: int = 0) -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        from diffusers import AutoPipelineForImage2Image

        if not (Path(folder) / "model_index.json").is_file():
            raise UserError(f"{folder}: not a diffusers checkpoint folder (no model_index.json)")
        dtype = torch.float16 if device == "cuda" else torch.float32
        self.pipe = AutoPipelineForImage2Image.from_pretrained(
            str(folder), torch_dtype=dtype, local_files_only=True
        )
        self.pipe.to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.device = device
        self.prompt = prompt
        self.seed = seed
        # latents are vae_scale_factor smaller and the UNet halves them up to three more times
        self.multiple = int(getattr(self.pipe, "vae_scale_factor", 8)) * 8

    def __call__(self, inputs: FrameInputs, noise: torch.Tensor, strength: float, steps: int) -> torch.Tensor:
        strength = min(max(strength, 0.01), 1.0)
        start = ((inputs.start() + 1.0) / 2.0).clamp(0.0, 1.0)
        generator = torch.Generator(device="cpu").manual_seed(self.seed)
        result = self.pipe(
            prompt=self.prompt,
            image=start.to(self.device),
            strength=strength,
            # img2img runs int(num_inference_steps * strength) steps: ask for enough to run ``steps``
            num_inference_steps=max(steps, math.ceil(steps / strength)),
            guidance_scale=0.0,
            generator=generator,
            output_type="pt",
        ).images
        return (result.to(inputs.render.device, inputs.render.dtype) * 2.0 - 1.0).clamp(-1.0, 1.0)
