"""The denoiser on torch (CPU or CUDA): inference mode, channels-last after the stem, fp16 on CUDA,
bfloat16 convolutions on a CPU that multiplies bfloat16 natively."""

from __future__ import annotations

import torch

from backrooms.diffusion.model import Denoiser


def bfloat16_units() -> str:
    """The CPU's units that multiply bfloat16 natively, which oneDNN's bfloat16 convolutions run on:
    "AMX" (Sapphire Rapids and later Xeons), "AVX-512 BF16" (AMD Zen 4 and later, Cooper Lake), or
    "" where there are none and bfloat16 is emulated, slower than float32."""
    for units, probe in (("AMX", "_is_amx_tile_supported"), ("AVX-512 BF16", "_is_avx512_bf16_supported")):
        supported = getattr(torch.cpu, probe, None)
        if supported is not None and supported():
            return units
    return ""


class TorchDenoiser:
    """``planes -> x0`` on ``device``. ``bfloat16`` (None: where the CPU has ``bfloat16_units``, never
    on CUDA, which runs the whole network in float16) runs the convolutions under bfloat16 autocast:
    on the 2-core Xeon's AMX the shipped network at 320x240 on one thread took 9.1 ms instead of
    13.7 (640x480: 37 instead of 58), and through the graph on a held-out walk the frames moved by
    0.03/255 on average (2/255 at most; SSIM within 0.00002, the same warping error); on the 2-core
    AMD EPYC's AVX-512 BF16, 9.8 instead of 14.1 (640x480: 37 instead of 58). The full-resolution
    filtering of the start image stays float32 (its operands are)."""

    def __init__(self, model: Denoiser, device: str = "cpu", bfloat16: bool | None = None) -> None:
        self.device = torch.device(device)
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.bfloat16 = self.device.type == "cpu" and (
            bool(bfloat16_units()) if bfloat16 is None else bfloat16
        )
        self.model = model.to(self.device, self.dtype).eval().to(memory_format=torch.channels_last)
        # The stacked planes stay planar: the stem reads them as they are and its (16x smaller)
        # output goes channels-last, instead of a channels-last copy of the 15 full-resolution
        # planes (about 1 ms of 18 at 320x240 on a CPU core, interleaved runs; the same output).
        self.model.stem.to(memory_format=torch.contiguous_format)
        self.multiple = model.multiple

    def __call__(self, planes: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            x = planes.to(self.device, self.dtype).contiguous()
            return self.model(x).to(planes.dtype).contiguous()
