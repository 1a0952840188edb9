"""Warp launches split into bands that run at once on the CPU, one rule for how many.

A Warp CPU launch runs on one thread and releases the GIL, so a stage split into bands launched from
a small thread pool uses every core (the renderer's interleaved rows, the tape's bands of lines). On
CUDA, or with one band, the launches simply run in order on the calling thread, as they do on a
thread inside ``one_band``: there other threads keep the cores busy already (``graph.executor``
runs the nodes after the render that way while the next frame is traced).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import warp as wp

# How much lower the render's trace runs than the rest of the graph: it is traced ahead of the frame
# being finished (``graph.executor``), so when the two compete for a core the frame due next goes
# first and the trace takes what is left. At 320x240 with diffusion.generate 2 and render.scale 0.5
# the diffusion node's stage shared the cores with the trace's two band threads and ran 1.6x its
# serial time; streamed, the chain went from 18.7 to 20.0 fps (medians of 7, 2-core EPYC).
TRACE_NICE = 10


def lower_priority(nice: int) -> None:
    """Lower the calling thread's scheduling priority by ``nice`` (on Linux, where the nice value
    belongs to each thread; elsewhere it would lower the whole process, so nothing is done)."""
    if nice and sys.platform.startswith("linux"):
        thread = threading.get_native_id()
        with contextlib.suppress(OSError):  # a sandbox that forbids it: not worth a failed pool
            os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + nice)


class _Here(threading.local):
    one_band = False  # inside ``one_band`` on this thread


_here = _Here()


@contextlib.contextmanager
def one_band() -> Iterator[None]:
    """Within it, every ``Bands`` launch from this thread is one launch over all rows, here.

    For work that runs while other threads fill the cores (a streamed graph's stages, the nodes
    finishing a frame while the next is traced): in bands it would only hand rows to pool threads
    that wait for a core and then for each other. Paired runs against bands, 2-core Xeon, medians:
    the streamed chain at 320x240 with ``diffusion.generate`` 2 and ``render.scale`` 0.5 +4.5 %
    (640x480 +7 %), the default chain streamed +1 %, with the render traced ahead (``backrooms
    live``) +3.3 %. Same bytes: a band's rows do not depend on the others."""
    before, _here.one_band = _here.one_band, True
    try:
        yield
    finally:
        _here.one_band = before


def cpu_cores() -> int:
    """Cores this process may use: its CPU affinity where the OS has one (a farm worker's share)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Bands:
    """A pool of ``count`` launch threads on the CPU (one per usable core by default, never more than
    ``rows``: a band holds at least one row), none on CUDA; ``nice``: how much lower than the caller
    its threads run (see ``lower_priority``)."""

    def __init__(
        self,
        device: str,
        count: int | None = None,
        name: str = "warp",
        nice: int = 0,
        rows: int | None = None,
    ) -> None:
        self.device = device
        wanted = min(count or cpu_cores(), rows or cpu_cores())
        self.count = max(1, wanted) if wp.get_device(device).is_cpu else 1
        self._pool = (
            ThreadPoolExecutor(self.count, name, initializer=lower_priority, initargs=(nice,))
            if self.count > 1
            else None
        )

    def launch(self, kernel: wp.Kernel, launches: Iterable[tuple[Any, Sequence]], outputs: list) -> None:
        """Launch ``kernel`` once per ``(dim, inputs)``, all at once on the CPU (in order inside
        ``one_band``); returns when all are done."""
        if self._pool is None or _here.one_band:
            for dim, inputs in launches:
                wp.launch(kernel, dim, list(inputs), outputs, device=self.device)
            return
        jobs = [
            self._pool.submit(wp.launch, kernel, dim, list(inputs), outputs, device=self.device)
            for dim, inputs in launches
        ]
        for job in jobs:
            job.result()

    def launch_split(
        self, kernel: wp.Kernel, rows: int, inputs: Sequence, outputs: list, width: int | None = None
    ) -> None:
        """Launch ``kernel`` over ``rows`` (x ``width``) threads split into one band of consecutive
        rows per thread (one band inside ``one_band``); the kernel's last input is its band's first row."""
        count = 1 if _here.one_band else self.count
        cuts = [rows * b // count for b in range(count + 1)]
        launches = [
            ((hi - lo,) if width is None else (hi - lo, width), [*inputs, lo])
            for lo, hi in itertools.pairwise(cuts)
            if hi > lo
        ]
        self.launch(kernel, launches, outputs)
