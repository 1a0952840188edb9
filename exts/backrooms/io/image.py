"""Still images a user hands us (PNG, JPEG) through Pillow: read with one-line errors, write atomically."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from backrooms.errors import UserError
from backrooms.io.atomic import atomic_path

SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG"}
MODES = ("RGB", "RGBA", "L", "P")  # colour, colour + alpha, grey, palette
# The largest picture read: 8192 x 8192 (the decay pass keeps several float planes of it). A header
# may declare any size (a "decompression bomb"); it is checked before a single pixel is decoded.
MAX_PIXELS = 8192 * 8192


def read_image(path: Path) -> np.ndarray:
    """(H, W, 4) uint8 RGBA, or a one-line error naming what is wrong with the file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # we check the size ourselves
            with _open(path) as image:
                _check_size(path, image.width, image.height)
                image.load()
                if image.mode not in MODES:
                    got = f"{image.mode} ({len(image.getbands())} channels)"
                    raise UserError(f"{path}: expected an RGB, RGBA or greyscale image, got {got}")
                return np.asarray(image.convert("RGBA"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the image ({exc.__class__.__name__})") from None


def _open(path: Path) -> Image.Image:
    previous, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None  # Pillow's own bomb error: ours instead
    try:
        return Image.open(path)
    finally:
        Image.MAX_IMAGE_PIXELS = previous


def _check_size(path: Path, width: int, height: int) -> None:
    if width == 0 or height == 0:
        raise UserError(f"{path}: the image is empty ({width}x{height})")
    if width * height > MAX_PIXELS:
        raise UserError(
            f"{path}: the image is {width}x{height}; the largest accepted is {MAX_PIXELS:,} pixels "
            "(8192x8192)"
        )


def write_image(path: Path, rgb: np.ndarray) -> None:
    """Write (H, W, 3|4) uint8 as PNG or JPEG (by suffix) atomically: a failed write leaves ``path`` be."""
    fmt = SUFFIXES[path.suffix.lower()]
    options = {"quality": 95} if fmt == "JPEG" else {}
    try:
        with atomic_path(path) as tmp:
            Image.fromarray(np.ascontiguousarray(rgb[..., :3])).save(tmp, format=fmt, **options)
    except OSError as exc:
        raise UserError(f"{path}: cannot write ({exc.strerror or exc})") from None
