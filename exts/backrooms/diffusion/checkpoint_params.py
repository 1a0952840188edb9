"""Knobs of the diffusion node that only a user's diffusers checkpoint reads (ControlNet, LoRA)."""

from pathlib import Path

from backrooms.params import declare

NODE = "diffusion"


def _lora_exists(path: str) -> None:
    """The registry's check for ``diffusion.lora``: refused at the door, not in the frame loop. Only
    safetensors: diffusers would unpickle any other file (or a folder without one)."""
    if not path:
        return
    found = Path(path).expanduser()
    if not found.exists():
        raise ValueError(f"no LoRA file or folder {path[:80]!r}")
    if found.suffix != ".safetensors" if found.is_file() else not any(found.glob("*.safetensors")):
        raise ValueError(f"{path[:80]!r} holds no .safetensors LoRA (weights are never unpickled)")


declare(
    NODE,
    "control",
    0.0,
    "weight of the depth ControlNet fed the render's exact depth (checkpoint's controlnet/ folder)",
    min=0.0,
    max=2.0,
)
declare(
    NODE,
    "lora",
    "",
    "LoRA file or folder (from `backrooms tune`) applied to a diffusers checkpoint",
    check=_lora_exists,
)
declare(NODE, "lora_scale", 1.0, "strength of the LoRA (0 = off)", min=0.0, max=2.0)
