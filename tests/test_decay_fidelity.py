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


# PAL and SECAM (docs/decay.md, "Colour standards"): the same tape speeds, their own subcarrier,
# colour matrix and line structure.


@pytest.mark.parametrize("standard", ["pal", "secam"])
def test_pal_and_secam_sp_bandwidths_lie_in_the_documented_bands(standard: str):
    quiet = tape(preset="sp", noise=0.0, standard=standard)
    assert 2.0 <= measure.luma_cutoff(quiet) <= 3.0
    assert 0.25 <= measure.chroma_cutoff(quiet) <= 0.6
    assert 0.25 <= measure.chroma_cutoff(quiet, channel=2) <= 0.6  # U and V share one bandwidth


@pytest.mark.parametrize("standard", ["pal", "secam"])
def test_pal_and_secam_sp_flat_field_snr_is_40_to_48_db(standard: str):
    assert 40.0 <= measure.flat_snr_db(tape(preset="sp", standard=standard)) <= 48.0


def flat_chroma(standard: str, **values) -> complex:
    """Mean chroma (I + jQ) of a flat red field through the tape, noise off."""
    field = np.full((240, 320, 4), 255, dtype=np.uint8)
    field[..., :3] = (180, 60, 50)
    out = tape(standard=standard, noise=0.0, vignette=0.0, **values)(field)
    planes = measure.yiq(out)[:, 40:200, 60:260]
    return complex(planes[1].mean(), planes[2].mean())


@pytest.mark.parametrize(
    "standard, hue_turn, saturation",
    [("ntsc", 30.0, 1.0), ("pal", 0.0, np.cos(np.radians(30.0))), ("secam", 0.0, 1.0)],
)
def test_a_30_degree_phase_error_turns_ntsc_hue_costs_pal_saturation_and_leaves_secam(
    standard: str, hue_turn: float, saturation: float
):
    clean, turned = flat_chroma(standard), flat_chroma(standard, hue=30.0)
    assert abs(np.degrees(np.angle(turned / clean)) - hue_turn) < 1.5
    assert abs(abs(turned) / abs(clean) - saturation) < 0.02


def fire(standard: str, rgb: tuple[int, int, int], noise: float) -> float:
    """Share of chroma samples a flat field's noise throws more than 0.1 off (impulses: fire)."""
    field = np.full((120, 720, 4), 255, dtype=np.uint8)
    field[..., :3] = rgb
    quiet = {"standard": standard, "snow": 0.0, "dropouts": 0.0, "vignette": 0.0}
    on, off = (measure.yiq(tape(noise=n, **quiet)(field))[1:, 10:100, 60:660] for n in (noise, 0.0))
    return float((np.abs(on - off) > 0.1).mean())


GREY, RED, DEEP_RED = (128, 128, 128), (180, 60, 50), (230, 30, 20)


def test_secam_fire_comes_from_the_fm_discriminator_and_grows_with_noise_and_saturation():
    """Near the FM threshold the discriminator slips a turn: impulses, not Gaussian streaks. They
    multiply with noise, and with saturation (the carrier swings off the colour channel's centre)."""
    assert fire("secam", RED, 1.0) < fire("secam", RED, 1.5) < fire("secam", RED, 2.0)
    grey, red, deep = (fire("secam", rgb, 2.0) for rgb in (GREY, RED, DEEP_RED))
    assert 0.0 < grey < red < deep and deep > 2.0 * grey
    assert fire("pal", DEEP_RED, 2.0) < 0.02 * fire("secam", DEEP_RED, 2.0)
