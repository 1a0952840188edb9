"""The room: every ceiling panel near the camera hums at the mains frequency, a flickering one
crackles on the frames it flickers, a dead one is silent; under it all, the room's low rumble.

The hum of all panels is summed as one complex amplitude per harmonic and channel (panels differ only
in level, pan and phase), so its cost does not grow with the number of panels. Levels ramp from the
previous camera's pose to this one's across the frame, which is also where the previous frame ended,
so the hum is continuous from frame to frame although each frame is made alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import signal

from backrooms.audio.clock import frame_bump, noise, ramp
from backrooms.audio.filters import butter
from backrooms.seeds import stream_key
from backrooms.world.cellhash import mix

HARMONICS = 12
HUM_SHAPE = np.array([1.0, 0.35, 0.2, 0.12, 0.08] + [0.0] * (HARMONICS - 5))  # x mains, 2x mains ...
BUZZ_SHAPE = np.array([0.0] + [0.3 * k**-0.8 for k in range(2, HARMONICS + 1)])  # a ballast's rasp
HUM_GAIN = 0.05  # a healthy panel at hum_distance: about -26 dBFS at the fundamental
CRACKLE_GAIN = 0.25
ROOM_GAIN = 0.006
MAINS_JITTER = 0.3  # radians: how far a panel's fundamental strays from the mains phase
NEAREST = 0.3  # metres: closer than this a panel sounds as loud as at this distance


def panel_levels(
    lights: Mapping[str, np.ndarray], pose: Mapping[str, np.ndarray], values: Mapping[str, Any]
) -> np.ndarray:
    """(N, 2) left/right amplitude of each panel heard from ``pose``: inverse distance, faded to zero
    at ``hum_radius``, equal-power panned by the panel's direction from the camera's forward."""
    offset = np.asarray(lights["position"], np.float64) - np.asarray(pose["position"], np.float64)
    distance = np.linalg.norm(offset, axis=1)
    near = values["hum_distance"] / np.maximum(distance, NEAREST)
    fade = np.clip(1.0 - (distance / values["hum_radius"]) ** 2, 0.0, 1.0) ** 2
    level = near * fade * np.asarray(lights["intensity"], np.float64) * np.asarray(lights["on"], bool)
    side = (offset * np.asarray(pose["right"], np.float64)).sum(axis=1)  # no BLAS: see ``hum``
    ahead = (offset * np.asarray(pose["forward"], np.float64)).sum(axis=1)
    pan = np.sin(np.arctan2(side, ahead))  # -1 hard left .. 1 hard right
    angle = (pan + 1.0) * (np.pi / 4)
    return level[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)


def hum(
    lights: Mapping[str, np.ndarray],
    camera: Mapping[str, Any],
    start: int,
    count: int,
    span: tuple[int, int],
    values: Mapping[str, Any],
    seed: int,
    mains: int,
    rate: int,
) -> np.ndarray:
    """(count, 2) hum and buzz of the panels ``lights`` (those ``nearby``) for absolute samples
    ``[start, start + count)``."""
    if len(lights["position"]) == 0:
        return np.zeros((count, 2))
    before = panel_levels(lights, camera["previous"], values)
    after = panel_levels(lights, camera, values)
    dip = np.asarray(lights["flicker"], np.float64)[:, None] * 0.5 * (before + after)
    rotors = np.exp(1j * panel_phases(seed, lights["key"]))  # (N, H)
    shape = (values["hum"] * HUM_SHAPE + values["buzz"] * BUZZ_SHAPE)[:, None]
    c_before, c_after, c_dip = (shape * np.einsum("nc,nh->hc", lv, rotors) for lv in (before, after, dip))
    table = mains_basis(mains, rate)
    basis = np.take(table, np.arange(start, start + count, dtype=np.int64) % table.shape[1], axis=1)
    # Im(c e^{j phi}) = Re(c) sin(phi) + Im(c) cos(phi): real products only, summed over the 2H rows
    # of the basis in their order by numpy, not by a BLAS: OpenBLAS picks its kernel by CPU, and its
    # AVX-512 and AVX2 kernels round these float32 sums differently, so the same take gave another
    # WAV on the Xeon and on the EPYC sandbox (OPENBLAS_CORETYPE=Haswell on the Xeon gave the EPYC's)
    amplitudes = np.concatenate([c_before, c_after - c_before, c_dip], axis=1)  # (H, 6)
    columns = np.concatenate([amplitudes.real, amplitudes.imag]).astype(np.float32).T  # (6, 2H)
    steady, change, dips = np.split((columns[:, :, None] * basis[None]).sum(axis=1), 3)
    u = ramp(start, count, span)
    bump = frame_bump(start, count, span)
    return HUM_GAIN * (steady + u * change - bump * dips).T.astype(np.float64)


@lru_cache(maxsize=4)
def mains_basis(mains: int, rate: int) -> np.ndarray:
    """(2 HARMONICS, period) float32: sin then cos of each harmonic of the mains over one period of
    samples (``rate / gcd(mains, rate)``: 800 at 60 Hz, 960 at 50 Hz). Sample ``n`` of the track reads
    column ``n % period``, so the phase is exact however long the take, and no frame recomputes it."""
    period = rate // math.gcd(mains, rate)
    n = np.arange(period, dtype=np.int64)
    carriers = np.empty((HARMONICS, period), np.complex64)
    carriers[0] = np.exp(2j * np.pi * ((mains * n) % rate) / rate)
    for h in range(1, HARMONICS):
        carriers[h] = carriers[h - 1] * carriers[0]
    basis = np.concatenate([carriers.imag, carriers.real])
    basis.flags.writeable = False
    return basis


def nearby(
    lights: Mapping[str, np.ndarray], camera: Mapping[str, Any], values: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The panels that are on and within ``hum_radius`` of either camera pose of the frame: the only
    ones heard (a neighbourhood holds thousands)."""
    position = np.asarray(lights["position"], np.float64)
    radius = values["hum_radius"]
    near = np.zeros(len(position), bool)
    for pose in (camera, camera["previous"]):
        near |= np.linalg.norm(position - np.asarray(pose["position"], np.float64), axis=1) < radius
    heard = near & np.asarray(lights["on"], bool)
    return {name: np.asarray(value)[heard] for name, value in lights.items()}


def panel_phases(seed: int, keys: np.ndarray) -> np.ndarray:
    """(N, HARMONICS) each panel's phase per harmonic, a splitmix64 hash of (seed, panel, harmonic).

    Every panel hangs on the same single-phase circuit, so their fundamentals are nearly in step
    (within ``MAINS_JITTER``) and add up; the ballasts' harmonics have their own phases and beat.
    """
    x = np.asarray(keys, np.uint64)[:, None] * np.uint64(HARMONICS) + np.arange(HARMONICS, dtype=np.uint64)
    x = mix(x + np.uint64(stream_key(seed, "audio.hum")))
    phases = (x >> np.uint64(11)).astype(np.float64) * (2 * np.pi / 2.0**53)
    phases[:, 0] = MAINS_JITTER * (phases[:, 0] / np.pi - 1.0)
    return phases


def crackle(
    lights: Mapping[str, np.ndarray],
    camera: Mapping[str, Any],
    start: int,
    count: int,
    span: tuple[int, int],
    values: Mapping[str, Any],
    seed: int,
    rate: int,
) -> np.ndarray:
    """(count, 2) arcing of flickering panels, inside this frame only and as strong as the dip seen
    in the picture: a hiss of high-passed noise and sparse ticks, panned like the panel's hum."""
    flicker = np.asarray(lights["flicker"], np.float64)
    if len(flicker) == 0 or not np.any(flicker > 0.0) or values["crackle"] == 0.0:
        return np.zeros((count, 2))
    gain = (flicker[:, None] * panel_levels(lights, camera, values)).sum(axis=0)  # (2,)
    raw = noise(seed, "crackle", start, count)
    hiss = signal.sosfilt(butter(2, 2500.0, "highpass", rate), raw)
    ticks = np.where(np.abs(raw) > 2.6, raw, 0.0)  # about 1 % of samples: dry clicks
    sound = (hiss + 2.0 * ticks) * frame_bump(start, count, span)
    return CRACKLE_GAIN * values["crackle"] * sound[:, None] * gain[None, :]


def room_tone(start: int, count: int, values: Mapping[str, Any], seed: int, rate: int) -> np.ndarray:
    """(count, 2) the building's rumble: low-passed noise, different in each ear."""
    if values["room_tone"] == 0.0:
        return np.zeros((count, 2))
    sos = butter(2, 180.0, "lowpass", rate)
    sides = signal.sosfilt(sos, np.stack([noise(seed, f"room.{side}", start, count) for side in "lr"]))
    return ROOM_GAIN * values["room_tone"] * sides.T
