"""Tape presets: the base amount of every effect, which the ``decay.*`` gains then scale.

``sp``/``lp``/``ep`` are healthy tape at the three speeds (cut-offs after CVS/ntsc-rs: 80 % of the
3.0 MHz / 400-350 kHz format limits); ``worn`` and ``found-footage`` add the decay of a tape that
was played a hundred times and dubbed. Distances are in microseconds or pixels of a 720-px line
and are rescaled to the frame, so a preset looks the same at any resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


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
    head_switching_px: float  # horizontal tear of the last line
    head_switching_lines: int
    tracking: float  # 0..1 strength of the tracking noise band
    tracking_lines: int
    edge_wave_px: float  # rms wobble of line starts
    jitter_lines: float  # vertical jitter (rms lines)
    drift: float  # tint / saturation drift depth
    saturation: float
    vignette: float
    generations: int  # dubs before this copy


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
    head_switching_px=14.0,
    head_switching_lines=6,
    tracking=0.0,
    tracking_lines=14,
    edge_wave_px=0.35,
    jitter_lines=0.0,
    drift=0.2,
    saturation=0.95,
    vignette=0.08,
    generations=0,
)

PRESETS: dict[str, Preset] = {
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
    "worn": replace(
        SP,
        luma_cut_mhz=1.9,
        chroma_cut_mhz=0.30,
        chroma_delay_us=0.45,
        smear=0.35,
        sharpen=0.5,
        ringing=0.25,
        luma_noise=0.02,
        chroma_noise=0.05,
        composite_noise=0.01,
        snow=0.08,
        dropouts=8.0,
        chroma_loss=0.004,
        phase_noise_deg=4.0,
        hue_deg=4.0,
        head_switching_px=28.0,
        head_switching_lines=8,
        tracking=0.5,
        tracking_lines=20,
        edge_wave_px=1.2,
        jitter_lines=0.35,
        drift=1.0,
        saturation=0.8,
        vignette=0.2,
        generations=1,
    ),
    "found-footage": replace(
        SP,
        luma_cut_mhz=1.4,
        chroma_cut_mhz=0.28,
        chroma_delay_us=0.6,
        smear=0.5,
        sharpen=0.8,
        ringing=0.4,
        luma_noise=0.035,
        chroma_noise=0.08,
        composite_noise=0.02,
        snow=0.3,
        dropouts=25.0,
        chroma_loss=0.02,
        phase_noise_deg=8.0,
        hue_deg=-6.0,
        head_switching_px=40.0,
        head_switching_lines=10,
        tracking=1.0,
        tracking_lines=32,
        edge_wave_px=2.5,
        jitter_lines=0.8,
        drift=2.0,
        saturation=0.65,
        vignette=0.35,
        generations=2,
    ),
}
