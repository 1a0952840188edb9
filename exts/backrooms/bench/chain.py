"""The full default chain per stage, steady state, beside render-only in the same run.

For each output size: render-only (the ``render`` node alone, not pipelined; timed before and after
the chain's rows, the mean reported), then the default
recipe's nodes with ``diffusion.generate`` 1 / 2 and ``render.scale`` 1 / 0.75 / 0.5, streamed as a batch
render streams them (``Executor.stream``: every node on a stage of its own thread, the PNGs written
on another); the default also serial and with only the render traced ahead (``Executor.render``,
what ``backrooms live`` plays). The rate is frames over the wall-clock time of the whole loop, the
per-frame PNG and the clip's MP4 included, encoded along as ``backrooms render`` encodes it
(``EncodeAlong``); the time spent in each stage is in the note (stages overlap unless serial;
``mp4`` is what the encode adds after the last frame). Start-up (kernel loads, the model) and the
first frames are excluded. Last, the peak memory (RSS high-water mark) of a real ``backrooms live``
process playing the default chain at each size. On CUDA (``--device cuda``, or ``auto`` where Warp
sees a device) the same rows at 320x240 to 1920x1080 on the GPU (the PNGs and the MP4 still written
on the CPU), and the rate ``backrooms live`` plays at 1280x720. Run it under ``flock
/tmp/bench.lock`` on a shared machine; the load is in the notes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from backrooms.bench.core import Measurement, targets
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.io.background import BackgroundWrites
from backrooms.io.mp4 import EncodeAlong
from backrooms.io.png import write_png
from backrooms.launch import cpu_cores
from backrooms.params import REGISTRY, ParamStore

AREA = "chain"
WARM = 3  # frames run before timing: kernel loads, model load, caches
START = 40  # the walk is under way by then (the operator starts standing)
# (diffusion.generate, render.scale, mode): the defaults (generate 2, scale 0.75) also serial and traced
# ahead only (``render``); every frame traced, at full size and below; and the governor's cheaper steps
CONFIGS = (
    (2, 0.75, "serial"),
    (2, 0.75, "ahead"),
    (2, 0.75, "stream"),
    (1, 1.0, "stream"),
    (1, 0.75, "stream"),
    (2, 0.5, "stream"),
    (3, 0.5, "stream"),
)
MODES = {"serial": "serial", "ahead": "render traced ahead", "stream": "streamed"}
CUDA_SIZES = ((320, 240), (640, 480), (1280, 720), (1920, 1080))


def _timed_chain(
    nodes: tuple[str, ...],
    width: int,
    height: int,
    frames: int,
    mode: str = "stream",
    cuts: list[int] | None = None,
    device: str = "cpu",
    **values,
) -> dict[str, float]:
    """Seconds per frame in every stage (nodes, PNG, MP4) and ``wall``, the whole loop's, over
    ``frames`` frames after warming up.

    ``mode``: ``serial`` (``Executor.render`` on one thread), ``ahead`` (``render``, the next frame
    traced in a worker), ``stream`` (``Executor.stream`` split at ``cuts``, the PNGs written on a
    thread of their own, as a batch render does). Stages overlap except when serial, so their sum
    is then more than the wall time: each is the time its thread spent in it, waits for a core
    included. ``cores busy``: the process's CPU time over the loop's wall time (under the core
    count, the cores wait on a stage; at it, on each other).
    """
    recipe = load_recipe()
    snapshot = ParamStore(values={**recipe.params, **values}).snapshot()
    context = GraphContext(recipe.seed, width, height, recipe.fps, device)
    executor = Executor(nodes, context, lambda _f: snapshot, pipeline=mode != "serial", cuts=cuts)
    for f in range(START - WARM, START):
        executor.render(f)
    warm = dict(executor.spent)  # each node's seconds so far, whatever thread ran it
    png = [0.0]  # the PNG writer's, on a thread of its own when streamed

    def write_png_timed(path: Path, rgb: np.ndarray) -> None:
        began = time.perf_counter()
        write_png(path, rgb)
        png[0] += time.perf_counter() - began

    with tempfile.TemporaryDirectory() as tmp:
        along = EncodeAlong(Path(tmp) / "clip.mp4", recipe.fps)
        loop, cpu = time.perf_counter(), time.process_time()
        wanted = range(START, START + frames)
        if mode == "stream":
            with BackgroundWrites() as writes:
                for product in executor.stream(wanted):
                    rgb = np.array(product[RGB].numpy())
                    writes.submit(write_png_timed, Path(tmp) / f"frame_{product.frame:06d}.png", rgb)
                    along.add(rgb)
        else:
            for f in wanted:
                rgb = np.array(executor.render(f)[RGB].numpy())
                write_png_timed(Path(tmp) / f"frame_{f:06d}.png", rgb)
                along.add(rgb)
        began = time.perf_counter()
        along.finish()
        mp4 = time.perf_counter() - began
        wall = began - loop + mp4
        busy = (time.process_time() - cpu) / wall  # every thread of this process, over the loop
    executor.close()
    spent = {kind: executor.spent[kind] - warm[kind] for kind in nodes} | {"png": png[0]}
    seconds = {kind: s / frames for kind, s in spent.items()}
    if "diffusion" in nodes:
        seconds["mp4"] = mp4 / frames
    else:
        del seconds["png"]
    return seconds | {"wall": wall / frames, "cores busy": busy}


def _live_peak_rss(width: int, height: int, frames: int) -> float:
    """MiB: the peak RSS (VmHWM) of a real ``backrooms live`` process playing ``frames`` frames.

    Read from /proc while it runs: the rusage of a waited child would also count the bench's own
    pages, which the child holds between fork and exec."""
    command = [sys.executable, "-m", "backrooms.cli", "live", "--size", f"{width}x{height}"]
    command += ["--frames", str(frames), "--osc-port", "0", "--oscquery-port", "0", "--no-preview"]
    command += ["--no-hold-fps"]  # the default chain throughout, not the steps the governor takes
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


def _live_rate(width: int, height: int, seconds: float, hold: bool, device: str = "cpu") -> tuple[float, str]:
    """The frame rate ``backrooms live`` plays the default recipe at, over the last third of
    ``seconds`` of play at the recipe's fps, with the rate held (``control.governor``) or not, and
    the governor's step and the loop's latency by then."""
    from backrooms.control.live import achieved_fps
    from backrooms.control.session import GraphFrames, LiveOptions, LiveSession
    from backrooms.params import REGISTRY

    recipe = load_recipe().with_overrides(width=width, height=height, device=device)
    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None, hold_fps=hold)
    frames = GraphFrames(recipe, sound=False)
    with LiveSession(REGISTRY, dict(recipe.params), recipe.fps, frames, options) as live:
        runner = threading.Thread(target=live.run)
        runner.start()
        time.sleep(seconds)
        rate = achieved_fps(tuple(live.loop.frame_starts), time.perf_counter(), seconds / 3)
        stats = live.loop.stats()
        live.loop.stop()
        runner.join()
    return rate, f"{stats['quality']}, latency {stats['latency']}"


def _chain_rows(sizes: tuple[tuple[int, int], ...], quick: bool, device: str) -> list[Measurement]:
    """Render-only, then the default recipe in every ``CONFIGS`` row, at each size on ``device``."""
    nodes = tuple(load_recipe().nodes)
    where = "" if device == "cpu" else " CUDA"
    out = []
    for width, height in sizes:
        # 24 on the CPU at any size: with 12 at 640x480 (6 traced) its rows spread over a fifth
        frames = 4 if quick else 48 if device == "cuda" else 24
        size = f"{width}x{height}{where}"
        load = f"load {os.getloadavg()[0]:.1f}"
        full = {"render.scale": 1.0}  # the tracer at the output size, every frame
        render_only = (("render",), width, height, frames, "serial")
        # timed before and after the chain's rows, which take minutes: the machine's speed drifts
        # (the tracer alone 16.0-17.9 fps within half an hour on the Xeon sandbox), and each ratio
        # below is against the mean of the two
        before = _timed_chain(*render_only, device=device, **full)["wall"]
        rows = []
        for generate, scale, mode in CONFIGS:
            knobs = {"diffusion.generate": generate, "render.scale": scale}
            rows.append(_timed_chain(nodes, width, height, frames, mode, device=device, **knobs))
        after = _timed_chain(*render_only, device=device, **full)["wall"]
        alone = (before + after) / 2
        note = f"{load}; {1 / before:.2f} before the chain's rows, {1 / after:.2f} after"
        out.append(Measurement(AREA, f"render only {size} full size", 1 / alone, "fps", note))
        cores = f"of {cpu_cores()} cores"
        defaults = (REGISTRY["diffusion.generate"].default, REGISTRY["render.scale"].default)
        for (generate, scale, mode), stages in zip(CONFIGS, rows, strict=True):
            wall, busy = stages.pop("wall"), stages.pop("cores busy")
            split = ", ".join(f"{k} {1000 * v:.1f}" for k, v in stages.items())
            label = f"full chain {size} generate {generate} scale {scale:g} {MODES[mode]}"
            label += " (defaults)" if (generate, scale) == defaults else ""
            note = f"{alone / wall:.2f}x render-only; {busy:.2f} {cores} busy; ms in each stage: {split}"
            out.append(Measurement(AREA, label, 1 / wall, "fps", note))
    return out


def _cpu(quick: bool) -> list[Measurement]:
    sizes = ((96, 72),) if quick else ((320, 240), (640, 480))
    out = _chain_rows(sizes, quick, "cpu")
    if not quick:
        for width, height in sizes:
            peak = _live_peak_rss(width, height, 48 if width <= 320 else 24)
            out.append(
                Measurement(AREA, f"backrooms live peak RSS {width}x{height}", peak, "MiB", "default chain")
            )
        unheld, _ = _live_rate(320, 240, 30.0, hold=False)
        held, step = _live_rate(320, 240, 30.0, hold=True)
        note = f"live's default; step {step} (control.governor.LADDER) after 30 s; {unheld:.1f} not held"
        out.append(Measurement(AREA, "backrooms live 320x240 frame rate, rate held", held, "fps", note))
    return out


def _cuda(quick: bool) -> list[Measurement]:
    """The sizes a GPU is bought for; the PNG writer and the MP4 encoder stay on the CPU."""
    out = _chain_rows(((96, 72),) if quick else CUDA_SIZES, quick, "cuda")
    if not quick:
        unheld, _ = _live_rate(1280, 720, 15.0, hold=False, device="cuda")
        note = "default chain, rate not held, last 5 of 15 s"
        out.append(Measurement(AREA, "backrooms live 1280x720 CUDA frame rate", unheld, "fps", note))
    return out


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    on_cpu, on_cuda = targets(device)
    return (_cpu(quick) if on_cpu else []) + (_cuda(quick) if on_cuda else [])
