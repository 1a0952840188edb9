"""The Warp kernels against the plain numpy reference, and the GPU segment layout against whole lines."""

from __future__ import annotations

import numpy as np
import warp as wp

from backrooms.decay import reference
from backrooms.decay.pipeline import VhsTape
from backrooms.decay.settings import resolve
from backrooms.params import ParamStore


def blocks(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(5)
    frame = np.full((height, width, 4), 255, dtype=np.uint8)
    frame[..., :3] = rng.integers(0, 256, (height // 8, width // 8, 3)).repeat(8, 0).repeat(8, 1)
    return frame


def settings(width: int, height: int, **values):
    store = ParamStore()
    store.update({f"decay.{k}": v for k, v in values.items()})
    return resolve(store.snapshot().node("decay"), width, height, 11, 5)


def run_kernels(frame: np.ndarray, s, segment: int | None = None, run: int | None = None) -> np.ndarray:
    rgb = wp.array(frame, dtype=wp.uint8, device="cpu")
    VhsTape(frame.shape[1], frame.shape[0], "cpu", segment=segment, run=run).apply(rgb, s)
    return rgb.numpy().astype(int)


def test_kernels_match_the_numpy_reference_with_every_effect_on():
    frame = blocks(200, 64)  # narrow: also exercises 3x oversampling of the line
    s = settings(200, 64, preset="found-footage", tracking=3.0, dropouts=4.0)
    diff = np.abs(run_kernels(frame, s) - reference.decay(frame, s).astype(int))
    assert diff.max() <= 1


def test_kernels_match_the_numpy_reference_at_720_wide_without_noise():
    frame = blocks(720, 32)
    s = settings(720, 32, preset="sp", noise=0.0)
    diff = np.abs(run_kernels(frame, s) - reference.decay(frame, s).astype(int))
    assert diff.max() <= 1


def test_the_gpu_layout_equals_whole_lines():
    """64-px tape segments with warm-up and one thread per pixel, run on the CPU."""
    frame = blocks(720, 48)
    s = settings(720, 48, preset="found-footage")
    whole = run_kernels(frame, s)
    segmented = run_kernels(frame, s, segment=64, run=1)
    assert np.abs(segmented - whole).max() <= 1
    assert (segmented != whole).mean() < 1e-3


def test_cpu_bands_on_several_threads_equal_one_launch():
    frame = blocks(320, 96)
    s = settings(320, 96, preset="worn")
    one, three = (wp.array(frame, dtype=wp.uint8, device="cpu") for _ in range(2))
    VhsTape(320, 96, "cpu", bands=1).apply(one, s)
    VhsTape(320, 96, "cpu", bands=3).apply(three, s)
    assert np.array_equal(one.numpy(), three.numpy())


def test_kernels_match_the_numpy_reference_with_every_event_on():
    from dataclasses import replace

    frame = blocks(200, 64)
    s = replace(
        settings(200, 64, preset="worn"),
        roll_row=30.0,
        roll_lines=8.0,
        roll_level=1.2,
        crease_row=12.0,
        crease_lines=2.0,
        crease_level=0.8,
        tear_row=40,
        tear_px=17.5,
        clog=0.6,
        v_roll=20.5,
        blank_lines=5,
        blue=0.3,
    )
    diff = np.abs(run_kernels(frame, s) - reference.decay(frame, s).astype(int))
    assert diff[16:].max() <= 1  # a blue screen brings up the deck's OSD (top rows; not in the oracle)


def test_kernels_match_the_numpy_reference_in_pal_and_secam():
    frame = blocks(200, 64)
    for standard in ("pal", "secam"):
        s = settings(200, 64, preset="worn", standard=standard, hue=25.0, chroma_noise=4.0)
        diff = np.abs(run_kernels(frame, s) - reference.decay(frame, s).astype(int))
        assert diff.max() <= 1, standard


def test_secam_runs_whole_lines_on_every_layout():
    """SECAM's FM phase integrates along the whole line, so its lines are never cut into segments."""
    frame = blocks(320, 48)
    s = settings(320, 48, preset="worn", standard="secam")
    assert np.array_equal(run_kernels(frame, s, segment=64, run=1), run_kernels(frame, s))


def test_the_tape_kernels_compile_to_cuda(tmp_path):
    from backrooms.decay import kernels
    from cuda_compile import assert_compiles_for_cuda

    assert_compiles_for_cuda(kernels, tmp_path)
