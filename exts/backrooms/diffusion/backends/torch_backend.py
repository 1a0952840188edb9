"""The denoiser on torch (CPU or CUDA): inference mode, channels-last, fp16 on CUDA."""

from __future__ import annotations

import torch

from backrooms.diffusion.model import Denoiser


class TorchDenoiser:
    def __init__(self, model: Denoiser, device: str = "cpu") -> None:
        self.device = torch.device(device)
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = model.to(self.device, self.dtype).eval().to(memory_format=torch.channels_last)
        self.multiple = model.multiple

    def __call__(self, planes: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            x = planes.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
            return self.model(x).to(planes.dtype).contiguous()
