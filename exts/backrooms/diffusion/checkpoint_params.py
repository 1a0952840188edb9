"""Knobs of the diffusion node that only a user's diffusers checkpoint reads (ControlNet, LoRA)."""

from backrooms.params import declare

NODE = "diffusion"

declare(
    NODE,
    "control",
    0.0,
    "weight of the depth ControlNet fed the render's exact depth (checkpoint's controlnet/ folder)",
    min=0.0,
    max=2.0,
)
declare(NODE, "lora", "", "LoRA file or folder (from `backrooms tune`) applied to a diffusers checkpoint")
declare(NODE, "lora_scale", 1.0, "strength of the LoRA (0 = off)", min=0.0, max=2.0)
