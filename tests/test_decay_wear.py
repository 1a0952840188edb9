"""The wear scale, measured on clean frames of the default walk (docs/decay.md, "The wear ladder")."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import warp as wp

from backrooms.decay import measure
from backrooms.decay.pipeline import VhsTape
from backrooms.decay.settings import design, resolve
from backrooms.params import ParamError, ParamStore, parse_assignment

LADDER = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
FRAMES = (0, 40)  # two views of the walk: down a corridor, and a wall seen from close by


@pytest.fixture(scope="module")
def walk() -> list[np.ndarray]:
    """Clean 320x240 frames of the default walk (the render node alone, default world)."""
    from backrooms.graph.catalog import declare_all
    from backrooms.graph.executor import Executor
    from backrooms.graph.node import GraphContext

    declare_all()
    snap = ParamStore().snapshot()
    executor = Executor(("render",), GraphContext(0, 320, 240, 24.0, "cpu"), lambda _f: snap)
    return [executor.render(f)["rgb"].numpy().copy() for f in FRAMES]  # copies: buffers are reused


def decayed(clean: np.ndarray, frame: int, **values) -> np.ndarray:
    store = ParamStore()
    store.update({f"decay.{k}": v for k, v in values.items()})
    s = resolve(store.snapshot().node("decay"), clean.shape[1], clean.shape[0], frame, 0)
    rgb = wp.array(clean, dtype=wp.uint8, device="cpu")
    VhsTape(clean.shape[1], clean.shape[0], "cpu").apply(rgb, s)
    return rgb.numpy()


def mean_over_walk(walk, metric, **values) -> float:
    return float(np.mean([metric(decayed(c, f, **values), c) for c, f in zip(walk, FRAMES, strict=True)]))


def test_similarity_to_the_clean_frame_falls_monotonically_with_wear(walk):
    ssim = [mean_over_walk(walk, measure.ssim, preset="sp", wear=w) for w in LADDER]
    assert all(a > b + 0.03 for a, b in itertools.pairwise(ssim)), ssim
    assert ssim[0] > 0.85  # a pristine SP copy is close to the clean frame


def test_the_heaviest_preset_keeps_the_corridors_edges_readable(walk):
    edges = mean_over_walk(walk, measure.edge_correlation, preset="found-footage")
    assert edges >= 0.6, edges


def test_per_effect_gains_still_scale_on_top_of_wear(walk):
    plain = mean_over_walk(walk, measure.ssim, preset="sp", wear=0.5)
    grainy = mean_over_walk(walk, measure.ssim, preset="sp", wear=0.5, luma_noise=3.0)
    assert grainy < plain - 0.02


def torn_rows(height: int, wear: float) -> int:
    """Rows at the bottom that head switching moves (noise off, a frame of vertical stripes)."""
    frame = np.full((height, 720, 4), 255, dtype=np.uint8)
    frame[..., :3] = np.random.default_rng(7).integers(40, 210, 240).repeat(3)[None, :, None]  # no period
    on = decayed(frame, 0, preset="sp", wear=wear, noise=0.0).astype(int)
    off = decayed(frame, 0, preset="sp", wear=wear, noise=0.0, head_switching=0.0).astype(int)
    moved = np.abs(on - off)[:, : int(0.9 * 720), :3].mean(axis=(1, 2)) > 8.0
    assert not moved[: height // 2].any()
    return int(moved.sum())


@pytest.mark.parametrize("height", [240, 480, 576])
def test_head_switching_tears_5_to_8_lines_of_240_at_every_height(height: int):
    pristine, worn = torn_rows(height, 0.0), torn_rows(height, 1.0)
    per_240 = 240.0 / height
    assert 5.0 <= pristine * per_240 <= 8.0 + per_240 and 5.0 <= worn * per_240 <= 8.0 + per_240
    assert worn > pristine


def test_the_filter_design_keeps_the_luma_cut_whatever_the_peaking_and_ringing():
    """design() solves the tape poles with the sharpening and ringing it is given (issue 13)."""
    from backrooms.decay import signal

    def cut(sharpen: float, ringing: float) -> float:
        f = design(720, 2.4, 0.32, 1.0, 0.0, 0.28, sharpen, ringing)
        freqs = np.linspace(0.01, 4.0, 800)
        w = 2.0 * np.pi * freqs / signal.sample_rate_mhz(720)
        s = 1.0 + sharpen * (1.0 - signal.one_pole_response(f.a_sharp, w))
        g = f.notch.response(w) * s * (1.0 + ringing * f.ring.response(w))
        g = np.abs(g * signal.one_pole_response(f.a_luma, w) ** signal.TAPE_POLES)
        return signal.cutoff_3db(freqs, g)

    assert abs(cut(0.25, 0.08) - 2.4) < 0.1 and abs(cut(1.5, 0.6) - 2.4) < 0.1
    assert (
        design(720, 2.4, 0.32, 1.0, 0.0, 0.28, 1.5, 0.6).a_luma
        != design(720, 2.4, 0.32, 1.0, 0.0, 0.28, 0.25, 0.08).a_luma
    )


def test_wear_outside_0_to_1_is_refused_in_one_line():
    with pytest.raises(ParamError, match=r"decay.wear: 2.0 is outside 0.0..1.0"):
        parse_assignment("decay.wear=2")
