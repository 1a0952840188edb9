"""Where the denoiser runs. Every backend is a callable ``planes -> x0`` (see ``pipeline.Denoise``),
except the diffusers backend, which stylises whole frames (see ``pipeline.Stylizer``).

``load_stylizer`` picks and builds one from a folder: a folder with ``model_index.json`` is a user's
diffusers checkpoint, a folder with ``config.json`` + ``model.safetensors`` is our denoiser.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from backrooms.diffusion.model import Denoiser
from backrooms.diffusion.params import BACKENDS
from backrooms.diffusion.pipeline import StylisePipeline, Stylizer
from backrooms.diffusion.styles import WEIGHTS_NAME
from backrooms.errors import UserError


def load_stylizer(folder: Path, backend: str, device: str, prompt: str = "") -> Stylizer:
    """The stylizer for ``folder`` on ``backend`` ("auto": TensorRT if importable on CUDA, else torch)."""
    if (folder / "model_index.json").is_file():
        from backrooms.diffusion.backends.diffusers_backend import DiffusersStylizer

        return DiffusersStylizer(folder, prompt=prompt, device=device)
    model = Denoiser.from_pretrained(folder, device="cpu")
    if backend == "auto":
        from backrooms.diffusion.backends.tensorrt_backend import tensorrt_available

        backend = "tensorrt" if device == "cuda" and tensorrt_available() else "torch"
    if backend == "torch":
        from backrooms.diffusion.backends.torch_backend import TorchDenoiser

        return StylisePipeline(TorchDenoiser(model, device), model.multiple)
    if backend == "onnx":
        from backrooms.diffusion.backends.onnx_backend import OnnxDenoiser, export_onnx

        return StylisePipeline(
            OnnxDenoiser(export_onnx(model, _cache(folder) / "denoiser.onnx"), device), model.multiple
        )
    if backend == "tensorrt":
        from backrooms.diffusion.backends.onnx_backend import export_onnx
        from backrooms.diffusion.backends.tensorrt_backend import TensorRTDenoiser, require_tensorrt

        trt = require_tensorrt()
        onnx = export_onnx(model, _cache(folder) / "denoiser.onnx")
        return StylisePipeline(TensorRTDenoiser(onnx, trt, multiple=model.multiple), model.multiple)
    raise UserError(f"diffusion.backend: unknown backend {backend!r} (known: {', '.join(BACKENDS)})")


def _cache(folder: Path) -> Path:
    """Exported graphs live in the user's cache (never in the model folder), keyed by the weights."""
    digest = hashlib.blake2b((folder / WEIGHTS_NAME).read_bytes(), digest_size=12).hexdigest()
    path = Path.home() / ".cache" / "backrooms" / "diffusion" / digest
    path.mkdir(parents=True, exist_ok=True)
    return path
