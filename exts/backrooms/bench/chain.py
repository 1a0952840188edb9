"""The full default chain per stage, steady state, beside render-only in the same run.

For each output size: render-only (the ``render`` node alone, not pipelined), then the default
recipe's nodes with ``diffusion.generate`` 1 / 2 and ``render.scale`` 1 / 0.5 (the default also
serial: the executor normally traces frame N+1 while the other nodes finish frame N). The rate is
frames over the wall-clock time of the whole loop, the per-frame PNG and the clip's MP4 encode
included; the time spent in each stage is in the note (the render overlaps the rest when
pipelined). Start-up (kernel loads, the model) and the first frames are excluded. Last, the peak
memory (RSS high-water mark) of a real ``backrooms live`` process playing the default chain at each
size. Run it under ``flock /tmp/bench.lock`` on a shared machine; the load is in the notes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import warp as wp

from backrooms.bench.core import Measurement
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.io.mp4 import write_mp4
from backrooms.io.png import write_png
from backrooms.params import ParamStore

AREA = "chain"
WARM = 3  # frames run before timing: kernel loads, model load, caches
START = 40  # the walk is under way by then (the operator starts standing)
# (diffusion.generate, render.scale, pipelined): the default first, also without the pipeline
CONFIGS = ((1, 1.0, False), (1, 1.0, True), (2, 1.0, True), (1, 0.5, True), (2, 0.5, True))


def _timed_chain(
    nodes: tuple[str, ...], width: int, height: int, frames: int, pipeline: bool = True, **values
) -> dict[str, float]:
    """Seconds per frame in every stage (nodes, PNG, MP4; the render overlaps the rest when
    pipelined) and ``wall``, the whole loop's, over ``frames`` frames after warming up."""
    recipe = load_recipe()
    snapshot = ParamStore(values={**recipe.params, **values}).snapshot()
    context = GraphContext(recipe.seed, width, height, recipe.fps, "cpu")
    executor = Executor(nodes, context, lambda _f: snapshot, pipeline=pipeline)
    spent = dict.fromkeys(nodes, 0.0)
    for node in executor.nodes:
        process = node.process

        def timed(product, params, process=process, kind=node.kind) -> None:
            began = time.perf_counter()
            process(product, params)
            spent[kind] += time.perf_counter() - began

        node.process = timed  # type: ignore[method-assign]
    for f in range(START - WARM, START):
        executor.render(f)
    for kind in spent:
        spent[kind] = 0.0
    kept = []
    png = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        loop = time.perf_counter()
        for f in range(START, START + frames):
            rgb = wp.to_torch(executor.render(f)[RGB]).numpy()
            began = time.perf_counter()
            write_png(Path(tmp) / f"frame_{f:06d}.png", rgb)
            png += time.perf_counter() - began
            kept.append(np.array(rgb[..., :3]))
        began = time.perf_counter()
        write_mp4(Path(tmp) / "clip.mp4", kept, recipe.fps)
        mp4 = time.perf_counter() - began
        wall = began - loop + mp4
    executor.close()
    seconds = {kind: s / frames for kind, s in spent.items()}
    if "diffusion" in nodes:
        seconds |= {"png": png / frames, "mp4": mp4 / frames}
    return seconds | {"wall": wall / frames}


def _live_peak_rss(width: int, height: int, frames: int) -> float:
    """MiB: the peak RSS (VmHWM) of a real ``backrooms live`` process playing ``frames`` frames.

    Read from /proc while it runs: the rusage of a waited child would also count the bench's own
    pages, which the child holds between fork and exec."""
    command = [sys.executable, "-m", "backrooms.cli", "live", "--size", f"{width}x{height}"]
    command += ["--frames", str(frames), "--osc-port", "0", "--oscquery-port", "0", "--no-preview"]
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe nobody reads while it runs
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=errors)
        peak = 0
        while process.poll() is None:
            try:
                with open(f"/proc/{process.pid}/status") as f:
                    peak = max(
                        peak, next((int(line.split()[1]) for line in f if line.startswith("VmHWM")), 0)
                    )
            except OSError:  # it exited between poll and open
                break
            time.sleep(0.1)
        if process.wait():
            errors.seek(0)
            raise RuntimeError(
                f"backrooms live exited with {process.returncode}: {errors.read().decode()[-500:]}"
            )
    return peak / 1024  # KiB in /proc


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    if device == "cuda":
        return []  # the CPU target of issue 17; CUDA runs the same graph in the render/e2e areas
    sizes = ((96, 72),) if quick else ((320, 240), (640, 480))
    nodes = tuple(load_recipe().nodes)
    out = []
    for width, height in sizes:
        frames = 4 if quick else (24 if width <= 320 else 12)
        size = f"{width}x{height}"
        load = f"load {os.getloadavg()[0]:.1f}"
        alone = _timed_chain(("render",), width, height, frames, pipeline=False)["wall"]
        out.append(Measurement(AREA, f"render only {size}", 1 / alone, "fps", load))
        for generate, scale, pipeline in CONFIGS:
            knobs = {"diffusion.generate": generate, "render.scale": scale}
            stages = _timed_chain(nodes, width, height, frames, pipeline, **knobs)
            wall = stages.pop("wall")
            split = ", ".join(f"{k} {1000 * v:.1f}" for k, v in stages.items())
            label = f"full chain {size} generate {generate} scale {scale:g}" + ("" if pipeline else " serial")
            note = f"{alone / wall:.2f}x render-only; ms in each stage: {split}"
            out.append(Measurement(AREA, label, 1 / wall, "fps", note))
    if not quick:
        for width, height in sizes:
            peak = _live_peak_rss(width, height, 48 if width <= 320 else 24)
            out.append(
                Measurement(AREA, f"backrooms live peak RSS {width}x{height}", peak, "MiB", "default chain")
            )
    return out
