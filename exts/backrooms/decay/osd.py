"""On-screen display: a 5x7 bitmap font of our own and the layout of the stamps.

Two layers, as on real equipment: the camcorder's date/time stamp is *recorded*, so it is drawn
before the tape and decays with the picture; the VCR's ``PLAY >`` and tape speed are drawn by the
deck on *playback*, clean, after the tape. Where and in what colour each line goes is the
``STYLES`` entry of the chosen deck (``decay.deck``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

# Each glyph: 7 rows, 5 bits per row, most significant bit = leftmost pixel.
_GLYPHS: dict[str, tuple[int, ...]] = {
    " ": (0, 0, 0, 0, 0, 0, 0),
    "0": (14, 17, 19, 21, 25, 17, 14),
    "1": (4, 12, 4, 4, 4, 4, 14),
    "2": (14, 17, 1, 2, 4, 8, 31),
    "3": (31, 2, 4, 2, 1, 17, 14),
    "4": (2, 6, 10, 18, 31, 2, 2),
    "5": (31, 16, 30, 1, 1, 17, 14),
    "6": (6, 8, 16, 30, 17, 17, 14),
    "7": (31, 1, 2, 4, 8, 8, 8),
    "8": (14, 17, 17, 14, 17, 17, 14),
    "9": (14, 17, 17, 15, 1, 2, 12),
    ":": (0, 12, 12, 0, 12, 12, 0),
    ".": (0, 0, 0, 0, 0, 12, 12),
    "-": (0, 0, 0, 31, 0, 0, 0),
    ">": (16, 24, 28, 30, 28, 24, 16),  # the PLAY triangle
    "A": (14, 17, 17, 31, 17, 17, 17),
    "B": (30, 17, 17, 30, 17, 17, 30),
    "C": (14, 17, 16, 16, 16, 17, 14),
    "D": (28, 18, 17, 17, 17, 18, 28),
    "E": (31, 16, 16, 30, 16, 16, 31),
    "F": (31, 16, 16, 30, 16, 16, 16),
    "G": (14, 17, 16, 23, 17, 17, 15),
    "H": (17, 17, 17, 31, 17, 17, 17),
    "I": (14, 4, 4, 4, 4, 4, 14),
    "J": (7, 2, 2, 2, 2, 18, 12),
    "L": (16, 16, 16, 16, 16, 16, 31),
    "M": (17, 27, 21, 21, 17, 17, 17),
    "N": (17, 17, 25, 21, 19, 17, 17),
    "O": (14, 17, 17, 17, 17, 17, 14),
    "P": (30, 17, 17, 30, 16, 16, 16),
    "R": (30, 17, 17, 30, 20, 18, 17),
    "S": (15, 16, 16, 14, 1, 1, 30),
    "T": (31, 4, 4, 4, 4, 4, 4),
    "U": (17, 17, 17, 17, 17, 17, 14),
    "V": (17, 17, 17, 17, 17, 10, 4),
    "Y": (17, 17, 10, 4, 4, 4, 4),
}
CHARS = "".join(_GLYPHS)
FONT = np.array([_GLYPHS[c] for c in CHARS], dtype=np.int32)
GLYPH_W, GLYPH_H, CELL_W, CELL_H = 5, 7, 6, 8
MAX_LINES = 4
MAX_CHARS = 64
RECORDED, PLAYBACK = 0, 1
LINE_FIELDS = 7  # x, y, scale, first glyph, glyph count, layer, colour 0xRRGGBB
AMBER, WHITE, GREEN = 0xFFC740, 0xEBEBEB, 0x5CFF6A


@dataclass(frozen=True)
class Style:
    """One machine's OSD: the stamp's form, colours, where each line goes and the glyph size."""

    stamp: str  # "two-line" (time over date, camcorder), "one-line" (date and time), "none"
    stamp_colour: int
    stamp_at: tuple[float, float]  # left, top of the stamp as shares of the frame
    play_text: str
    play_at: tuple[float, float]
    speed_at: tuple[float, float]
    deck_colour: int
    scale: float  # glyph pixels per font pixel at 480 lines
    counter: bool  # a tape counter H:MM:SS under the speed


STYLES: dict[str, Style] = {
    "home": Style("two-line", AMBER, (0.07, 0.80), "PLAY >", (0.07, 0.07), (0.86, 0.07), WHITE, 3.0, False),
    "camcorder": Style("one-line", AMBER, (0.36, 0.87), "PLAY", (0.07, 0.07), (0.78, 0.07), WHITE, 2.5, True),
    "hifi": Style("one-line", WHITE, (0.30, 0.88), "> PLAY", (0.07, 0.07), (0.70, 0.07), WHITE, 2.5, True),
    "rental": Style("none", WHITE, (0.0, 0.0), "PLAY", (0.09, 0.09), (0.09, 0.19), GREEN, 4.0, False),
}


# The stamp's calendar runs from year 1 to 9999 and then rolls over to year 1, like a counter.
EPOCH = dt.datetime.min
CALENDAR = dt.datetime.max - dt.datetime.min + dt.timedelta.resolution


def parse_start(text: str) -> dt.datetime:
    """``decay.osd_start`` as a datetime; the registry's check for that knob (ValueError if it is not one)."""
    try:
        return dt.datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise ValueError(f"expected YYYY-MM-DD HH:MM:SS, got {text[:40]!r}") from None


def stamp_time(start: str, frame: int, fps: float) -> dt.datetime:
    """The date and time on ``frame``'s stamp, for any frame (it wraps instead of overflowing)."""
    elapsed = dt.timedelta(seconds=(frame / fps) % CALENDAR.total_seconds())
    return EPOCH + ((parse_start(start) - EPOCH) + elapsed) % CALENDAR


def encode(text: str) -> list[int]:
    return [CHARS.index(c) for c in text]


def layout(
    frame: int, fps: float, start: str, speed: str, width: int, height: int, style: str = "home"
) -> tuple[np.ndarray, np.ndarray]:
    """The OSD text of one frame as (lines (MAX_LINES, 7) int32, glyph indices (MAX_CHARS,) int32)."""
    st = STYLES[style]
    when = stamp_time(start, frame, fps)
    hour = when.hour % 12 or 12
    clock = f"{hour}:{when:%M:%S} {'PM' if when.hour >= 12 else 'AM'}"
    date = f"{when:%b}".upper() + f". {when.day} {when.year}"
    sx, sy = st.stamp_at
    texts = [
        (st.play_text, PLAYBACK, *st.play_at, st.deck_colour),
        (speed, PLAYBACK, *st.speed_at, st.deck_colour),
    ]
    if st.stamp == "two-line":
        texts += [
            (clock, RECORDED, sx, sy, st.stamp_colour),
            (date, RECORDED, sx, sy + 0.08, st.stamp_colour),
        ]
    elif st.stamp == "one-line":
        texts.append((f"{date} {clock}", RECORDED, sx, sy, st.stamp_colour))
    if st.counter:
        seconds = int(frame / fps)
        counter = f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        texts.append((counter, PLAYBACK, st.speed_at[0], st.speed_at[1] + 0.08, st.deck_colour))
    scale = max(1, round(st.scale * height / 480))
    lines = np.zeros((MAX_LINES, LINE_FIELDS), dtype=np.int32)
    glyphs = np.zeros(MAX_CHARS, dtype=np.int32)
    first = 0
    for k, (text, layer, fx, fy, colour) in enumerate(texts):
        codes = encode(text)
        glyphs[first : first + len(codes)] = codes
        lines[k] = (int(fx * width), int(fy * height), scale, first, len(codes), layer, colour)
        first += len(codes)
    return lines, glyphs
