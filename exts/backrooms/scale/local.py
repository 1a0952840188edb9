"""The local engines: shards in this process (``--workers 1``), or in a pool of worker processes."""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool

from backrooms.errors import UserError
from backrooms.io.mp4 import EncodeAlong
from backrooms.scale.shard import ShardJob, plan_job, render_shard
from backrooms.warp_start import hush_warp, start_warp

PR_SET_PDEATHSIG = 1


class InProcessEngine:
    """Shards one after another in this process: the default, and what profilers want."""

    def __init__(self, shards: int | None = None) -> None:
        self.shards = shards or 1

    def run(self, job: ShardJob, frames: Sequence[int], encoder: EncodeAlong | None = None) -> None:
        """``encoder`` gets every frame as it is made (the shards are consecutive runs, in order)."""
        for shard in plan_job(job, frames, self.shards):
            render_shard(job, shard, encoder)


class ProcessPoolEngine:
    """One process per worker (spawned, never forked: CUDA and Warp do not survive a fork).

    Each worker gets its own share of the CPU cores (affinity and ``OMP_NUM_THREADS``), so workers
    whose nodes spread over all cores do not fight over them; with ``--device cuda`` worker i sees
    only GPU ``i mod count`` through ``CUDA_VISIBLE_DEVICES``. Workers die with the driver, so a
    killed render leaves nothing writing into its folder.
    """

    def __init__(self, workers: int, shards: int | None = None) -> None:
        self.workers = workers
        self.shards = shards or workers

    def run(self, job: ShardJob, frames: Sequence[int]) -> None:
        try:
            pickle.dumps(job)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise UserError(
                f"--workers {self.workers}: the render cannot be sent to workers ({exc})"
            ) from None
        context = multiprocessing.get_context("spawn")
        slots = context.Queue()
        for slot in zip(gpu_slots(job.recipe.device, self.workers), cpu_slots(self.workers), strict=True):
            slots.put(slot)
        with ProcessPoolExecutor(
            self.workers, mp_context=context, initializer=start_worker, initargs=(slots, os.getpid())
        ) as pool:
            futures = [pool.submit(render_shard, job, shard) for shard in plan_job(job, frames, self.shards)]
            try:
                finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
                for future in finished:
                    future.result()
            except BrokenProcessPool:
                stop_workers(pool)
                raise UserError(
                    f"{job.out}: a worker process died (out of memory?); its finished frames are kept, "
                    "run again with --resume"
                ) from None
            except BaseException:
                stop_workers(pool)
                raise


def stop_workers(pool: ProcessPoolExecutor) -> None:
    """Fail fast: drop queued shards and kill running ones (a resume redoes their unlogged frames)."""
    # Python 3.14 has pool.kill_workers(); before it the processes are only reachable here.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()


def gpu_slots(device: str, workers: int) -> list[str | None]:
    """The ``CUDA_VISIBLE_DEVICES`` value each worker gets (None: leave it alone)."""
    if device != "cuda":
        return [None] * workers
    import warp as wp

    start_warp()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    ids = visible.split(",") if visible else [str(i) for i in range(wp.get_cuda_device_count())]
    if not ids:
        raise UserError("--device cuda: no CUDA device is available on this machine")
    return [ids[i % len(ids)] for i in range(workers)]


def cpu_slots(workers: int) -> list[list[int]]:
    """The cores each worker may use: equal, disjoint shares of this process's cores."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if not cores:
        return [[] for _ in range(workers)]
    if workers >= len(cores):
        return [[cores[i % len(cores)]] for i in range(workers)]
    return [cores[len(cores) * i // workers : len(cores) * (i + 1) // workers] for i in range(workers)]


def start_worker(slots: multiprocessing.Queue, driver: int) -> None:
    """Worker initializer: die with the driver, then take this worker's cores and GPU.

    This runs before the nodes load, so thread pools size themselves to the share and CUDA starts on
    the right GPU.
    """
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != driver:
            os._exit(1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the driver's stdout carries results (--json)
    hush_warp()
    gpu, cores = slots.get()
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    if cores:
        os.sched_setaffinity(0, cores)
        os.environ["OMP_NUM_THREADS"] = str(len(cores))
