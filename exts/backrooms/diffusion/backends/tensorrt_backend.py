"""TensorRT engine built from the ONNX export, run on torch CUDA tensors by pointer (no copies).

TensorRT cannot be installed on the project's CI machines (its PyPI packages are stubs that fetch
from NVIDIA's index), so the import is guarded and everything except the actual build/execute is
plain Python that the tests drive with a stand-in module.
Works with TensorRT 10 (weakly typed, FP16 by builder flag) and 11 (always strongly typed).
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

import torch

from backrooms.diffusion.backends.onnx_backend import INPUT_NAME, OUTPUT_NAME
from backrooms.diffusion.model import IN_CHANNELS
from backrooms.errors import UserError

try:  # pragma: no cover - depends on the machine
    import tensorrt as _trt
except ImportError:
    _trt = None


def tensorrt_available() -> bool:
    return _trt is not None and torch.cuda.is_available()


def require_tensorrt(trt: ModuleType | None = None) -> ModuleType:
    """The tensorrt module (``trt`` where a caller hands one in), or one line saying it is missing:
    asked before the ONNX export it would build from, so a machine without it exports nothing."""
    trt = trt or _trt
    if trt is None:
        raise UserError(
            "diffusion.backend=tensorrt: the tensorrt package is not installed (pip install tensorrt)"
        )
    return trt


def profile_shapes(height: int, width: int, smallest: int = 1, batch: int = 1) -> tuple[tuple[int, ...], ...]:
    """min / opt / max input shapes: the render size is the largest and the one the engine is tuned
    for; any size down to ``smallest`` a side also runs (the windows the diffusion node runs the
    model over on a generated frame), without a rebuild."""
    largest = (batch, IN_CHANNELS, height, width)
    return (batch, IN_CHANNELS, min(smallest, height), min(smallest, width)), largest, largest


def build_engine(
    onnx_path: Path,
    height: int,
    width: int,
    workspace: int = 1 << 30,
    trt: ModuleType | None = None,
    smallest: int = 1,
) -> bytes:
    """Parse the ONNX, add an optimisation profile up to the render size, return the serialised plan."""
    trt = require_tensorrt(trt)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse {onnx_path}: {errors}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace)
    if hasattr(trt.BuilderFlag, "FP16"):  # TensorRT 10; 11 is strongly typed and keeps the ONNX's types
        config.set_flag(trt.BuilderFlag.FP16)
    profile = builder.create_optimization_profile()
    profile.set_shape(INPUT_NAME, *profile_shapes(height, width, smallest))
    config.add_optimization_profile(profile)
    plan = builder.build_serialized_network(network, config)
    if plan is None:
        raise RuntimeError(f"TensorRT failed to build an engine from {onnx_path} for {width}x{height}")
    return bytes(plan)


class TensorRTDenoiser:
    """``planes -> x0`` on a TensorRT engine; built lazily for the frame's size, which it runs and
    every smaller one down to ``multiple`` (the model's size multiple) a side; rebuilt for a
    larger frame."""

    def __init__(self, onnx_path: Path, trt: ModuleType | None = None, multiple: int = 1) -> None:
        self.trt = require_tensorrt(trt)
        self.onnx_path = onnx_path
        self.multiple = multiple
        self._size: tuple[int, int] | None = None
        self._context: Any = None

    def _prepare(self, height: int, width: int) -> None:
        if self._size is not None and height <= self._size[0] and width <= self._size[1]:
            return
        plan = build_engine(self.onnx_path, height, width, trt=self.trt, smallest=self.multiple)
        runtime = self.trt.Runtime(self.trt.Logger(self.trt.Logger.WARNING))
        self._engine = runtime.deserialize_cuda_engine(plan)
        self._context = self._engine.create_execution_context()
        self._size = (height, width)

    def bind(self, planes: torch.Tensor, out: torch.Tensor) -> None:
        """Point the engine's I/O at the tensors' own memory (name-based API of TensorRT >= 10)."""
        self._context.set_input_shape(INPUT_NAME, tuple(planes.shape))
        self._context.set_tensor_address(INPUT_NAME, planes.data_ptr())
        self._context.set_tensor_address(OUTPUT_NAME, out.data_ptr())

    def __call__(self, planes: torch.Tensor) -> torch.Tensor:
        if not planes.is_cuda:
            raise UserError("diffusion.backend=tensorrt needs the cuda device (--device cuda)")
        x = planes.to(torch.float32).contiguous()
        self._prepare(x.shape[2], x.shape[3])
        out = torch.empty((x.shape[0], 3, x.shape[2], x.shape[3]), dtype=torch.float32, device=x.device)
        self.bind(x, out)
        stream = torch.cuda.current_stream(x.device)
        if not self._context.execute_async_v3(stream.cuda_stream):
            raise RuntimeError("TensorRT execution failed")
        return out
