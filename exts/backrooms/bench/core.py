"""Measurements, the machine they were taken on, and how they are printed."""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from backrooms.warp_start import start_warp


@dataclass(frozen=True)
class Measurement:
    area: str
    name: str
    value: float
    unit: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def targets(device: str) -> tuple[bool, bool]:
    """(measure on the CPU, measure on CUDA) for ``bench --device auto|cpu|cuda``.

    ``auto`` is the CPU plus CUDA where Warp sees a device; ``cuda`` is CUDA alone (what
    ``make gpu-check`` runs in its few minutes of a lent GPU).
    """
    return device != "cuda", device == "cuda" or (device == "auto" and cuda_available())


def cuda_available() -> bool:
    import warp as wp

    start_warp()
    return wp.is_cuda_available()


def best_of(fn: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` wall-clock timings of ``fn()``, in seconds (warm runs)."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        fn()
        times.append(time.perf_counter() - began)
    return min(times)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }
    try:
        import warp as wp

        start_warp()
        info["warp"] = wp.config.version
        info["cuda_devices"] = (
            [wp.get_device(d).name for d in wp.get_cuda_devices()] if wp.is_cuda_available() else []
        )
    except Exception as exc:  # the table should still print when warp is broken
        info["warp"] = f"unavailable ({exc})"
    try:  # the vector units torch's kernels run on; bfloat16 units: the denoiser's convolutions in it
        import torch

        from backrooms.diffusion.backends.torch_backend import bfloat16_units

        info["torch"] = torch.__version__
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
        info["bfloat16_units"] = bfloat16_units()
    except Exception as exc:
        info["torch"] = f"unavailable ({exc})"
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def format_table(results: list[Measurement]) -> str:
    rows = [("AREA", "BENCHMARK", "VALUE", "UNIT", "NOTE")]
    rows += [(m.area, m.name, f"{m.value:,.4g}", m.unit, m.note) for m in results]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[4] for r in rows
    )
