"""On-screen display: our bitmap font, the recorded date stamp and the deck's PLAY text."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from backrooms.decay import osd
from backrooms.decay.tape import HostTape
from backrooms.errors import UserError
from backrooms.params import ParamStore


def frame_with(osd_on: bool) -> np.ndarray:
    store = ParamStore()
    store.update({"decay.osd": osd_on, "decay.noise": 0.0})
    black = np.zeros((240, 320, 4), dtype=np.uint8)
    return HostTape(320, 240, 1, 30.0, "cpu").process(black, 0, store.snapshot())


def test_play_text_is_drawn_top_left_when_osd_is_on():
    on, off = frame_with(True), frame_with(False)
    corner = (slice(10, 40), slice(15, 110))
    assert on[corner][..., :3].max() > 200
    assert off[corner][..., :3].max() < 40


def test_the_date_stamp_is_recorded_in_its_orange_colour():
    stamp = frame_with(True)[190:225, 15:180, :3].astype(int)
    lit = stamp[stamp.sum(axis=2) > 300]
    assert len(lit) > 50
    assert (lit[:, 0] > lit[:, 2]).mean() > 0.8  # red over blue: orange survived the tape


def test_the_font_spells_every_month_hour_and_tape_speed():
    for month in range(1, 13):
        for hour, speed in ((0, "SP"), (13, "LP"), (23, "EP")):
            lines, glyphs = osd.layout(0, 30.0, f"1997-{month:02d}-09 {hour:02d}:05:00", speed, 720, 480)
            text = "".join(osd.CHARS[g] for g in glyphs[: lines[:, 4].sum()])
            assert speed in text and ("AM" in text or "PM" in text)


def test_a_malformed_start_time_is_a_user_error():
    with pytest.raises(UserError, match="osd_start"):
        ParamStore().update({"decay.osd_start": "June 14th"})


def test_the_stamp_rolls_over_to_year_1_after_9999_instead_of_overflowing():
    assert osd.stamp_time("9999-12-31 23:59:59", 0, 24.0) == dt.datetime(9999, 12, 31, 23, 59, 59)
    assert osd.stamp_time("9999-12-31 23:59:59", 48, 24.0) == dt.datetime(1, 1, 1, 0, 0, 1)
    assert osd.stamp_time("1997-06-14 21:32:05", 48, 24.0) == dt.datetime(1997, 6, 14, 21, 32, 7)
    for frame in (0, 100, 10**6, 2**31, 10**15):
        lines, _ = osd.layout(frame, 24.0, "9999-12-31 23:59:59", "SP", 320, 240)
        assert lines[:, 4].sum() > 0


def test_a_still_decayed_with_a_stamp_at_the_end_of_the_calendar_is_written(tmp_path, capsys):
    from PIL import Image

    from backrooms.cli import main

    src, dst = tmp_path / "in.png", tmp_path / "out.png"
    Image.fromarray(np.zeros((48, 64, 3), np.uint8)).save(src)
    argv = ["decay", str(src), str(dst), "--frame", "100", "--set", "decay.osd=true"]
    assert main([*argv, "--set", "decay.osd_start=9999-12-31 23:59:59"]) == 0
    assert dst.is_file()
