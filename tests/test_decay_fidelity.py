"""The tape as an instrument: bandwidths on sine gratings and the noise floor (issue 5 targets)."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.decay import measure
from backrooms.decay.tape import HostTape
from backrooms.params import ParamStore


def tape(**values):
    """Frame -> frame through the decay pass with ``decay.<name>`` values (frame 3, seed 1)."""
    store = ParamStore()
    store.update({f"decay.{k}": v for k, v in values.items()})
    params = store.snapshot()

    def run(frame: np.ndarray) -> np.ndarray:
        return HostTape(frame.shape[1], frame.shape[0], 1, 30.0, "cpu").process(frame, 3, params)

    return run


def test_sp_luma_minus_3db_point_lies_between_2_and_3_mhz():
    assert 2.0 <= measure.luma_cutoff(tape(preset="sp", noise=0.0)) <= 3.0


def test_sp_chroma_minus_3db_point_lies_between_250_and_600_khz():
    assert 0.25 <= measure.chroma_cutoff(tape(preset="sp", noise=0.0)) <= 0.6


def test_slower_tape_speeds_have_less_luma_bandwidth():
    sp, lp, ep = (measure.luma_cutoff(tape(preset=p, noise=0.0)) for p in ("sp", "lp", "ep"))
    assert sp > lp > ep
    assert ep == pytest.approx(1.4, abs=0.15)


def test_sp_flat_field_luma_snr_with_noise_is_40_to_48_db():
    assert 40.0 <= measure.flat_snr_db(tape(preset="sp")) <= 48.0


def test_noise_zero_leaves_a_noise_free_flat_field():
    assert measure.flat_snr_db(tape(preset="found-footage", noise=0.0)) > 55.0


def test_each_dub_loses_more_luma_bandwidth():
    first = measure.luma_cutoff(tape(preset="sp", noise=0.0))
    third = measure.luma_cutoff(tape(preset="sp", noise=0.0, generations=2))
    assert third < 0.85 * first


def test_single_field_mode_doubles_every_line():
    frame = measure.grating(np.array([0.5, 1.0, 2.0]), 320, 0, 0.2)
    frame[::3, :, :3] = 40  # detail that differs between the two fields
    out = tape(preset="sp", noise=0.0, fields="upper", vignette=0.0)(frame)
    assert np.array_equal(out[0::2], out[1::2])
