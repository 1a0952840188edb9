"""On-screen display: a 5x7 bitmap font of our own and the layout of the stamps.

Two layers, as on real equipment: the camcorder's date/time stamp is *recorded*, so it is drawn
before the tape and decays with the picture; the VCR's ``PLAY >`` and tape speed are drawn by the
deck on *playback*, clean, after the tape.
"""

from __future__ import annotations

import datetime as dt

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
LINE_FIELDS = 6  # x, y, scale, first glyph, glyph count, layer


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
    frame: int, fps: float, start: str, speed: str, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """The OSD text of one frame as (lines (MAX_LINES, 6) int32, glyph indices (MAX_CHARS,) int32)."""
    when = stamp_time(start, frame, fps)
    hour = when.hour % 12 or 12
    texts = [
        (f"{hour}:{when:%M:%S} {'PM' if when.hour >= 12 else 'AM'}", RECORDED, 0.07, 0.80),
        (f"{when:%b}".upper() + f". {when.day} {when.year}", RECORDED, 0.07, 0.88),
        ("PLAY >", PLAYBACK, 0.07, 0.07),
        (speed, PLAYBACK, 0.86, 0.07),
    ]
    scale = max(1, round(3 * height / 480))
    lines = np.zeros((MAX_LINES, LINE_FIELDS), dtype=np.int32)
    glyphs = np.zeros(MAX_CHARS, dtype=np.int32)
    first = 0
    for k, (text, layer, fx, fy) in enumerate(texts):
        codes = encode(text)
        glyphs[first : first + len(codes)] = codes
        lines[k] = (int(fx * width), int(fy * height), scale, first, len(codes), layer)
        first += len(codes)
    return lines, glyphs
