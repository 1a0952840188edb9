"""Per-frame unique noise, and every frame reproducible on its own."""

from __future__ import annotations

import numpy as np

from backrooms.decay.tape import HostTape
from backrooms.params import ParamStore


def grey(width: int = 160, height: int = 120) -> np.ndarray:
    frame = np.full((height, width, 4), 255, dtype=np.uint8)
    frame[..., :3] = 128
    return frame


def decay(frame_index: int, run_seed: int = 1, **values) -> np.ndarray:
    store = ParamStore()
    store.update({f"decay.{k}": v for k, v in values.items()})
    return HostTape(160, 120, run_seed, 30.0, "cpu").process(grey(), frame_index, store.snapshot())


def test_consecutive_frames_get_different_noise():
    a, b = decay(10), decay(11)
    assert (a != b).mean() > 0.3


def test_a_frame_is_reproduced_exactly_when_made_alone():
    assert np.array_equal(decay(42), decay(42))


def test_the_run_seed_changes_the_noise():
    assert (decay(5, run_seed=1) != decay(5, run_seed=2)).mean() > 0.3


def test_the_decay_seed_offset_changes_the_noise():
    assert (decay(5) != decay(5, seed=7)).mean() > 0.3


def test_noise_zero_repeats_with_the_two_frame_ntsc_colour_sequence():
    assert np.array_equal(decay(4, noise=0.0), decay(6, noise=0.0))
