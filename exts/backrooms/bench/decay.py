"""The VHS decay pass: frames per second, against its numpy oracle and an ffmpeg VHS filtergraph.

Figures are for the full ``sp`` preset (every effect on) on one 720x480 RGBA frame resident on the
device. Wall-clock figures depend on what else a shared machine runs; the per-core figures and the
comparisons use CPU time (of the launching thread, of numpy, of the ffmpeg process), which other
load does not inflate. The fidelity numbers the issue asks for are printed alongside.
"""

from __future__ import annotations

import itertools
import resource
import shutil
import subprocess
import time

import numpy as np
import warp as wp

from backrooms.bench.core import Measurement, best_of, targets
from backrooms.decay import events, measure, reference
from backrooms.decay.pipeline import MAX_BANDS, VhsTape
from backrooms.decay.settings import resolve
from backrooms.decay.tape import HostTape
from backrooms.launch import cpu_cores
from backrooms.params import ParamStore

AREA = "decay"
# A common "realistic VHS" ffmpeg recipe at equal size: halve horizontal luma resolution, blur
# chroma / sharpen luma, luma noise changing every frame, a little saturation.
FFMPEG_VHS = "scale=360:480,scale=720:480,unsharp=7:7:1.0:7:7:-2.0,noise=c0s=13:c0f=t+u,eq=saturation=1.2"


def test_frame(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    frame = np.full((height, width, 4), 255, dtype=np.uint8)
    frame[..., :3] = (
        rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3))
        .repeat(16, 0)
        .repeat(16, 1)[:height, :width]
    )
    return frame


def kernel_seconds(
    width: int, height: int, device: str, frames: int, bands: int | None = None
) -> tuple[float, float]:
    """(wall, thread CPU) seconds per frame of the sp pass, best of a few runs of ``frames`` frames.

    Thread CPU time is only meaningful with ``bands=1`` (the launch runs on the calling thread).
    """
    values = ParamStore().snapshot().node("decay")
    settings = [resolve(values, width, height, f, 1) for f in range(frames)]
    tape = VhsTape(width, height, device, bands=bands)
    rgb = wp.array(test_frame(width, height), dtype=wp.uint8, device=device)

    def clip() -> None:
        for s in settings:
            tape.apply(rgb, s)
        wp.synchronize_device(device)

    clip()  # compile / warm up
    cpu = []
    for _ in range(3):
        began = time.thread_time()
        clip()
        cpu.append(time.thread_time() - began)
    return best_of(clip, 3) / frames, min(cpu) / frames


OLD_LOOK = {"decay.preset": "sp"}  # the pass as it was before the wear scale: sp, no OSD, no events
NEW_LOOK = {"decay.preset": "lp", "decay.wear": 0.3, "decay.osd": True}  # the default recipe's tape


def feature_cost(
    width: int, height: int, frames: int, standard: str = "ntsc", rounds: int = 3
) -> tuple[float, float]:
    """Thread CPU seconds per frame on one band: (the old look, the new look in ``standard`` with an
    event on every frame, cycling through all of them), interleaved in one process so load hits
    both alike."""
    new = NEW_LOOK | {"decay.standard": standard}
    old_s, new_s = look_seconds(width, height, frames, [(OLD_LOOK, False), (new, True)], rounds)
    return old_s, new_s


def standard_cost(width: int, height: int, frames: int, rounds: int = 3) -> tuple[float, float]:
    """Thread CPU seconds per frame of the default look with events in PAL and in SECAM (FM colour)."""
    looks = [(NEW_LOOK | {"decay.standard": std}, True) for std in ("pal", "secam")]
    pal, secam = look_seconds(width, height, frames, looks, rounds)
    return pal, secam


def look_seconds(
    width: int, height: int, frames: int, looks: list[tuple[dict, bool]], rounds: int
) -> list[float]:
    """Best thread CPU seconds per frame of each (values, with an event a frame) look, interleaved."""
    clips = []
    for values, with_events in looks:
        store = ParamStore()
        store.update(values)
        snap = store.snapshot().node("decay")
        settings = [resolve(snap, width, height, f, 1) for f in range(frames)]
        if with_events:
            names = list(events.EVENTS)
            settings = [
                events.apply(s, {n: events.Active(n, 0.5, 1.0, 0.3)})
                for s, n in zip(settings, itertools.cycle(names), strict=False)
            ]
        clips.append(settings)
    tape = VhsTape(width, height, "cpu", bands=1)
    rgb = wp.array(test_frame(width, height), dtype=wp.uint8, device="cpu")
    best = [float("inf")] * len(clips)
    for _ in range(rounds + 1):  # the first round compiles and warms up
        for k, settings in enumerate(clips):
            began = time.thread_time()
            for s in settings:
                tape.apply(rgb, s)
            best[k] = min(best[k], (time.thread_time() - began) / frames)
    return best


def reference_cpu_seconds(width: int, height: int) -> float:
    """Thread CPU seconds of one frame of the numpy oracle (numpy's element-wise work is single-threaded)."""
    s = resolve(ParamStore().snapshot().node("decay"), width, height, 1, 1)
    frame = test_frame(width, height)
    began = time.thread_time()
    reference.decay(frame, s)
    return time.thread_time() - began


def child_cpu_seconds(cmd: list[str]) -> float:
    """User + system CPU seconds of a child process (robust to other load on a shared machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def ffmpeg_fps(frames: int) -> float | None:
    """CPU-time frames per second of the ffmpeg recipe on one thread (source generation subtracted)."""
    if shutil.which("ffmpeg") is None:
        return None

    def seconds(graph: str) -> float:
        cmd = [
            "ffmpeg", "-hide_banner", "-loglevel", "error", "-threads", "1", "-filter_threads", "1",
            "-f", "lavfi", "-i", "testsrc2=size=720x480:rate=30,format=yuv420p",
            "-frames:v", str(frames), "-vf", graph, "-f", "null", "-",
        ]  # fmt: skip
        return min(child_cpu_seconds(cmd) for _ in range(2))

    work = seconds(FFMPEG_VHS) - seconds("null")
    return frames / work if work > 0 else None


def fidelity() -> list[Measurement]:
    store = ParamStore()
    store.update({"decay.noise": 0.0})
    quiet = store.snapshot()
    noisy = ParamStore().snapshot()

    def tape(params):
        return lambda frame: HostTape(frame.shape[1], frame.shape[0], 1, 30.0, "cpu").process(
            frame, 3, params
        )

    return [
        Measurement(AREA, "sp luma -3 dB point", measure.luma_cutoff(tape(quiet)), "MHz", "target 2.0-3.0"),
        Measurement(
            AREA, "sp chroma (I) -3 dB point", measure.chroma_cutoff(tape(quiet)), "MHz", "target 0.25-0.6"
        ),
        Measurement(AREA, "sp flat-field luma SNR", measure.flat_snr_db(tape(noisy)), "dB", "target 40-48"),
    ]


def run(quick: bool, device: str = "auto") -> list[Measurement]:
    on_cpu, on_cuda = targets(device)
    frames = 10 if quick else 60
    out = _cpu(quick, frames) if on_cpu else []
    if on_cuda:
        for width, height in ((720, 480), (1920, 1080)):
            gpu_wall, _ = kernel_seconds(width, height, "cuda", frames * 10)
            out.append(
                Measurement(
                    AREA, f"{width}x{height} sp, CUDA", 1.0 / gpu_wall, "fps", wp.get_device("cuda").name
                )
            )
    return out + fidelity() if on_cpu else out


def _cpu(quick: bool, frames: int) -> list[Measurement]:
    one_wall, one_cpu = kernel_seconds(720, 480, "cpu", frames, bands=1)
    wall, _ = kernel_seconds(720, 480, "cpu", frames)
    ref = reference_cpu_seconds(720, 480)
    out = [
        Measurement(
            AREA,
            "720x480 sp, CPU all cores",
            1.0 / wall,
            "fps",
            f"wall clock, {min(cpu_cores(), MAX_BANDS)} bands",
        ),
        Measurement(AREA, "720x480 sp, CPU one core", 1.0 / one_wall, "fps", "wall clock"),
        Measurement(
            AREA, "720x480 sp, CPU per core", 1.0 / one_cpu, "fps", "thread CPU time; ntsc-rs ~25/core"
        ),
        Measurement(AREA, "numpy reference 720x480 sp", 1.0 / ref, "fps", "the test oracle, CPU time"),
        Measurement(AREA, "Warp vs numpy reference", ref / one_cpu, "x", "CPU time, one core each"),
    ]
    for width, height, standard in ((720, 480, "ntsc"), (720, 576, "pal")):
        old, new = feature_cost(width, height, frames, standard, rounds=1 if quick else 3)
        out.append(
            Measurement(
                AREA,
                f"{width}x{height} {standard} wear/OSD/events cost",
                100.0 * (new / old - 1.0),
                "%",
                f"default look + an event a frame vs sp: {1 / new:.1f} / {1 / old:.1f} fps/core; aim <= 15",
            )
        )
    pal, secam = standard_cost(720, 576, frames, rounds=1 if quick else 3)
    out.append(
        Measurement(
            AREA,
            "720x576 secam FM colour vs pal",
            100.0 * (secam / pal - 1.0),
            "%",
            f"default look + an event a frame: {1 / secam:.1f} / {1 / pal:.1f} fps/core",
        )
    )
    ff = ffmpeg_fps(60 if quick else 300)
    if ff is not None:
        out.append(
            Measurement(
                AREA, "ffmpeg VHS filtergraph 720x480", ff, "fps", "CPU time, 1 thread, fewer effects"
            )
        )
        out.append(
            Measurement(
                AREA, "Warp vs ffmpeg filtergraph", (1.0 / one_cpu) / ff, "x", "CPU time, one core each"
            )
        )
    return out
