"""Tape speeds, the wear scale and the named presets that are points on it.

Two axes, as on a real tape: the **speed** (``sp``/``lp``/``ep``) sets the bandwidths and the grain
of a healthy recording (cut-offs after CVS/ntsc-rs: 80 % of the 3.0 MHz / 400-350 kHz format
limits), and the **wear** (0..1) moves every amount from a pristine first-generation recording
(wear 0) towards a tape on the edge of unplayable (wear 1, ``RUINED``) along its own curve
``wear ** CURVE[field]``: grain and hue errors come early (exponent < 1.5), smear, snow, dropouts and
mistracking late (exponent 2), so the middle of the scale reads as "a tape" before it reads as
"damage". A named preset is a (speed, wear, dubs) point; ``decay.wear`` moves further along the
scale from it. Distances are in microseconds, pixels of a 720-px line or lines of a 240-line
field and are rescaled to the frame, so a preset looks the same at any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Preset:
    luma_cut_mhz: float  # -3 dB of the whole luma path
    chroma_cut_mhz: float  # -3 dB of the whole chroma path
    chroma_delay_us: float  # colour-under delay of chroma against luma
    smear: float  # 0..1 extra luma low-pass (smear to the right)
    sharpen: float  # playback peaking gain
    ringing: float  # halo gain of the ringing resonator
    luma_noise: float  # rms of band-limited luma noise (1 = white - black)
    chroma_noise: float  # rms of band-limited I/Q noise
    composite_noise: float  # rms of noise in the composite signal (shows as dot-crawl grain)
    snow: float  # speckle events per 1000 samples
    dropouts: float  # dropout streaks per 1000 lines
    chroma_loss: float  # share of lines that lose their colour
    phase_noise_deg: float  # rms per-line hue jitter
    hue_deg: float  # fixed chroma phase error
    head_switching_px: float  # horizontal tear of the last line (pixels of a 720-px line)
    head_switching_lines: float  # lines of a 240-line field torn by head switching
    tracking: float  # 0..1 strength of the tracking noise band
    tracking_lines: float  # lines of a 240-line field in the tracking band
    edge_wave_px: float  # rms wobble of line starts
    jitter_lines: float  # vertical jitter (rms lines of a 480-line frame)
    drift: float  # tint / saturation drift depth
    saturation: float
    vignette: float


SP = Preset(
    luma_cut_mhz=2.4,
    chroma_cut_mhz=0.32,
    chroma_delay_us=0.28,
    smear=0.0,
    sharpen=0.25,
    ringing=0.08,
    luma_noise=0.0052,
    chroma_noise=0.012,
    composite_noise=0.002,
    snow=0.002,
    dropouts=0.3,
    chroma_loss=0.0002,
    phase_noise_deg=1.0,
    hue_deg=0.0,
    head_switching_px=36.0,
    head_switching_lines=5.0,
    tracking=0.0,
    tracking_lines=7.0,
    edge_wave_px=0.35,
    jitter_lines=0.0,
    drift=0.2,
    saturation=0.95,
    vignette=0.08,
)

# A healthy recording at each tape speed: narrower tracks, less bandwidth, more grain.
SPEEDS: dict[str, Preset] = {
    "sp": SP,
    "lp": replace(
        SP, luma_cut_mhz=1.9, chroma_cut_mhz=0.30, chroma_delay_us=0.35, luma_noise=0.008, snow=0.006
    ),
    "ep": replace(
        SP,
        luma_cut_mhz=1.4,
        chroma_cut_mhz=0.28,
        chroma_delay_us=0.42,
        luma_noise=0.012,
        chroma_noise=0.02,
        snow=0.015,
        edge_wave_px=0.6,
    ),
}

# Wear 1 at SP speed: worn heads and oxide (less bandwidth, halos), a stretched, creased tape.
RUINED = replace(
    SP,
    luma_cut_mhz=1.7,
    chroma_cut_mhz=0.26,
    chroma_delay_us=0.6,
    smear=0.45,
    sharpen=0.7,
    ringing=0.35,
    luma_noise=0.022,
    chroma_noise=0.03,
    composite_noise=0.012,
    snow=0.35,
    dropouts=40.0,
    chroma_loss=0.02,
    phase_noise_deg=8.0,
    hue_deg=-6.0,
    head_switching_px=64.0,
    head_switching_lines=8.0,
    tracking=1.0,
    tracking_lines=16.0,
    edge_wave_px=2.5,
    jitter_lines=0.8,
    drift=2.0,
    saturation=0.65,
    vignette=0.35,
)

# Exponent of each amount's curve over wear (1 = linear); cut-offs fall as a ratio, the rest add
# RUINED - SP on top of the speed's healthy amount.
CURVE: dict[str, float] = {
    "luma_cut_mhz": 1.5,
    "chroma_cut_mhz": 1.5,
    "chroma_delay_us": 1.0,
    "smear": 2.0,
    "sharpen": 1.0,
    "ringing": 1.5,
    "luma_noise": 1.3,
    "chroma_noise": 1.3,
    "composite_noise": 1.5,
    "snow": 2.0,
    "dropouts": 2.0,
    "chroma_loss": 2.0,
    "phase_noise_deg": 1.3,
    "hue_deg": 1.5,
    "head_switching_px": 1.0,
    "head_switching_lines": 1.0,
    "tracking": 2.0,
    "tracking_lines": 1.0,
    "edge_wave_px": 1.5,
    "jitter_lines": 2.0,
    "drift": 1.0,
    "saturation": 1.0,
    "vignette": 1.0,
}
RATIO_FIELDS = ("luma_cut_mhz", "chroma_cut_mhz")


@dataclass(frozen=True)
class Point:
    """A named preset: a tape speed, a place on the wear scale, and dubs before this copy."""

    speed: str
    wear: float
    generations: int


PRESETS: dict[str, Point] = {
    "sp": Point("sp", 0.0, 0),
    "lp": Point("lp", 0.0, 0),
    "ep": Point("ep", 0.0, 0),
    "worn": Point("lp", 0.5, 1),
    "found-footage": Point("ep", 0.8, 0),
}


def at(speed: str, wear: float) -> Preset:
    """Every amount of a tape at ``speed`` worn to ``wear`` (0..1)."""
    base = SPEEDS[speed]
    wear = min(max(wear, 0.0), 1.0)
    values = {}
    for f in fields(Preset):
        b, lo, hi, c = getattr(base, f.name), getattr(SP, f.name), getattr(RUINED, f.name), CURVE[f.name]
        k = wear**c
        values[f.name] = b * (hi / lo) ** k if f.name in RATIO_FIELDS else b + (hi - lo) * k
    return Preset(**values)
