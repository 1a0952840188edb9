"""Measurements of the tape as an instrument: frequency response on sine gratings, and SNR.

A grating frame holds one horizontal sine per band of lines, each at its own frequency (MHz on
the 52.66 us line), so one pass through the tape measures a whole response curve. Amplitudes are
read by a least-squares fit of sin, cos and a constant to each band's middle lines (phase, i.e.
delay, does not matter)
and normalised by the lowest frequency's amplitude.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from backrooms.decay import signal

Frame = np.ndarray  # (H, W, 4) uint8
Tape = Callable[[Frame], Frame]

BAND_LINES = 10
MARGIN = 0.15  # share of the line left out at each end (filter start-up, chroma delay)


def grating(freqs_mhz: np.ndarray, width: int, channel: int, amplitude: float) -> Frame:
    """A frame of horizontal YIQ sine gratings on mid grey: ``channel`` 0 = Y, 1 = I, 2 = Q."""
    height = BAND_LINES * len(freqs_mhz)
    cycles = np.asarray(freqs_mhz) / signal.sample_rate_mhz(width)
    x = np.arange(width)
    wave = amplitude * np.sin(2.0 * np.pi * cycles[:, None] * x[None, :])
    yiq = np.zeros((3, len(freqs_mhz), width))
    yiq[0] = 0.5
    yiq[channel] += wave
    rgb = np.einsum("kc,cbw->bwk", signal.YIQ_TO_RGB, yiq).repeat(BAND_LINES, axis=0)
    frame = np.full((height, width, 4), 255, dtype=np.uint8)
    frame[..., :3] = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
    return frame


def yiq(frame: Frame) -> np.ndarray:
    return np.einsum("kc,hwc->khw", signal.RGB_TO_YIQ, frame[..., :3].astype(np.float64) / 255.0)


def band_amplitudes(planes: np.ndarray, channel: int, freqs_mhz: np.ndarray) -> np.ndarray:
    """Each band's sine amplitude over its mean luma, so that shading (vignette) cancels."""
    width = planes.shape[2]
    lo, hi = int(MARGIN * width), int((1.0 - MARGIN) * width)
    x = np.arange(lo, hi)
    out = []
    for band, f in enumerate(freqs_mhz):
        lines = slice(band * BAND_LINES + 3, (band + 1) * BAND_LINES - 3)
        rows = planes[channel, lines, lo:hi]
        w = 2.0 * np.pi * f / signal.sample_rate_mhz(width) * x
        basis = np.stack([np.sin(w), np.cos(w), np.ones_like(w)], axis=1)
        fit = np.linalg.lstsq(basis, np.stack([rows.mean(axis=0), planes[0, lines, lo:hi].mean(axis=0)], 1))[
            0
        ]
        out.append(np.hypot(fit[0, 0], fit[1, 0]) / fit[2, 1])
    return np.array(out)


def response(tape: Tape, width: int, channel: int, freqs_mhz: np.ndarray, amplitude: float) -> np.ndarray:
    """Gain of the tape at each frequency for one YIQ channel, relative to the first frequency."""
    out = tape(grating(freqs_mhz, width, channel, amplitude))
    gains = band_amplitudes(yiq(out), channel, freqs_mhz)
    return gains / gains[0]


def luma_cutoff(tape: Tape, width: int = 720) -> float:
    """-3 dB point of luma in MHz."""
    freqs = np.linspace(0.1, 4.0, 40)
    return signal.cutoff_3db(freqs, response(tape, width, 0, freqs, 0.2))


def chroma_cutoff(tape: Tape, width: int = 720, channel: int = 1) -> float:
    """-3 dB point of chroma (I by default) in MHz."""
    freqs = np.linspace(0.05, 1.2, 47)
    return signal.cutoff_3db(freqs, response(tape, width, channel, freqs, 0.12))


def flat_snr_db(tape: Tape, width: int = 720, height: int = 480, level: float = 0.5) -> float:
    """Luma SNR of a flat grey field: 20 log10(white - black / rms noise), the video convention.

    The frame's bottom 10 % (head switching, tracking band) and side margins are left out, as a
    video noise meter gates them out; line and column means are removed so the (separable)
    vignette does not count as noise.
    """
    v = round(level * 255)
    frame = np.full((height, width, 4), 255, dtype=np.uint8)
    frame[..., :3] = v
    y = yiq(tape(frame))[0]
    lo, hi = int(MARGIN * width), int((1.0 - MARGIN) * width)
    y = y[int(0.05 * height) : int(0.9 * height), lo:hi]
    noise = y - y.mean(axis=1, keepdims=True) - y.mean(axis=0, keepdims=True) + y.mean()
    return float(20.0 * np.log10(1.0 / noise.std()))


def luma(frame: Frame) -> np.ndarray:
    """Rec. 601 luma of sRGB bytes, 0..1 (what a viewer's eye reads structure from)."""
    return frame[..., :3].astype(np.float64) @ signal.RGB_TO_YIQ[0] / 255.0


def ssim(a: Frame, b: Frame, sigma: float = 1.5) -> float:
    """Mean structural similarity of two frames' luma (Wang et al. 2004: Gaussian window, K = 0.01/0.03)."""
    from scipy.ndimage import gaussian_filter

    x, y = luma(a), luma(b)
    c1, c2 = 0.01**2, 0.03**2
    mx, my = gaussian_filter(x, sigma), gaussian_filter(y, sigma)
    vx = gaussian_filter(x * x, sigma) - mx * mx
    vy = gaussian_filter(y * y, sigma) - my * my
    cxy = gaussian_filter(x * y, sigma) - mx * my
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(s.mean())


def edge_correlation(a: Frame, b: Frame, sigma: float = 1.5) -> float:
    """Pearson correlation of the two frames' edge maps: Sobel gradient magnitude of the luma after a
    Gaussian blur of ``sigma`` pixels (edges a viewer reads at a glance, not pixel grain)."""
    from scipy.ndimage import gaussian_filter, sobel

    def edges(frame: Frame) -> np.ndarray:
        y = gaussian_filter(luma(frame), sigma)
        return np.hypot(sobel(y, axis=0), sobel(y, axis=1)).ravel()

    return float(np.corrcoef(edges(a), edges(b))[0, 1])
