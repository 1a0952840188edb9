"""How hand-held a walk looks, measured on the cameras a render would use (no rendering).

``operator_stats`` samples ``World.camera`` at the render's frame rate and reports what a
filmmaker checks: how much the speed varies, the longest stop, the widest look away from the path,
and the camera's angular motion in the hand-tremor band (2-8 Hz).
"""

from __future__ import annotations

import math

import numpy as np

from backrooms.world.world import World


def _runs(flags: np.ndarray) -> np.ndarray:
    """Lengths of the runs of True in a boolean series."""
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    return np.nonzero(edges == -1)[0] - np.nonzero(edges == 1)[0]


def operator_stats(world: World, seconds: float = 30.0, fps: float = 24.0) -> dict[str, float]:
    """Speed coefficient of variation, longest stop (s), widest look-around (deg), tremor RMS in
    2-8 Hz (deg, yaw and pitch together) and that band's share of the angular motion above 0.5 Hz."""
    frames = round(seconds * fps)
    cams = [world.camera(f, fps) for f in range(frames + 1)]
    ground = [world.autopilot.ground(f / fps) for f in range(frames + 1)]
    position = np.array([c.position[[0, 2]] for c in cams], np.float64)
    forward = np.array([c.forward for c in cams], np.float64)
    yaw = np.unwrap(np.arctan2(-forward[:, 2], forward[:, 0]))
    pitch = np.arcsin(np.clip(forward[:, 1], -1.0, 1.0))
    heading = np.unwrap([g.heading for g in ground])
    away = (yaw - heading + math.pi) % (2 * math.pi) - math.pi  # gaze and hands, not the path's turns
    look = np.degrees(np.abs(away))
    speed = np.array([g.speed for g in ground])
    stops = _runs(speed < 0.05) / fps
    band, above = 0.0, 0.0
    freq = np.fft.rfftfreq(frames + 1, 1.0 / fps)
    for angle in (away, pitch):
        spectrum = np.abs(np.fft.rfft(np.degrees(angle - angle.mean()) * np.hanning(frames + 1))) ** 2
        band += spectrum[(freq >= 2.0) & (freq <= 8.0)].sum()
        above += spectrum[freq >= 0.5].sum()
    window_power = float(np.sum(np.hanning(frames + 1) ** 2))
    steps = np.linalg.norm(np.diff(position, axis=0), axis=1) * fps
    return {
        "speed_cv": float(steps.std() / max(steps.mean(), 1e-9)),
        "longest_stop_s": float(stops.max(initial=0.0)),
        "widest_look_deg": float(look.max()),
        "tremor_rms_deg": float(math.sqrt(2.0 * band / window_power / (frames + 1))),
        "tremor_share": float(band / above) if above > 0 else 0.0,
    }
