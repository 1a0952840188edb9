"""What each stage of the camcorder does to a picture, in numbers (synthetic frames, real kernels)."""

from __future__ import annotations

import numpy as np
import pytest

import backrooms.camcorder.metering
import backrooms.camcorder.optics
import backrooms.camcorder.sensor
from camcorder_frames import OFF, H, W, film, flat, luma, stripes
from cuda_compile import assert_compiles_for_cuda


def test_with_every_effect_off_the_render_comes_back_unchanged():
    rng = np.random.default_rng(1)
    rgb = flat(0)
    rgb[..., :3] = rng.integers(0, 256, (H, W, 3))
    out, _ = film([rgb], OFF)
    assert np.abs(out[0].astype(int) - rgb[..., :3]).max() <= 1


def lit_panel() -> np.ndarray:
    """A dark room with one bright ceiling panel (rows 10-25, columns 70-90)."""
    rgb = flat(40)
    rgb[10:26, 70:90, :3] = 255
    return rgb


def test_smear_draws_a_vertical_streak_above_and_below_a_panel():
    plain, _ = film([lit_panel()], OFF)
    smeared, _ = film([lit_panel()], {**OFF, "camcorder.smear": 1.0})
    excess = luma(smeared[0]) - luma(plain[0])
    below = excess[60:, 74:86].mean()  # in the panel's columns, far below it
    above = excess[:8, 74:86].mean()  # and above it
    aside = excess[60:, 10:40].mean()  # columns without a light
    assert below > 6.0 and above > 6.0
    assert abs(below - above) < 1.0  # charge is read out through the whole column
    assert aside < 0.5
    doubled, _ = film([lit_panel()], {**OFF, "camcorder.smear": 2.0})
    assert (luma(doubled[0]) - luma(plain[0]))[60:, 74:86].mean() > 1.6 * below


def test_bloom_glows_around_a_panel_and_fades_with_distance():
    plain, _ = film([lit_panel()], OFF)
    bloomed, _ = film([lit_panel()], {**OFF, "camcorder.bloom": 1.0})
    excess = luma(bloomed[0]) - luma(plain[0])
    near = excess[30:34, 74:86].mean()  # 5-8 px below the panel's edge
    far = excess[50:54, 74:86].mean()  # 25-28 px below
    assert near > 8.0
    assert far < 0.25 * near
    assert excess[90:, :40].mean() < 0.5


def sharpness(rgb: np.ndarray) -> float:
    """Mean absolute difference of horizontal neighbours (high for crisp stripes)."""
    y = luma(rgb)
    return float(np.abs(np.diff(y, axis=1)).mean())


def test_depth_of_field_blurs_what_is_out_of_focus():
    depth = np.full((H, W), 0.5, np.float32)
    depth[:, W // 2 :] = 8.0  # left half 0.5 m away, right half 8 m
    values = {**OFF, "camcorder.blur": 2.0}  # 3 px blur radius at 160 wide for 1.9 diopters
    near_focus, _ = film([stripes(6)], {**values, "camcorder.focus": 0.5}, depth=depth)
    far_focus, _ = film([stripes(6)], {**values, "camcorder.focus": 8.0}, depth=depth)
    left, right = slice(10, W // 2 - 10), slice(W // 2 + 10, W - 10)

    def kept(out: np.ndarray, part: slice) -> float:
        return sharpness(out[:, part]) / sharpness(stripes(6)[:, part])

    assert kept(near_focus[0], left) > 0.95 and kept(far_focus[0], right) > 0.95
    assert kept(near_focus[0], right) < 0.6 and kept(far_focus[0], left) < 0.6


def edge_width(row: np.ndarray) -> int:
    """Pixels over which a dark-to-light step climbs from 10 % to 90 %."""
    lo, hi = row.min(), row.max()
    return int(np.count_nonzero((row > lo + 0.1 * (hi - lo)) & (row < lo + 0.9 * (hi - lo))))


def test_shutter_blurs_along_the_motion_by_its_open_time():
    rgb = flat(60)
    rgb[:, W // 2 :, :3] = 190
    pan = (12.0, 0.0)  # 12 px per frame at 24 fps; 1/60 s open is 0.4 frame: a 4.8 px streak
    widths = {}
    for shutter in (0.0, 1 / 60, 1 / 30):
        out, _ = film([rgb], {**OFF, "camcorder.shutter": shutter}, motion=pan)
        widths[shutter] = edge_width(luma(out[0])[H // 2])
    assert widths[0.0] == 0
    assert 3 <= widths[1 / 60] <= 5
    assert 7 <= widths[1 / 30] <= 10
    still, _ = film([rgb], {**OFF, "camcorder.shutter": 1 / 30})
    assert edge_width(luma(still[0])[H // 2]) == 0


def test_gain_noise_rises_as_the_exposure_servo_opens_up_in_the_dark():
    values = {**OFF, "camcorder.exposure_mode": "auto", "camcorder.gain_noise": 1.0}
    spreads, evs = [], []
    for level in (140, 70, 35):
        out, auto = film([flat(level)] * 3, values)
        spreads.append(float(luma(out[-1]).std()))
        evs.append(auto[-1].ev)
    assert evs[0] < evs[1] < evs[2]
    assert spreads[0] < spreads[1] < spreads[2]
    assert spreads[2] > 2.0 * spreads[0]
    quiet, _ = film([flat(35)] * 3, {**values, "camcorder.gain_noise": 0.0})
    assert luma(quiet[-1]).std() < 0.01


def fringe(out: np.ndarray, column: int) -> float:
    """Red centroid minus blue centroid across a thin white vertical line near ``column``."""
    rows = out[H // 2 - 5 : H // 2 + 5, column - 6 : column + 7].astype(float)
    x = np.arange(rows.shape[1])
    red, blue = rows[..., 0].mean(0), rows[..., 2].mean(0)
    red, blue = red - red.min(), blue - blue.min()
    return float((red * x).sum() / red.sum() - (blue * x).sum() / blue.sum())


def test_chromatic_aberration_fringes_grow_toward_the_edges():
    rgb = flat(30)
    columns = (W // 2, W // 2 + 35, W - 12)
    for c in columns:
        rgb[:, c, :3] = 230
    out, _ = film([rgb], {**OFF, "camcorder.aberration": 2.0})
    shifts = [fringe(out[0], c) for c in columns]
    assert abs(shifts[0]) < 0.1  # none in the middle (the line is half a pixel off centre)
    # red is imaged larger, blue smaller: red lands outward; the gap grows with the radius
    radius = [c + 0.5 - W / 2 for c in columns]
    expected = [2 * 0.02 * r for r in radius]  # 2 %: red +2 %, blue -2 % of the radius
    assert 0.7 * expected[1] < shifts[1] < 1.3 * expected[1]
    assert 0.7 * expected[2] < shifts[2] < 1.3 * expected[2]
    none, _ = film([rgb], OFF)
    assert abs(fringe(none[0], columns[2])) < 0.05


def combing(out: np.ndarray) -> float:
    """Mean luma difference between each even line and the odd line below it."""
    y = luma(out)
    return float(np.abs(y[0:-1:2] - y[1::2]).mean())


def test_a_fast_pan_combs_in_proportion_to_its_speed():
    values = {**OFF, "camcorder.interlace": True}
    amplitude = {}
    for speed in (0.0, 2.0, 6.0, 20.0):
        out, _ = film([stripes(32)], values, motion=(speed, 0.0))
        amplitude[speed] = combing(out[0])
    assert amplitude[0.0] < 0.01
    assert amplitude[0.0] < amplitude[2.0] < amplitude[6.0] < amplitude[20.0]
    # the lower field is 1/60 s later: at 24 fps a pan of v px/frame shifts it 0.4 v; stripes
    # 16 px wide comb by 120 codes over that shift at each of 2 edges per 32 px
    assert amplitude[6.0] == pytest.approx(120 * 2 * 0.4 * 6.0 / 32, rel=0.25)
    flat_out, _ = film([stripes(32)], {**OFF, "camcorder.interlace": False}, motion=(20.0, 0.0))
    assert combing(flat_out[0]) < 0.01


@pytest.mark.parametrize(
    "module", [backrooms.camcorder.optics, backrooms.camcorder.metering, backrooms.camcorder.sensor]
)
def test_camcorder_kernels_compile_for_a_gpu(module: object, tmp_path: object) -> None:
    assert_compiles_for_cuda(module, tmp_path)
