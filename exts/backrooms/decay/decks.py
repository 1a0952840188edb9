"""The machine the tape is played on (``decay.deck``): each changes bandwidth, grain, head
switching and the OSD, from the published figures of its class of equipment (docs/decay.md).

Factors are relative to a good 2-head home deck (the presets' reference): VHS's nominal
240 lines of luma resolution and a luma S/N of about 45 dB in SP.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Deck:
    luma_bw: float  # x the luma cut-off
    chroma_bw: float  # x the chroma cut-off
    grain: float  # x every noise amplitude (luma, chroma, composite)
    head_lines: float  # x the lines torn by head switching
    head_px: float  # x the sideways tear of head switching
    tracking: float  # added to the tracking band's strength (before the gain)
    dropouts: float  # x the dropout rate
    osd: str  # the OSD style (osd.STYLES)
    text: str


DECKS: dict[str, Deck] = {
    # The reference: a good 2-head home deck playing a camcorder's tape (what the presets describe).
    "home": Deck(1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, "home", "2-head home deck"),
    # Consumer VHS-C camcorder playing its own tape: ~230 lines, S/N ~43 dB; its small drum
    # (41.3 mm instead of 62 mm, heads switched to stand in for a 2-head drum) tears more lines.
    "camcorder": Deck(0.95, 0.95, 1.25, 1.15, 1.0, 0.0, 1.0, "camcorder", "VHS-C camcorder"),
    # 4-head hi-fi home deck: dedicated heads per speed, S/N ~47 dB, a clean, narrow switch (its SP
    # luma bandwidth is the format's, and the luma trap caps it anyway).
    "hifi": Deck(1.0, 1.0, 0.8, 0.8, 0.75, 0.0, 0.8, "hifi", "4-head hi-fi deck"),
    # Worn 2-head rental-shop deck: worn heads lose RF (S/N ~40 dB, more dropouts), misaligned
    # tracking, wide switching tear.
    "rental": Deck(0.85, 0.9, 1.8, 1.35, 1.5, 0.25, 2.0, "rental", "worn rental-shop deck"),
}
