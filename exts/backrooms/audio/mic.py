"""The camcorder's own microphone: narrow stereo (mono at width 0) and an automatic gain control
that rides the level, so the hum sinks under every footstep and swells back after it (pumping)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import signal

from backrooms.audio.filters import butter, butter_zi

AGC_TARGET = 0.08  # the level (RMS) the AGC steers towards
AGC_RANGE = (0.5, 3.0)  # the most it cuts and boosts
AGC_SETTLE = 1024  # samples whose mean power the AGC starts from
AGC_FLOOR = 0.004  # below this the AGC stops boosting (it does not pump up the hiss of silence)


def mic(sound: np.ndarray, values: Mapping[str, Any], rate: int) -> np.ndarray:
    """(n, 2) ``sound`` as the camcorder's mic and AGC pass it on."""
    mid = 0.5 * (sound[:, 0] + sound[:, 1])
    side = 0.5 * (sound[:, 0] - sound[:, 1]) * values["width"]
    out = np.stack([mid + side, mid - side], axis=1)
    depth = values["agc"]
    if depth == 0.0:
        return out
    sos = butter(1, values["agc_speed"], "lowpass", rate)
    start = np.mean(mid[:AGC_SETTLE] ** 2)
    settled = butter_zi(1, values["agc_speed"], "lowpass", rate) * start  # as if that level had lasted
    power = signal.sosfilt(sos, mid * mid, zi=settled)[0]
    level = np.sqrt(np.maximum(power, 0.0)) + AGC_FLOOR
    gain = np.clip(AGC_TARGET / level, *AGC_RANGE) ** depth
    return out * gain[:, None]
