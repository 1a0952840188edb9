"""Warp launches split into bands that run at once on the CPU, one rule for how many.

A Warp CPU launch runs on one thread and releases the GIL, so a stage split into bands launched from
a small thread pool uses every core (the renderer's interleaved rows, the tape's bands of lines). On
CUDA, or with one band, the launches simply run in order on the calling thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import warp as wp


def cpu_cores() -> int:
    """Cores this process may use: its CPU affinity where the OS has one (a farm worker's share)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Bands:
    """A pool of ``count`` launch threads on the CPU (one per usable core by default), none on CUDA."""

    def __init__(self, device: str, count: int | None = None, name: str = "warp") -> None:
        self.device = device
        self.count = max(1, count or cpu_cores()) if wp.get_device(device).is_cpu else 1
        self._pool = ThreadPoolExecutor(self.count, thread_name_prefix=name) if self.count > 1 else None

    def launch(self, kernel: wp.Kernel, launches: Iterable[tuple[Any, Sequence]], outputs: list) -> None:
        """Launch ``kernel`` once per ``(dim, inputs)``, all at once on the CPU; returns when all are done."""
        if self._pool is None:
            for dim, inputs in launches:
                wp.launch(kernel, dim, list(inputs), outputs, device=self.device)
            return
        jobs = [
            self._pool.submit(wp.launch, kernel, dim, list(inputs), outputs, device=self.device)
            for dim, inputs in launches
        ]
        for job in jobs:
            job.result()
