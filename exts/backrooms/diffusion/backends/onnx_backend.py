"""ONNX export of the denoiser, run by onnxruntime (CPU, or CUDA with zero-copy IO binding)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from backrooms.diffusion.model import IN_CHANNELS, Denoiser

INPUT_NAME = "planes"
OUTPUT_NAME = "x0"
OPSET = 17


def export_onnx(model: Denoiser, path: Path, height: int = 64, width: int = 64) -> Path:
    """Write ``path`` with dynamic batch, height and width (sides must stay multiples of model.multiple)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.zeros(1, IN_CHANNELS, height, width)
    model = model.to("cpu", torch.float32).eval()
    dims = {0: "batch", 2: "height", 3: "width"}
    # The TorchScript exporter handles dynamic H/W without onnxscript; torch flags it as legacy, and
    # says (once per slice) that it cannot fold the model's strided slices: neither is the user's.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", "Constant folding", UserWarning)
        torch.onnx.export(
            model,
            (example,),
            str(path),
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: dims, OUTPUT_NAME: dims},
            opset_version=OPSET,
            dynamo=False,
        )
    return path


class OnnxDenoiser:
    """``planes -> x0`` through an onnxruntime session."""

    def __init__(self, path: Path, device: str = "cpu", threads: int = 0) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        providers = (
            ["CUDAExecutionProvider", "CPUExecutionProvider"]
            if device == "cuda"
            else ["CPUExecutionProvider"]
        )
        available = set(ort.get_available_providers())
        self.session = ort.InferenceSession(
            str(path), options, providers=[p for p in providers if p in available]
        )
        self.on_cuda = "CUDAExecutionProvider" in self.session.get_providers()

    def __call__(self, planes: torch.Tensor) -> torch.Tensor:
        if self.on_cuda and planes.is_cuda:
            return self._run_bound(planes)
        x = planes.detach().to("cpu", torch.float32).contiguous().numpy()
        (out,) = self.session.run([OUTPUT_NAME], {INPUT_NAME: x})
        return torch.from_numpy(np.ascontiguousarray(out)).to(planes.device)

    def _run_bound(self, planes: torch.Tensor) -> torch.Tensor:
        """CUDA tensors in and out by pointer: no host round trip."""
        x = planes.to(torch.float32).contiguous()
        out = torch.empty((x.shape[0], 3, x.shape[2], x.shape[3]), dtype=torch.float32, device=x.device)
        binding = self.session.io_binding()
        index = x.device.index or 0
        binding.bind_input(INPUT_NAME, "cuda", index, np.float32, tuple(x.shape), x.data_ptr())
        binding.bind_output(OUTPUT_NAME, "cuda", index, np.float32, tuple(out.shape), out.data_ptr())
        self.session.run_with_iobinding(binding)
        return out
