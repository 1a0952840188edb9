"""The Ray engine: each shard is a Ray task, one GPU per task on a CUDA render, retried on failure.

Workers write straight into the output folder, so on a cluster of several machines ``--out`` must be
a folder every node sees at the same path (NFS, a mounted bucket), as on any render farm, and
backrooms must be installed on every node.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any

from backrooms.errors import UserError
from backrooms.scale.shard import ShardJob, plan_job, render_shard

# Transient failures worth another attempt (device faults, I/O, memory); a UserError is final.
RETRIED_EXCEPTIONS = [RuntimeError, OSError, MemoryError]
# Workers' prints stay in Ray's logs: the driver's stdout carries results (--json); errors still
# come back as exceptions with their traceback.
QUIET = {"include_dashboard": False, "logging_level": logging.WARNING, "log_to_driver": False}


class RayEngine:
    """Connects to ``address`` (or ``RAY_ADDRESS``, or starts a one-node cluster) unless Ray is up."""

    def __init__(self, address: str | None = None, shards: int | None = None, max_retries: int = 3) -> None:
        self.address = address
        self.shards = shards
        self.max_retries = max_retries

    def run(self, job: ShardJob, frames: Sequence[int]) -> None:
        import ray
        from ray.exceptions import RayTaskError

        started = not ray.is_initialized()
        if started:
            self._connect(ray)
        try:
            options, slots = task_options(job.recipe.device, ray.cluster_resources())
            options.update(max_retries=self.max_retries, retry_exceptions=RETRIED_EXCEPTIONS)
            task = ray.remote(**options)(render_shard)
            pending = [task.remote(job, shard) for shard in plan_job(job, frames, self.shards or slots)]
            try:
                while pending:
                    finished, pending = ray.wait(pending, num_returns=1)
                    ray.get(finished)
            except BaseException:
                for ref in pending:
                    ray.cancel(ref, force=True)
                raise
        except RayTaskError as exc:
            if isinstance(exc.cause, UserError):
                raise exc.cause from None
            raise
        finally:
            if started:
                ray.shutdown()

    def _connect(self, ray: Any) -> None:
        if self.address:
            check_reachable(self.address)
        try:
            ray.init(**QUIET, address=self.address)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a local cluster"
            raise UserError(f"--address {where}: cannot connect to Ray ({exc})") from None


def check_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail in seconds on a ``host:port`` (or ``ray://host:port``) nobody answers at: Ray retries forever."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local" and other forms Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise UserError(
            f"--address {address}: no Ray cluster answers there ({exc.strerror or exc})"
        ) from None


def task_options(device: str, resources: dict[str, float]) -> tuple[dict[str, Any], int]:
    """Ray resources of one shard task, and how many such tasks the cluster runs at once.

    A CUDA render takes one whole GPU per task; Ray points ``CUDA_VISIBLE_DEVICES`` at it, and
    ``max_calls=1`` gives every task a fresh process, as CUDA cannot switch GPUs once initialised.
    """
    if device == "cuda":
        gpus = int(resources.get("GPU", 0))
        if not gpus:
            raise UserError("--engine ray --device cuda: the Ray cluster has no GPUs")
        return {"num_gpus": 1, "max_calls": 1}, gpus
    return {"num_cpus": 1}, max(1, int(resources.get("CPU", 1)))
