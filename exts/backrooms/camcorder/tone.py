"""From the render's 8-bit colour back to scene light, so exposure, bloom and noise act on light.

The renderer tone-maps with Narkowicz's ACES fit and encodes sRGB (render/kernels.py ``tonemap``);
the camcorder inverts that per byte, works in scene-linear light, and encodes with the same curve,
so a camcorder with every effect off gives back the render's bytes.
"""

from __future__ import annotations

import numpy as np

CLIPPED = 2.0  # a clipped byte (255) is taken to be this many times the curve's clipping point


def aces_inverse(y: np.ndarray) -> np.ndarray:
    """Scene-linear light that the ACES fit maps to ``y`` in [0, 1]."""
    a = 2.43 * y - 2.51
    b = 0.59 * y - 0.03
    c = 0.14 * y
    return (-b - np.sqrt(b * b - 4.0 * a * c)) / (2.0 * a)


def srgb_decoded(code: np.ndarray) -> np.ndarray:
    """The sRGB transfer function undone: encoded values in [0, 1] to linear ones."""
    return np.where(code <= 0.04045, code / 12.92, ((code + 0.055) / 1.055) ** 2.4)


def decode_table() -> np.ndarray:
    """Scene-linear light of each 8-bit sRGB code, as float32[256]."""
    x = aces_inverse(srgb_decoded(np.arange(256) / 255.0))
    x[255] *= CLIPPED
    return x.astype(np.float32)
