"""PNG frames: the lossless, byte-reproducible output of a render."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from backrooms.io.atomic import atomic_path


def write_png(path: Path, rgba: np.ndarray) -> None:
    """Write an (H, W, 4) or (H, W, 3) uint8 image as RGB PNG, atomically."""
    with atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(tmp, format="PNG", compress_level=1)


def read_png(path: Path) -> np.ndarray:
    """Read a PNG back as (H, W, 3) uint8."""
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))
