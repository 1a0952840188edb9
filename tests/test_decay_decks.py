"""decay.deck: the machine playing the tape changes grain, head switching and the OSD."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.decay import measure, osd
from backrooms.decay.decks import DECKS
from backrooms.decay.tape import HostTape
from backrooms.params import ParamStore


def play(frame: np.ndarray, **values) -> np.ndarray:
    store = ParamStore()
    store.update({f"decay.{k}": v for k, v in values.items()})
    return HostTape(frame.shape[1], frame.shape[0], 1, 25.0, "cpu").process(frame, 0, store.snapshot())


def test_there_are_at_least_three_characters_besides_the_reference():
    assert {"camcorder", "hifi", "rental"} <= set(DECKS) and DECKS["home"].grain == 1.0


def test_grain_follows_the_decks_signal_to_noise_ratio():
    def snr(deck: str) -> float:
        return measure.flat_snr_db(lambda f: play(f, deck=deck))

    hifi, home, camcorder, rental = (snr(d) for d in ("hifi", "home", "camcorder", "rental"))
    assert hifi > home > camcorder > rental
    assert 46.0 <= hifi <= 49.0 and 38.0 <= rental <= 42.0


def torn_rows(deck: str) -> int:
    frame = np.full((240, 720, 4), 255, dtype=np.uint8)
    frame[..., :3] = np.random.default_rng(7).integers(40, 210, 240).repeat(3)[None, :, None]  # no period
    on = play(frame, deck=deck, noise=0.0).astype(int)
    off = play(frame, deck=deck, noise=0.0, head_switching=0.0).astype(int)
    return int((np.abs(on - off)[:, :600, :3].mean(axis=(1, 2)) > 8.0).sum())


def test_head_switching_is_narrow_on_the_hifi_deck_and_wide_on_the_rental_deck():
    assert torn_rows("hifi") < torn_rows("home") < torn_rows("rental")


def osd_pixels(deck: str) -> np.ndarray:
    """Where the OSD lights up a black frame (noise off), as a boolean mask."""
    black = np.zeros((240, 320, 4), dtype=np.uint8)
    on, off = (play(black, deck=deck, osd=o, noise=0.0)[..., :3].astype(int) for o in (True, False))
    return np.abs(on - off).sum(axis=2) > 150


@pytest.mark.parametrize("deck", ["camcorder", "hifi", "rental"])
def test_each_deck_lays_out_its_own_osd(deck: str):
    assert (osd_pixels(deck) != osd_pixels("home")).mean() > 0.005


def test_the_rental_deck_shows_a_big_green_play_and_no_date_stamp():
    black = np.zeros((240, 320, 4), dtype=np.uint8)
    out = play(black, deck="rental", osd=True, noise=0.0)[..., :3].astype(int)
    lit = out[out.sum(axis=2) > 200]
    assert len(lit) > 100 and (lit[:, 1] > lit[:, 0] + 60).mean() > 0.9  # green text only
    lines, _ = osd.layout(0, 25.0, "1997-06-14 21:32:05", "SP", 320, 240, "rental")
    assert lines[lines[:, 5] == osd.RECORDED, 4].sum() == 0  # no recorded line has any glyph


def test_decks_with_a_counter_count_tape_time():
    lines, glyphs = osd.layout(25 * 75, 25.0, "1997-06-14 21:32:05", "SP", 720, 576, "hifi")
    text = "".join(osd.CHARS[g] for g in glyphs[: lines[:, 4].sum()])
    assert "0:01:15" in text
