"""Where a ``diffusion.style`` name points: a folder in the models directory, or a path."""

from __future__ import annotations

import os
from pathlib import Path

from backrooms.errors import UserError

DEFAULT_STYLE = "remembered"
CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"  # a denoiser folder's files (``model``)
DIFFUSERS_INDEX = "model_index.json"  # a user's diffusers checkpoint
DENOISER_FILES = (CONFIG_NAME, WEIGHTS_NAME)  # our own denoiser


def models_dir() -> Path:
    """``$BACKROOMS_MODELS`` if set, else the repository's ``models/`` (the Kit extension links it too)."""
    env = os.environ.get("BACKROOMS_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "models"


def find_style(style: str) -> Path:
    """A style is a model folder name under ``models_dir()`` or a path to a model folder.

    Raises ValueError when it names none: this is the registry's check for ``diffusion.style``, so a
    controller sending ``/etc`` is refused at the door instead of stopping the frame loop later.
    """
    try:
        candidate = Path(style).expanduser()
        folder = candidate if candidate.is_dir() else models_dir() / style
        found = folder.is_dir()
        model = (folder / DIFFUSERS_INDEX).is_file() or all((folder / n).is_file() for n in DENOISER_FILES)
    except (OSError, RuntimeError):  # a name too long for the file system, an unknown ~user
        found = model = False
    if not found:
        raise ValueError(f"no model folder {style[:80]!r} (looked in {models_dir()})")
    if not model:
        wanted = f"{DIFFUSERS_INDEX}, or {' + '.join(DENOISER_FILES)}"
        raise ValueError(f"{str(folder)[:80]} is not a model folder (it has no {wanted})")
    return folder


def resolve_style(style: str) -> Path:
    """:func:`find_style` for callers that report to the user."""
    try:
        return find_style(style)
    except ValueError as exc:
        raise UserError(f"diffusion.style: {exc}") from None
