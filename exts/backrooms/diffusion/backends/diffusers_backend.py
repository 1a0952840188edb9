"""A user's local diffusers checkpoint (SD 1.x/2.x/Turbo, SDXL/Turbo, SD3/3.5) stylising in latent space.

Loaded strictly offline: ``HF_HUB_OFFLINE=1`` and ``local_files_only=True``; the folder is the
user's, nothing is downloaded. Per generated frame, in the checkpoint's latent space:

1. Encode the render with the VAE (its mean: no sampling).
2. Warp the last output latent along the renderer's exact motion vectors resampled to the latent
   grid; start from it where the surface was visible (the node's trust, min-pooled per cell), from
   the encoded render elsewhere.
3. Turn the node's pixel noise (fresh, or warped along the motion) into Gaussian latent noise
   (:mod:`backrooms.diffusion.noise_warp`).
4. Noise the start to ``strength`` and run ``steps`` predict-clean / re-noise steps with that same
   noise (:class:`~backrooms.diffusion.latent.LatentSchedule`), optionally guided by a depth
   ControlNet fed the render's exact depth. After each step the predicted clean latent is fused
   with the warped memory by the same trust (a checkpoint, unlike our denoiser, never learned to
   keep its memory; Rerender-A-Video fuses warped latents the same way); the result is the next
   frame's memory.
5. Decode.

The node calls :meth:`DiffusersStylizer.follow` on frames the model skips (keyframe interval > 1)
so the latent memory keeps up with the camera, and :meth:`apply` with its knobs every frame.
No classifier-free guidance: distilled checkpoints (Turbo, LCM, SD3.5 Large Turbo) are the ones
that work in 1-4 steps.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors import SafetensorError
from torch.nn import functional as F

from backrooms.diffusion.latent import LatentSchedule, latent_valid, warp_latent
from backrooms.diffusion.noise_warp import latent_noise
from backrooms.diffusion.pipeline import FrameInputs
from backrooms.errors import UserError

CONTROLNET_FOLDER = "controlnet"
LORA_ADAPTER = "backrooms"


def control_depth(depth: torch.Tensor) -> torch.Tensor:
    """The node's depth plane 1 / (1 + d) (0 = miss) -> what depth ControlNets were trained on:
    relative inverse depth (MiDaS-style), min-max normalised per frame to [0, 1] (near = 1, misses
    = 0), as a 3-channel image (N, 3, H, W)."""
    hit = depth > 0
    inverse = torch.where(hit, depth / (1.0 - depth).clamp(min=1e-6), torch.zeros_like(depth))
    if bool(hit.any()):
        lo = inverse[hit].min()
        hi = inverse[hit].max()
        inverse = torch.where(hit, (inverse - lo) / (hi - lo).clamp(min=1e-6), inverse)
    return inverse.clamp(0.0, 1.0).expand(-1, 3, -1, -1)


def _dropped_encoders(folder: Path) -> dict:
    """SD3 runs without its T5 encoder (4.7 GB in fp16) when the folder leaves it out."""
    index = json.loads((folder / "model_index.json").read_text())
    if (
        index.get("_class_name", "").startswith("StableDiffusion3")
        and not (folder / "text_encoder_3").is_dir()
    ):
        return {"text_encoder_3": None, "tokenizer_3": None}
    return {}


class DiffusersStylizer:
    def __init__(self, folder: Path, prompt: str = "", device: str = "cpu") -> None:
        os.environ["HF_HUB_OFFLINE"] = "1"
        from diffusers import AutoPipelineForImage2Image

        folder = Path(folder)
        if not (folder / "model_index.json").is_file():
            raise UserError(f"{folder}: not a diffusers checkpoint folder (no model_index.json)")
        self.dtype = torch.float16 if device == "cuda" else torch.float32
        try:
            self.pipe = AutoPipelineForImage2Image.from_pretrained(
                str(folder),
                torch_dtype=self.dtype,
                local_files_only=True,
                use_safetensors=True,  # a component in .bin only is refused, never unpickled
                **_dropped_encoders(folder),
            )
        except (OSError, ValueError, KeyError, SafetensorError) as error:
            raise UserError(f"{folder}: cannot load the diffusers checkpoint ({error})") from None
        self.pipe.to(device)
        self.pipe.set_progress_bar_config(disable=True)
        self.device = torch.device(device)
        self.denoiser = getattr(self.pipe, "unet", None) or self.pipe.transformer
        self.controlnet = self._controlnet(folder)
        if self.device.type == "cuda":  # SDPA attention is diffusers' default on torch 2
            for module in (self.denoiser, self.pipe.vae, self.controlnet):
                if module is not None:
                    module.to(memory_format=torch.channels_last)
        self.schedule = LatentSchedule.from_scheduler(self.pipe.scheduler)
        self.factor = int(getattr(self.pipe, "vae_scale_factor", 8))
        # latents are ``factor`` smaller and the UNet halves them up to three more times
        self.multiple = self.factor * 8
        self.channels = int(self.denoiser.config.in_channels)
        self.cond = self._encode_prompt(prompt)
        self.control = 0.0
        self.lora: tuple[str, float] = ("", 0.0)
        self.memory: torch.Tensor | None = None  # last clean latent

    # -- loading -------------------------------------------------------------------------------

    def _controlnet(self, folder: Path):
        controlnet = getattr(self.pipe, "controlnet", None)
        path = folder / CONTROLNET_FOLDER
        if controlnet is None and (path / "config.json").is_file():
            if not hasattr(self.pipe, "unet"):
                raise UserError(f"{path}: depth ControlNets are supported for UNet checkpoints only")
            from diffusers import ControlNetModel

            try:
                controlnet = ControlNetModel.from_pretrained(
                    str(path), torch_dtype=self.dtype, local_files_only=True, use_safetensors=True
                )
            except (OSError, ValueError, SafetensorError) as error:
                raise UserError(f"{path}: cannot load the ControlNet ({error})") from None
        return None if controlnet is None else controlnet.to(self.device)

    @torch.no_grad()
    def _encode_prompt(self, prompt: str) -> dict:
        pipe, device = self.pipe, self.device
        if hasattr(pipe, "transformer"):  # SD3
            embeds, _, pooled, _ = pipe.encode_prompt(
                prompt=prompt, prompt_2=None, prompt_3=None, device=device, do_classifier_free_guidance=False
            )
            return {"encoder_hidden_states": embeds, "pooled_projections": pooled}
        if getattr(pipe, "text_encoder_2", None) is not None:  # SDXL
            embeds, _, pooled, _ = pipe.encode_prompt(
                prompt=prompt, device=device, num_images_per_prompt=1, do_classifier_free_guidance=False
            )
            return {"encoder_hidden_states": embeds, "text_embeds": pooled}
        embeds, _ = pipe.encode_prompt(prompt, device, 1, False)
        return {"encoder_hidden_states": embeds}

    def apply(self, knobs: dict) -> None:
        """The node's checkpoint-only knobs: ControlNet weight, LoRA file and scale."""
        self.control = float(knobs.get("control", 0.0))
        lora = (str(knobs.get("lora", "")), float(knobs.get("lora_scale", 1.0)))
        if lora == self.lora:
            return
        if lora[0] != self.lora[0]:
            if self.lora[0]:
                self.pipe.unload_lora_weights()
            if lora[0]:
                self._load_lora(Path(lora[0]))
        if lora[0]:
            self.pipe.set_adapters([LORA_ADAPTER], adapter_weights=[lora[1]])
        self.lora = lora

    def _load_lora(self, path: Path) -> None:
        path = path.expanduser()
        folder, name = (path, None) if path.is_dir() else (path.parent, path.name)
        if not path.exists():
            raise UserError(f"diffusion.lora: {path} does not exist")
        try:
            self.pipe.load_lora_weights(
                str(folder),
                weight_name=name,
                adapter_name=LORA_ADAPTER,
                local_files_only=True,
                use_safetensors=True,  # no fall-back to unpickling a .bin
            )
        except (OSError, ValueError, KeyError, SafetensorError) as error:
            raise UserError(f"diffusion.lora: {path}: not a LoRA for this checkpoint ({error})") from None

    # -- per frame -----------------------------------------------------------------------------

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        """[-1, 1] image -> scaled latent (the posterior mean)."""
        vae = self.pipe.vae
        out = vae.encode(image.to(self.device, self.dtype))
        latent = out.latent_dist.mode() if hasattr(out, "latent_dist") else out.latents
        shift = getattr(vae.config, "shift_factor", None) or 0.0
        return (latent - shift) * vae.config.scaling_factor

    def decode(self, latent: torch.Tensor) -> torch.Tensor:
        vae = self.pipe.vae
        shift = getattr(vae.config, "shift_factor", None) or 0.0
        return vae.decode(latent / vae.config.scaling_factor + shift).sample

    def predict(self, x_t: torch.Tensor, level: float, depth: torch.Tensor | None) -> torch.Tensor:
        """The denoiser's raw output at ``level`` (epsilon / v / velocity, per the checkpoint)."""
        t = torch.full((x_t.shape[0],), self.schedule.timestep(level), device=self.device, dtype=self.dtype)
        cond = {k: v.expand(x_t.shape[0], *v.shape[1:]) for k, v in self.cond.items()}
        if "pooled_projections" in cond:  # SD3 transformer
            return self.denoiser(hidden_states=x_t, timestep=t, return_dict=False, **cond)[0]
        kwargs: dict = {"encoder_hidden_states": cond["encoder_hidden_states"]}
        if "text_embeds" in cond:  # SDXL: original size, crop, target size
            h, w = (s * self.factor for s in x_t.shape[-2:])
            ids = torch.tensor([[h, w, 0, 0, h, w]], device=self.device, dtype=self.dtype)
            kwargs["added_cond_kwargs"] = {"text_embeds": cond["text_embeds"], "time_ids": ids}
        if self.controlnet is not None and self.control > 0 and depth is not None:
            down, mid = self.controlnet(
                x_t,
                t,
                controlnet_cond=control_depth(depth).to(self.device, self.dtype),
                conditioning_scale=self.control,
                return_dict=False,
                **kwargs,
            )
            kwargs["down_block_additional_residuals"] = down
            kwargs["mid_block_additional_residual"] = mid
        return self.denoiser(x_t, t, return_dict=False, **kwargs)[0]

    @torch.no_grad()
    def follow(self, motion: torch.Tensor) -> None:
        """Carry the latent memory one frame along ``motion`` (a frame the model skips)."""
        if self.memory is not None:
            self.memory = warp_latent(self.memory, self._fit(motion), self.factor)

    def _fit(self, plane: torch.Tensor) -> torch.Tensor:
        """A pixel plane padded (edge-replicated) to the memory's pixel size."""
        h, w = (s * self.factor for s in self.memory.shape[-2:])
        plane = plane.to(self.device, self.dtype)
        return F.pad(plane, (0, w - plane.shape[-1], 0, h - plane.shape[-2]), mode="replicate")

    @torch.no_grad()
    def __call__(self, inputs: FrameInputs, noise: torch.Tensor, strength: float, steps: int) -> torch.Tensor:
        start = self.encode(inputs.render)
        if self.memory is not None and self.memory.shape != start.shape:
            self.memory = None
        trust = previous = None
        if self.memory is not None and inputs.motion is not None and bool(inputs.valid.any()):
            trust = latent_valid(inputs.valid.to(self.device, self.dtype), self.factor)
            previous = warp_latent(self.memory, inputs.motion.to(self.device, self.dtype), self.factor)
            start = trust * previous + (1.0 - trust) * start
        eps = latent_noise(noise.float(), self.factor, self.channels).to(self.device, self.dtype)
        x0 = start
        for level in self.schedule.levels(steps, min(max(strength, 0.0), 1.0)):
            x_t = self.schedule.add_noise(x0, eps, level)
            x0 = self.schedule.clean(x_t, self.predict(x_t, level, inputs.depth), level)
            if trust is not None:  # fuse with the memory: the checkpoint never learned to keep it
                x0 = trust * previous + (1.0 - trust) * x0
        self.memory = x0
        image = self.decode(x0)
        return image.to(inputs.render.device, inputs.render.dtype).clamp(-1.0, 1.0)
