"""The tape's linear audio track measured on test tones: wow and flutter in their documented band,
bandwidth by tape speed, dropouts where the events are."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

import backrooms.audio.params  # noqa: F401  (declares the audio.* knobs)
from backrooms.audio.clock import RATE
from backrooms.audio.tape import BANDWIDTH, tape
from backrooms.params import ParamStore

TONE = 1000.0
SECONDS = 6.0


def knobs(**values: float) -> dict[str, object]:
    store = ParamStore()
    store.update({"audio.hiss": 0.0, "audio.wow": 0.0, "audio.flutter": 0.0, **values})
    return store.snapshot().node("audio")


def tone(freq: float = TONE, seconds: float = SECONDS, level: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return np.repeat((level * np.sin(2 * np.pi * freq * t))[:, None], 2, axis=1)


def play_track(sound, values, speed, seed, rate, events=None) -> np.ndarray:
    """A whole soundtrack recorded on and played back from the tape in one pass."""
    return tape(np.asarray(sound, np.float64), 0, (0, len(sound)), values, speed, events, seed, rate)


def speed_deviation(played: np.ndarray) -> np.ndarray:
    """Instantaneous frequency of the played tone / TONE - 1, smoothed over 10 ms, edges dropped."""
    phase = np.unwrap(np.angle(signal.hilbert(played[:, 0])))
    freq = np.diff(phase) * RATE / (2 * np.pi)
    smooth = np.convolve(freq, np.ones(480) / 480, mode="same")
    return smooth[RATE // 2 : -RATE // 2] / TONE - 1.0


def strongest_rate(deviation: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft((deviation - deviation.mean()) * np.hanning(len(deviation))))
    return float(np.fft.rfftfreq(len(deviation), 1.0 / RATE)[np.argmax(spectrum)])


@pytest.mark.parametrize(
    ("knob", "depth", "rate"),
    [("wow", 0.3, 0.7), ("wow", 0.6, 2.0), ("flutter", 0.1, 9.0), ("flutter", 0.2, 15.0)],
)
def test_wow_and_flutter_of_a_tone_lie_in_the_documented_band(knob: str, depth: float, rate: float) -> None:
    values = knobs(**{f"audio.{knob}": depth, f"audio.{knob}_rate": rate})
    deviation = speed_deviation(play_track(tone(), values, "sp", seed=1, rate=RATE))
    peak = 100.0 * np.abs(deviation).max()  # per cent, as the knob
    assert 0.85 * depth <= peak <= 1.1 * depth
    assert abs(strongest_rate(deviation) - rate) <= max(0.2, 0.05 * rate)


def test_without_wow_and_flutter_the_tone_holds_its_pitch() -> None:
    deviation = speed_deviation(play_track(tone(), knobs(), "sp", seed=1, rate=RATE))
    assert 100.0 * np.abs(deviation).max() < 0.01


@pytest.mark.parametrize("speed", ["sp", "lp", "ep"])
def test_the_tape_speed_sets_the_bandwidth(speed: str) -> None:
    edge = BANDWIDTH[speed]
    inside, outside = (
        np.sqrt(np.mean(play_track(tone(f, 0.5), knobs(), speed, seed=1, rate=RATE)[RATE // 10 :] ** 2))
        for f in (0.5 * edge, 1.6 * edge)
    )
    assert inside > 0.18  # a 0.3 tone passes (RMS 0.21) ...
    assert outside < 0.25 * inside  # ... and well above the edge it is cut


def test_hiss_grows_as_the_tape_slows() -> None:
    silence = np.zeros((RATE, 2))
    levels = [
        np.std(play_track(silence, knobs(**{"audio.hiss": 1.0}), s, seed=1, rate=RATE))
        for s in ("sp", "lp", "ep")
    ]
    assert 0.0 < levels[0] < levels[1] < levels[2]


def test_a_dropout_cuts_the_level_where_the_event_strikes() -> None:
    sound = tone(seconds=1.0)
    events = np.zeros(len(sound))
    events[20000:22000] = 1.0
    played = play_track(sound, knobs(), "sp", seed=1, rate=RATE, events=events)
    clean = play_track(sound, knobs(), "sp", seed=1, rate=RATE)
    hit, elsewhere = slice(20500, 21500), slice(30000, 40000)
    assert np.std(played[hit]) < 0.3 * np.std(clean[hit])
    np.testing.assert_allclose(played[elsewhere], clean[elsewhere], atol=1e-6)
