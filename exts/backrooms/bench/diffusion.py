"""Diffusion node speed: the denoiser alone, the whole node per frame, keyframes, ONNX Runtime, CUDA,
and the model over a generated frame's newly seen strips on a fast turn."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import torch
import warp as wp

from backrooms.bench.core import Measurement, best_of, targets
from backrooms.diffusion.backends.onnx_backend import OnnxDenoiser, export_onnx
from backrooms.diffusion.backends.torch_backend import TorchDenoiser, bfloat16_units
from backrooms.diffusion.model import IN_CHANNELS, Denoiser, parameter_count
from backrooms.diffusion.node import DiffusionNode
from backrooms.diffusion.styles import DEFAULT_STYLE, models_dir
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DISOCCLUSION, MOTION_VECTORS, RGB, TRACED, RenderProduct
from backrooms.params import ParamStore

AREA = "diffusion"
TURN = range(331, 358)  # world 0 turns fast here (about 7 degrees a frame) and bobs: strips on three borders


def _style(tmp: Path) -> tuple[str, str]:
    """The shipped model if present, else an untrained one of the default size (same cost)."""
    shipped = models_dir() / DEFAULT_STYLE
    if (shipped / "model.safetensors").is_file():
        return str(shipped), "shipped weights"
    return str(Denoiser().save_pretrained(tmp / "untrained")), "untrained default-size model"


def _node_seconds(style: str, width: int, height: int, device: str, frames: int, **values) -> float:
    """Mean seconds per frame of the node over ``frames`` frames after one warm-up frame."""
    node = DiffusionNode(GraphContext(0, width, height, 24.0, device))
    params = ParamStore(values={"diffusion.style": style, **{f"diffusion.{k}": v for k, v in values.items()}})
    snap = params.snapshot()
    buffers: dict = {}
    generator = torch.Generator().manual_seed(0)
    image = torch.randint(0, 256, (height, width, 4), generator=generator, dtype=torch.uint8)
    with wp.ScopedDevice(device):

        def frame(i: int) -> None:
            product = RenderProduct(i, width, height, device, buffers)
            wp.to_torch(product.allocate(RGB)).copy_(image)
            wp.to_torch(product.allocate(MOTION_VECTORS))[..., 0] = 1.5
            product.allocate(DISOCCLUSION)
            node.process(product, snap)

        frame(0)
        total = sum(best_of(lambda i=i: frame(i), repeats=1) for i in range(1, frames + 1))
    return total / frames


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    on_cpu, on_cuda = targets(device)
    frames = 4 if quick else 24
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        style, what = _style(Path(tmp))
        if on_cpu:
            results += _cpu(style, what, Path(tmp), frames)
        if on_cuda:
            torch.cuda.reset_peak_memory_stats()
            held = torch.cuda.memory_allocated()  # what earlier areas of this process still hold
            seconds = _node_seconds(style, 720, 480, "cuda", frames * 4)
            results.append(Measurement(AREA, "node 720x480 cuda steps=1", seconds * 1e3, "ms/frame"))
            peak = (torch.cuda.max_memory_allocated() - held) / 2**20
            note = f"above the {held / 2**20:.0f} MiB held before it"
            results.append(Measurement(AREA, "node 720x480 cuda peak torch memory", peak, "MiB", note))
    return results


def _cpu(style: str, what: str, tmp: Path, frames: int) -> list[Measurement]:
    results = []
    model = Denoiser.from_pretrained(style)
    results.append(Measurement(AREA, "denoiser parameters", parameter_count(model), "", what))
    planes = torch.randn(1, IN_CHANNELS, 240, 320)
    torch_denoiser = TorchDenoiser(model)
    torch_denoiser(planes)
    precision = f"bfloat16 convolutions ({bfloat16_units()})" if torch_denoiser.bfloat16 else "float32"
    seconds = best_of(lambda: torch_denoiser(planes), 3)
    results.append(Measurement(AREA, "denoiser 320x240 torch cpu", seconds * 1e3, "ms", precision))
    onnx = OnnxDenoiser(export_onnx(model, tmp / "d.onnx"))
    onnx(planes)
    results.append(
        Measurement(AREA, "denoiser 320x240 onnxruntime cpu", best_of(lambda: onnx(planes), 3) * 1e3, "ms")
    )
    for steps, k in ((1, 1), (2, 1), (1, 2), (1, 4)):
        seconds = _node_seconds(style, 320, 240, "cpu", frames, steps=steps, keyframe_interval=k)
        results.append(
            Measurement(AREA, f"node 320x240 cpu steps={steps} keyframes={k}", seconds * 1e3, "ms/frame")
        )
    seconds = _node_seconds(style, 320, 240, "cpu", frames, strength=0.0)
    note = "the render reconstructed, no model"
    results.append(Measurement(AREA, "node 320x240 cpu strength=0", seconds * 1e3, "ms/frame", note))
    size, turn = ((96, 72), TURN[-6:]) if frames < 24 else ((320, 240), TURN)
    seconds, share = _strip_seconds(style, *size, turn)
    label = f"node {size[0]}x{size[1]} cpu newly seen strips on a turn"
    note = f"per generated frame, defaults, world 0 frames {turn[0]}-{turn[-1]}; strips {100 * share:.1f} %"
    results.append(Measurement(AREA, label, seconds * 1e3, "ms/frame", note))
    return results


def _strip_seconds(style: str, width: int, height: int, frames: range) -> tuple[float, float]:
    """Mean seconds the node spends on a generated frame's newly seen strips (the model over a
    window per border, ``DiffusionNode._fill_traced``) over ``frames`` of world 0 at the defaults,
    and the mean share of a generated frame's pixels the strips hold."""
    snapshot = ParamStore(values={"diffusion.style": style}).snapshot()
    context = GraphContext(0, width, height, 24.0, "cpu")
    executor = Executor(("render", "diffusion"), context, lambda _f: snapshot, pipeline=False)
    node = executor.nodes[1]
    fill = node._fill_traced
    spent: list[tuple[float, float]] = []

    def timed(product: RenderProduct, p: dict) -> None:
        began = time.perf_counter()
        fill(product, p)
        if product.frame in frames:  # not the replay from the memory's reset point before them
            traced = product.meta.get("uncovered") is not None and TRACED in product
            share = float(wp.to_torch(product[TRACED]).float().mean()) if traced else 0.0
            spent.append((time.perf_counter() - began, share))

    node._fill_traced = timed
    for f in frames:
        executor.render(f)
    executor.close()
    return sum(t for t, _ in spent) / len(spent), sum(s for _, s in spent) / len(spent)
