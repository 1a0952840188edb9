"""NTSC/VHS signal facts and filter design, in plain numpy.

One pixel is one sample of the active line: 52.66 us spans the frame width, so a 720-px frame is
sampled at about 13.7 MHz (close to 4 x fsc) and a 1920-px frame at about 36 MHz. Cut-offs are
given in MHz and converted here, so the look does not change with resolution.

Every filter is causal and recursive (as in a real deck), described by coefficients that the Warp
kernels and the numpy reference both consume, and by an analytic frequency response used to
calibrate presets: a preset's luma and chroma cut-offs are the -3 dB points of the *whole* path.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

FSC_MHZ = 315.0 / 88.0  # NTSC colour subcarrier, 3.579545 MHz
ACTIVE_LINE_US = 52.66  # active (visible) part of one 63.5 us scan line
I_INPUT_MHZ = 1.3  # broadcast I bandwidth, applied when the picture is encoded
Q_INPUT_MHZ = 0.6  # broadcast Q bandwidth
DEMOD_MHZ = 1.5  # product detector low-pass after demodulation (removes 2 x fsc)
NOTCH_Q = 2.5  # quality of the luma trap at fsc (the deck's Y/C separation)
TAPE_POLES = 3  # tape-speed filters are a cascade of three identical one-pole stages
INV_SQRT2 = 1.0 / math.sqrt(2.0)

# sRGB-encoded RGB -> YIQ (FCC 1953); video works on gamma-encoded signals, so no linearisation.
RGB_TO_YIQ = np.array(
    [[0.299, 0.587, 0.114], [0.595716, -0.274453, -0.321263], [0.211456, -0.522591, 0.311135]],
    dtype=np.float64,
)
YIQ_TO_RGB = np.linalg.inv(RGB_TO_YIQ)
# sRGB-encoded RGB -> Y, V, U (PAL; also SECAM's colour-difference pair in this model), rows in
# the planes' order: the chain's first chroma plane carries V (on the cosine axis), the second U.
RGB_TO_YVU = np.array(
    [[0.299, 0.587, 0.114], [0.615, -0.51499, -0.10001], [-0.14713, -0.28886, 0.436]], dtype=np.float64
)
YVU_TO_RGB = np.linalg.inv(RGB_TO_YVU)


@dataclass(frozen=True)
class Standard:
    """A colour system: its subcarrier, its colour matrix and how chroma travels along the lines.

    ``line_phase``: "ntsc" (the subcarrier steps 180 degrees a line), "pal" (it steps 270 degrees,
    the quarter-line offset, and the V axis flips every line of a field, so a phase error turns
    hue one way on a line and the other way on the next and the deck's 1H delay line averages it
    into a loss of saturation), "secam" (one colour-difference signal per line, alternately, the
    other from the previous line; FM colour is immune to phase errors but its noise comes as
    impulses: "fire").
    """

    fsc_mhz: float
    to_planes: np.ndarray  # RGB -> (Y, C1, C2)
    c1_mhz: float  # encoder bandwidths of the two chroma planes
    c2_mhz: float
    line_phase: str
    fps: float  # frame rate a still is stamped at (a clip keeps its own rate)
    clip_fps: float  # a recipe's rate when it names none (graph/recipe.py standard_fps)
    trap_q: float = NOTCH_Q  # the luma trap: SECAM's is wider, its carrier swings 3.9-4.756 MHz

    @property
    def from_planes(self) -> np.ndarray:
        return np.linalg.inv(self.to_planes)


STANDARDS: dict[str, Standard] = {
    "ntsc": Standard(FSC_MHZ, RGB_TO_YIQ, I_INPUT_MHZ, Q_INPUT_MHZ, "ntsc", 30.0, 24.0),  # clips: film look
    "pal": Standard(4.43361875, RGB_TO_YVU, 1.3, 1.3, "pal", 25.0, 25.0),  # U and V both 1.3 MHz (PAL-B/G/I)
    "secam": Standard(4.286, RGB_TO_YVU, 1.3, 1.3, "secam", 25.0, 25.0, 1.2),  # at the bell's centre
}

# SECAM's FM colour (ITU-R BT.470): each line frequency-modulates the subcarrier with one colour
# difference, D'R = -1.902 (R'-Y') or D'B = 1.505 (B'-Y'), alternately.
SECAM_REST_MHZ = (4.40625, 4.25)  # rest frequencies of the D'R and D'B lines
SECAM_DEVIATION_MHZ = (0.280, 0.230)  # nominal deviation per unit of D'R, D'B
SECAM_LIMITS_MHZ = (3.900, 4.756)  # the modulator's frequency limits (D'R -506/+350 kHz, D'B -350/+506)
# Per unit of this model's planes (V = 0.877 (R'-Y'), U = 0.493 (B'-Y')): MHz of deviation.
SECAM_MHZ_PER_PLANE = (-1.902 / 0.877 * 0.280, 1.505 / 0.493 * 0.230)
SECAM_BELL_M0 = 0.115  # subcarrier amplitude at the bell's centre: 23 % of luma peak to peak
SECAM_BELL_Q = (16.0, 1.26)  # "cloche" G = M0 (1 + j 16 F) / (1 + j 1.26 F), F = f/f0 - f0/f
SECAM_EMPHASIS_KHZ = 85.0  # video pre-emphasis (1 + j f/85 kHz) / (1 + j f/255 kHz) on D'R, D'B
SECAM_CHANNEL_MHZ = 1.5  # the receiver's colour channel around the subcarrier (a one-pole half-width)


def sample_rate_mhz(width: int) -> float:
    """Samples per microsecond when ``width`` pixels span the 52.66 us active line."""
    return width / ACTIVE_LINE_US


def oversampling(width: int, fsc_mhz: float = FSC_MHZ) -> int:
    """Samples per pixel so that the 2 x fsc image of demodulation lands above 2 MHz (narrow frames)."""
    return max(1, math.ceil((2.0 * fsc_mhz + 2.0) / sample_rate_mhz(width)))


def cycles_per_sample(mhz: float, width: int) -> float:
    return mhz / sample_rate_mhz(width)


def one_pole_alpha(mhz: float, width: int) -> float:
    """Smoothing factor of ``s += a * (x - s)`` whose -3 dB point is ``mhz`` (exact, by bilinear warp)."""
    w = 2.0 * math.pi * min(cycles_per_sample(mhz, width), 0.499)
    # |a / (1 - b e^-jw)|^2 = 1/2 with b = 1 - a  ->  solve the quadratic in b.
    # 2 (1 - b)^2 = 1 - 2 b cos(w) + b^2  ->  b^2 - 2 (2 - cos w) b + 1 = 0, root in (0, 1).
    k = 2.0 - math.cos(w)
    b = k - math.sqrt(k * k - 1.0)
    return 1.0 - b


def one_pole_response(alpha: float, w: np.ndarray) -> np.ndarray:
    return alpha / (1.0 - (1.0 - alpha) * np.exp(-1j * w))


@dataclass(frozen=True)
class Biquad:
    """Direct form I coefficients with a0 normalised to 1."""

    b0: float
    b1: float
    b2: float
    a1: float
    a2: float

    def response(self, w: np.ndarray) -> np.ndarray:
        z1 = np.exp(-1j * w)
        z2 = z1 * z1
        return (self.b0 + self.b1 * z1 + self.b2 * z2) / (1.0 + self.a1 * z1 + self.a2 * z2)


def stable_cycles(cycles: float) -> float:
    """Keep a resonator's centre strictly inside (0, Nyquist); outside it the design is unstable."""
    return min(max(cycles, 0.01), 0.45)


def notch(cycles: float, q: float) -> Biquad:
    """RBJ notch: the luma trap that removes the colour subcarrier from the composite signal."""
    w0 = 2.0 * math.pi * stable_cycles(cycles)
    alpha = math.sin(w0) / (2.0 * q)
    a0 = 1.0 + alpha
    c = -2.0 * math.cos(w0)
    return Biquad(1.0 / a0, c / a0, 1.0 / a0, c / a0, (1.0 - alpha) / a0)


def bandpass(cycles: float, q: float) -> Biquad:
    """RBJ band-pass (0 dB peak): its decaying oscillation after an edge is the ringing halo."""
    w0 = 2.0 * math.pi * stable_cycles(cycles)
    alpha = math.sin(w0) / (2.0 * q)
    a0 = 1.0 + alpha
    return Biquad(alpha / a0, 0.0, -alpha / a0, -2.0 * math.cos(w0) / a0, (1.0 - alpha) / a0)


def bell_warp(cycles: float) -> float:
    """Q factor that keeps a resonator's shape near its centre after the bilinear transform.

    The transform stretches frequencies near the centre by w0 / sin(w0) (x2.1 at 720 px, where
    4.286 MHz is 0.31 cycles a sample), so an analogue Q is scaled by the inverse.
    """
    w0 = 2.0 * math.pi * stable_cycles(cycles)
    return math.sin(w0) / w0


def bell(cycles: float) -> Biquad:
    """SECAM's "cloche" on the recorded subcarrier, as a biquad: 1 at the centre, x12.7 far off it.

    G = (1 + j 16 F) / (1 + j 1.26 F) is 12.7 x a notch plus a band-pass of quality 1.26 (they
    share one denominator), so the RBJ designs give it directly.
    """
    hi, lo = SECAM_BELL_Q
    warp = bell_warp(cycles)
    n, b = notch(cycles, lo * warp), bandpass(cycles, lo * warp)
    g = hi / lo
    return Biquad(g * n.b0 + b.b0, g * n.b1 + b.b1, g * n.b2 + b.b2, n.a1, n.a2)


def anti_bell(cycles: float) -> Biquad:
    """The receiver's inverse of ``bell``: a resonator of quality 16 that restores a flat carrier."""
    hi, lo = SECAM_BELL_Q
    warp = bell_warp(cycles)
    n, b = notch(cycles, hi * warp), bandpass(cycles, hi * warp)
    g = lo / hi
    return Biquad(g * n.b0 + b.b0, g * n.b1 + b.b1, g * n.b2 + b.b2, n.a1, n.a2)


def alias(cycles: float) -> float:
    """Where a frequency in cycles/sample lands after sampling (narrow frames alias the subcarrier)."""
    f = cycles % 1.0
    return min(f, 1.0 - f)


def cutoff_3db(freqs_mhz: np.ndarray, gain: np.ndarray) -> float:
    """First frequency where ``gain`` (relative to DC) falls below -3 dB, linearly interpolated."""
    rel = gain / gain[0]
    below = np.nonzero(rel < INV_SQRT2)[0]
    if len(below) == 0:
        return float(freqs_mhz[-1])
    k = int(below[0])
    f0, f1, g0, g1 = freqs_mhz[k - 1], freqs_mhz[k], rel[k - 1], rel[k]
    return float(f0 + (INV_SQRT2 - g0) * (f1 - f0) / (g1 - g0))


def solve_cascade_pole(target_mhz: float, width: int, rest: Callable[[np.ndarray], np.ndarray]) -> float:
    """The one-pole alpha whose TAPE_POLES-fold cascade puts the whole path's -3 dB at ``target_mhz``.

    ``rest(w)`` is the complex response of everything else on the path; bisection on the pole's
    own cut-off, since the path's gain at the target grows monotonically with it.
    """
    target_mhz = min(target_mhz, 0.45 * sample_rate_mhz(width))
    w = np.array([2.0 * math.pi * cycles_per_sample(target_mhz, width)])
    dc = np.array([0.0])
    lo, hi = target_mhz, sample_rate_mhz(width) * 0.49
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        a = one_pole_alpha(mid, width)
        g = abs(rest(w) * one_pole_response(a, w) ** TAPE_POLES)[0] / abs(rest(dc))[0]
        lo, hi = (mid, hi) if g < INV_SQRT2 else (lo, mid)
    return one_pole_alpha(0.5 * (lo + hi), width)
