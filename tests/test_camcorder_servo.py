"""The automatics: the exposure servo's lag, overshoot and settling, white balance, autofocus."""

from __future__ import annotations

import numpy as np

from backrooms.camcorder.exposure import response
from camcorder_frames import OFF, film, flat, luma

FPS = 24.0


def panel_steps_in(frames_before: int, frames_after: int) -> list[np.ndarray]:
    """A dim room, then a bright ceiling panel across the top quarter of the frame."""
    dim = flat(70)
    lit = dim.copy()
    lit[: lit.shape[0] // 4, 40:120, :3] = 255
    return [dim] * frames_before + [lit] * frames_after


def step_response(hunt: float) -> tuple[np.ndarray, list[np.ndarray]]:
    values = {**OFF, "camcorder.exposure_mode": "auto", "camcorder.ae_hunt": hunt, "camcorder.ae_lag": 0.5}
    out, auto = film(panel_steps_in(24, 96), values, fps=FPS)
    return np.array([a.ev for a in auto]), out


def test_exposure_servo_lags_overshoots_and_settles_when_a_panel_enters():
    ev, out = step_response(0.3)
    before, after = ev[23], ev[-1]
    assert np.allclose(ev[:24], before)  # locked on the dim room
    step = before - after
    assert step > 0.5  # the panel pulls the exposure down by more than half a stop
    # lag: the frame the panel appears is still exposed (nearly) for the dim room
    assert before - ev[24] < 0.1 * step
    assert abs(luma(out[24])[60:].mean() - luma(out[23])[60:].mean()) < 3.0
    # overshoot: the servo goes past the new level (the room dips darker than it ends) ...
    overshoot = (after - ev[24:].min()) / step
    assert 0.15 < overshoot < 0.4
    # ... and settles: within 5 % of the step between 0.5 and 2 s after the panel appeared
    settled = np.abs(ev - after) < 0.05 * step
    first_settled = 24 + next(i for i in range(len(ev) - 24) if settled[24 + i :].all())
    assert 0.5 < (first_settled - 24) / FPS < 2.0
    room = [luma(f)[60:].mean() for f in out]
    assert min(room[24:]) < room[-1] - 2.0  # the overshoot shows as a visible dip of the room


def test_a_critically_damped_servo_does_not_overshoot():
    ev, _ = step_response(0.0)
    assert ev[24:].min() >= ev[-1] - 1e-6


def test_servo_weights_sum_to_one_and_overshoot_as_asked():
    for hunt in (0.0, 0.2, 0.4):
        w = response(72, FPS, 0.5, hunt)
        assert abs(w.sum() - 1.0) < 1e-9
        step = np.cumsum(w)
        assert abs((step.max() - 1.0) - hunt) < 0.03


def test_auto_exposure_brings_dim_and_bright_rooms_to_a_similar_level():
    values = {**OFF, "camcorder.exposure_mode": "auto"}
    dim, _ = film([flat(50)] * 4, values)
    bright, _ = film([flat(200)] * 4, values)
    manual_dim, _ = film([flat(50)] * 4, OFF)
    assert abs(luma(dim[-1]).mean() - luma(bright[-1]).mean()) < 12.0
    assert luma(manual_dim[-1]).mean() < luma(dim[-1]).mean() - 30.0


def test_white_balance_pulls_a_yellow_room_toward_grey_and_drifts_green_yellow():
    yellow = flat(0)
    yellow[..., :3] = (170, 150, 80)
    balanced, _ = film([yellow] * 90, {**OFF, "camcorder.white_balance": 1.0})
    r, _, b = balanced[-1].reshape(-1, 3).mean(0)
    assert r - b < 0.25 * (170 - 80)  # mostly neutralised after its lag
    _, auto = film([flat(120)] * 2, {**OFF, "camcorder.wb_drift": 2.0})
    gains = np.array(auto[0].wb)
    assert gains[1] >= gains[0] >= gains[2]  # the cast is green-yellow: blue down, green up


def test_autofocus_chases_the_centre_and_manual_focus_holds():
    values = {**OFF, "camcorder.af_hunt": 0.0}
    near, far = np.full((120, 160), 1.0, np.float32), np.full((120, 160), 8.0, np.float32)
    _, auto = film([flat(100)] * 48, values, depth=near)
    assert abs(auto[-1].focus - 1.0) < 0.02  # 1 m away: 1 diopter
    _, auto = film([flat(100)] * 48, values, depth=far)
    assert abs(auto[-1].focus - 0.125) < 0.02
    _, auto = film([flat(100)] * 4, {**values, "camcorder.focus": 2.0}, depth=far)
    assert all(a.focus == 0.5 for a in auto)


def test_autofocus_hunts_at_about_the_rate_asked():
    values = {**OFF, "camcorder.af_hunt": 2.0}
    _, auto = film([flat(100)] * 480, values, depth=4.0)  # 20 s
    off_target = np.array([abs(a.focus - 0.25) for a in auto])
    hunting = off_target > 0.3
    starts = np.flatnonzero(hunting[1:] & ~hunting[:-1])
    assert 1 <= len(starts) <= 8  # 2 per 10 s asked: a few in 20 s
    assert off_target.max() > 0.5  # a hunt racks the focus visibly (0.25 diopters is at infinity)
