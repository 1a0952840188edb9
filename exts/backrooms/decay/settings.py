"""The decay node's knobs, and their resolution into one frame's numbers.

A preset is a point (tape speed, wear, dubs) on the wear scale (presets.py); ``wear`` moves further
along it and ``deck`` picks the machine that plays the tape (decks.py). Per-effect knobs are gains
on the amounts that gives (1 = as worn, 0 = off), so the same OSC fader means the same thing on
every preset. ``noise`` scales every random effect at once; at 0 only the
deterministic signal chain is left (filters, delays, halos, hue, vignette, OSD, dubbing).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from backrooms.decay import (
    events,  # noqa: F401 - declares the event knobs with the rest
    signal,
)
from backrooms.decay.decks import DECKS
from backrooms.decay.osd import parse_start
from backrooms.decay.presets import PRESETS, at
from backrooms.params import declare
from backrooms.seeds import warp_seed

NODE = "decay"

declare(
    NODE,
    "preset",
    "sp",
    "tape preset: healthy sp/lp/ep, or decayed worn/found-footage (a speed and a point on the wear scale)",
    choices=tuple(PRESETS),
)
declare(
    NODE,
    "wear",
    0.0,
    "how far past the preset the tape is worn: 0 as the preset, 1 on the edge of unplayable",
    min=0.0,
    max=1.0,
)
declare(
    NODE,
    "standard",
    "ntsc",
    "colour system: ntsc, pal (line-alternating phase), secam (line-sequential FM colour)",
    choices=tuple(signal.STANDARDS),
)
declare(NODE, "deck", "home", "the machine that plays the tape (bandwidth, noise, OSD)", choices=tuple(DECKS))
declare(
    NODE, "noise", 1.0, "master gain of every random effect (0 = deterministic chain only)", min=0.0, max=8.0
)
declare(
    NODE, "seed", 0, "offset added to the run seed for the tape's noise", min=0, max=2**31 - 1, kind="trigger"
)
GAINS: dict[str, str] = {
    "bleed": "chroma bleed: divides the preset's chroma bandwidth",
    "blur": "luma softness: divides the preset's luma bandwidth",
    "chroma_delay": "colour-under delay of chroma against luma",
    "smear": "extra luma low-pass smearing to the right",
    "sharpen": "playback peaking (white halos)",
    "ringing": "ringing halos after edges",
    "luma_noise": "band-limited luma grain",
    "chroma_noise": "band-limited colour noise streaks",
    "composite_noise": "noise in the composite signal (crawling dots)",
    "snow": "speckles",
    "dropouts": "white dropout streaks",
    "chroma_loss": "lines that lose their colour",
    "phase_noise": "per-line hue jitter",
    "head_switching": "sideways tear of the bottom lines (head switching)",
    "tracking": "tracking noise band",
    "edge_wave": "wobble of line starts",
    "jitter": "vertical jitter",
    "drift": "slow tint and saturation drift",
    "saturation": "colour saturation",
    "vignette": "darkened corners",
}
for _name, _text in GAINS.items():
    declare(NODE, _name, 1.0, f"{_text} (x worn amount)", min=0.0, max=8.0)
declare(NODE, "hue", 0.0, "extra chroma phase error", min=-180.0, max=180.0, unit="deg")
declare(NODE, "generations", 0, "extra dubs (re-recordings) on top of the preset's", min=0, max=8)
declare(
    NODE,
    "fields",
    "interleaved",
    "both fields, or one field line-doubled",
    choices=("interleaved", "upper", "lower"),
)
declare(NODE, "osd", False, "on-screen display: camcorder date stamp and VCR PLAY/speed")
declare(
    NODE,
    "osd_start",
    "1997-06-14 21:32:05",
    "date and time of the first frame's stamp (YYYY-MM-DD HH:MM:SS)",
    check=parse_start,
)
declare(
    NODE, "adversarial", 0.0, "adversarial noise budget (L-inf, in 1/255 steps; 0 = off)", min=0.0, max=32.0
)

SEGMENT = 64  # samples per thread on GPUs; CPUs run whole lines
NOISE_RATIO = 1e-4  # warm-up length: until a filter's memory of earlier samples is this small


@dataclass(frozen=True)
class Filters:
    """Coefficients of the deterministic chain for one width (see signal.py)."""

    carrier: float  # subcarrier, cycles per sample (all rates below are per sample, not per pixel)
    a_i_in: float
    a_q_in: float
    notch: signal.Biquad
    a_demod: float
    a_smear: float
    a_luma: float
    a_sharp: float
    ring: signal.Biquad
    a_chroma: float
    chroma_delay: int  # pixels chroma is moved right after the filters (negative: left)
    a_luma_noise: float
    a_chroma_noise: float
    a_comp_noise: float
    warmup: int  # pixels a GPU segment starts early so its filters forget their start
    over: int  # samples per pixel (narrow frames are oversampled to keep the subcarrier clean)
    # SECAM's FM colour (signal.py): the recorded bell, the receiver's anti-bell, its colour
    # channel around the subcarrier, and the video pre-/de-emphasis on the colour difference.
    bell: signal.Biquad
    anti_bell: signal.Biquad
    a_fm: float
    a_pre: float
    a_de: float


@lru_cache(maxsize=64)
def design(
    width: int,
    luma_cut: float,
    chroma_cut: float,
    bleed: float,
    smear: float,
    chroma_delay_us: float,
    sharpen: float,
    ringing: float,
    standard: str = "ntsc",
) -> Filters:
    """Filter coefficients for a width; the tape poles are solved so that the whole path, peaking
    and ringing included, has its -3 dB points at ``luma_cut`` and ``chroma_cut / bleed`` MHz."""
    std = signal.STANDARDS[standard]
    over = signal.oversampling(width, std.fsc_mhz)
    n = width * over  # samples per line
    carrier = signal.alias(signal.cycles_per_sample(std.fsc_mhz, n))
    notch = signal.notch(carrier, std.trap_q)
    a_sharp = signal.one_pole_alpha(2.0 * luma_cut, n)
    ring = signal.bandpass(signal.cycles_per_sample(1.3 * luma_cut, n), 2.5)

    def luma_rest(w: np.ndarray) -> np.ndarray:
        s = 1.0 + sharpen * (1.0 - signal.one_pole_response(a_sharp, w))
        return notch.response(w) * s * (1.0 + ringing * ring.response(w))

    a_i_in = signal.one_pole_alpha(std.c1_mhz, n)
    a_demod = signal.one_pole_alpha(signal.DEMOD_MHZ, n)
    a_fm = signal.one_pole_alpha(signal.SECAM_CHANNEL_MHZ, n)
    fm = std.line_phase == "secam"

    def chroma_rest(w: np.ndarray) -> np.ndarray:
        wc = 2.0 * math.pi * carrier
        sep = 0.5 * ((1.0 - notch.response(wc + w)) + np.conj(1.0 - notch.response(wc - w)))
        # FM: the discriminator follows the frequency about as far as the colour channel lets it.
        demod = signal.one_pole_response(a_fm if fm else a_demod, w)
        return signal.one_pole_response(a_i_in, w) * sep * demod

    a_luma = signal.solve_cascade_pole(luma_cut, n, luma_rest)
    a_chroma = signal.solve_cascade_pole(chroma_cut / bleed, n, chroma_rest) if bleed > 1e-3 else 1.0
    a_smear = signal.one_pole_alpha(2.0 ** (-4.0 * smear) * 0.25 * signal.sample_rate_mhz(n), n)
    a_smear = 1.0 if smear <= 0.0 else a_smear
    a_q_in = signal.one_pole_alpha(std.c2_mhz, n)
    a_luma_noise = signal.one_pole_alpha(min(luma_cut, 3.0), n)
    a_chroma_noise = signal.one_pole_alpha(0.4 * chroma_cut / 0.32, n)
    a_comp_noise = signal.one_pole_alpha(4.0, n)
    poles = [a_i_in, a_q_in, a_demod, a_luma, a_chroma, a_smear, a_luma_noise, a_chroma_noise, a_comp_noise]
    poles += [1.0 - math.sqrt(b.a2) for b in (notch, ring)]  # resonators: pole radius sqrt(a2)
    memory = max(math.log(1.0 / NOISE_RATIO) / -math.log(1.0 - min(a, 0.999)) for a in poles)
    warmup = max(math.ceil(TAPE_WARMUP_POLES * memory), math.ceil(DROPOUT_MAX_US * signal.sample_rate_mhz(n)))
    # The causal filters already make chroma lag luma by their group delay; the preset's colour-under
    # delay is the total, so the kernel shifts chroma by what is left (backwards if need be).
    lag_px = (
        sum((1.0 - a) / a for a in (a_i_in, a_fm if fm else a_demod, a_chroma, a_chroma, a_chroma)) / over
    )
    delay_px = chroma_delay_us * signal.sample_rate_mhz(width)
    return Filters(
        carrier=carrier,
        a_i_in=a_i_in,
        a_q_in=a_q_in,
        notch=notch,
        a_demod=a_demod,
        a_smear=a_smear,
        a_luma=a_luma,
        a_sharp=a_sharp,
        ring=ring,
        a_chroma=a_chroma,
        chroma_delay=max(-MAX_DELAY, min(round(delay_px - lag_px), MAX_DELAY)),
        a_luma_noise=a_luma_noise,
        a_chroma_noise=a_chroma_noise,
        a_comp_noise=a_comp_noise,
        warmup=math.ceil(warmup / over),
        over=over,
        bell=signal.bell(carrier),
        anti_bell=signal.anti_bell(carrier),
        a_fm=a_fm,
        a_pre=signal.one_pole_alpha(3.0 * signal.SECAM_EMPHASIS_KHZ / 1000.0, n),
        a_de=signal.one_pole_alpha(signal.SECAM_EMPHASIS_KHZ / 1000.0, n),
    )


# SECAM: rms tape noise in the colour channel = this x sqrt(chroma noise amount). The FM threshold
# is steep, so a square root keeps a clean SP tape (0.036) just below it and found footage at it.
FM_NOISE_PER_SQRT_CHROMA_NOISE = 0.33
TAPE_WARMUP_POLES = 1.6  # a 3-pole cascade needs ~1.6x a single pole's decay time to forget
MAX_DELAY = 255  # chroma delay cap in samples (also the per-row counter stride padding)
DROPOUT_MAX_US = 8.0  # a dropout fades out (to 2 %) within this time; segments warm up over it


@dataclass(frozen=True)
class FrameSettings:
    """Everything one frame of the tape needs: filters plus the random amounts and their seeds.

    The fields after ``seed`` are what the frame's tape events (events.py) add; 0 is none.
    """

    filters: Filters
    width: int
    height: int
    frame: int
    wear: float  # where on the wear scale this tape is (preset + knob)
    generations: int
    fields: int  # 0 both, 1 upper, 2 lower
    sharpen: float
    ringing: float
    hue_rad: float
    phase_noise_rad: float
    saturation: float
    luma_noise: float
    chroma_noise: float
    composite_noise: float
    snow_p: float  # per sample
    snow_decay: float
    snow_cycles: float
    dropout_p: float  # per sample
    chroma_loss_p: float  # per line
    head_lines: int
    head_px: float
    head_jitter_px: float
    head_mid_jitter: float  # share of the line the switch point wanders
    head_noise: float  # luma grain added in the switching band
    tracking: float
    tracking_lines: int
    edge_px: float
    jitter_lines: float
    drift: float
    vignette: float
    osd: bool
    osd_start: str
    osd_style: str
    speed_label: str
    adversarial: float
    seed: int
    standard: str = "ntsc"
    fm_noise: float = 0.0  # SECAM: rms noise in the colour channel before the FM discriminator
    roll_row: float = 0.0
    roll_lines: float = 1.0
    roll_level: float = 0.0
    crease_row: float = 0.0
    crease_lines: float = 1.0
    crease_level: float = 0.0
    tear_row: int = 1 << 30
    tear_px: float = 0.0
    clog: float = 0.0
    v_roll: float = 0.0
    blank_lines: int = 0
    blue: float = 0.0

    def seeds(self, generation: int) -> tuple[int, int]:
        """(per-sample, per-line) stream seeds for one recording generation of this frame."""
        return (
            warp_seed(self.seed, "decay", "samples", self.frame, generation),
            warp_seed(self.seed, "decay", "lines", self.frame, generation),
        )


def resolve(values: dict[str, Any], width: int, height: int, frame: int, run_seed: int) -> FrameSettings:
    """Turn the node's parameter values (``snapshot.node("decay")``) into one frame's settings."""
    point = PRESETS[values["preset"]]
    wear = round(min(point.wear + float(values["wear"]), 1.0), 3)  # bounded set of filter designs
    p = at(point.speed, wear)
    deck = DECKS[values["deck"]]
    g = {k: float(values[k]) for k in GAINS}
    noise = float(values["noise"])
    grain = deck.grain * noise
    sharpen, ringing = p.sharpen * g["sharpen"], p.ringing * g["ringing"]
    f = design(
        width,
        p.luma_cut_mhz * deck.luma_bw / max(g["blur"], 1e-3),
        p.chroma_cut_mhz * deck.chroma_bw,
        g["bleed"],
        p.smear * g["smear"],
        p.chroma_delay_us * g["chroma_delay"],
        sharpen,
        ringing,
        values["standard"],
    )
    n = width * f.over
    rate = signal.sample_rate_mhz(n)
    fm = values["standard"] == "secam"  # colour noise enters before the discriminator: fire
    px = width / 720.0  # distances are in pixels of a 720-px line
    lines = height / 480.0  # ... or lines of a 480-line frame
    field_lines = height / 240.0  # ... or lines of a 240-line field (head switching, tracking)
    return FrameSettings(
        filters=f,
        width=width,
        height=height,
        frame=frame,
        wear=wear,
        generations=point.generations + int(values["generations"]),
        fields=("interleaved", "upper", "lower").index(values["fields"]),
        sharpen=sharpen,
        ringing=ringing,
        hue_rad=math.radians(p.hue_deg + float(values["hue"])),
        phase_noise_rad=math.radians(p.phase_noise_deg) * g["phase_noise"] * noise,
        saturation=p.saturation * g["saturation"],
        luma_noise=p.luma_noise * g["luma_noise"] * grain,
        chroma_noise=0.0 if fm else p.chroma_noise * g["chroma_noise"] * grain,
        composite_noise=p.composite_noise * g["composite_noise"] * grain,
        snow_p=min(p.snow * g["snow"] * noise / 1000.0 / f.over, 0.5),
        snow_decay=math.exp(-1.0 / (0.5 * rate)),
        snow_cycles=signal.cycles_per_sample(2.0, n),
        dropout_p=min(p.dropouts * deck.dropouts * g["dropouts"] * noise / 1000.0 / n, 0.1),
        chroma_loss_p=min(p.chroma_loss * g["chroma_loss"] * noise, 1.0),
        head_lines=max(1, round(p.head_switching_lines * deck.head_lines * field_lines)),
        head_px=p.head_switching_px * deck.head_px * g["head_switching"] * px,
        head_jitter_px=10.0 * g["head_switching"] * noise * px,
        head_mid_jitter=min(0.03 * noise, 0.05),
        head_noise=0.06 * g["head_switching"] * grain,
        tracking=min((p.tracking + deck.tracking) * g["tracking"] * noise, 4.0),
        tracking_lines=max(1, round(p.tracking_lines * field_lines)),
        edge_px=p.edge_wave_px * g["edge_wave"] * noise * px,
        jitter_lines=p.jitter_lines * g["jitter"] * noise * lines,
        drift=p.drift * g["drift"] * noise,
        vignette=min(p.vignette * g["vignette"], 1.0),
        osd=bool(values["osd"]),
        osd_start=str(values["osd_start"]),
        osd_style=deck.osd,
        speed_label=point.speed.upper(),
        adversarial=float(values["adversarial"]) / 255.0,
        seed=run_seed + int(values["seed"]),
        standard=values["standard"],
        fm_noise=FM_NOISE_PER_SQRT_CHROMA_NOISE * math.sqrt(p.chroma_noise * g["chroma_noise"] * grain)
        if fm
        else 0.0,
    )
