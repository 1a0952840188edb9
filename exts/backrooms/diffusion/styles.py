"""Where a ``diffusion.style`` name points: a folder in the models directory, or a path."""

from __future__ import annotations

import os
from pathlib import Path

from backrooms.errors import UserError

DEFAULT_STYLE = "remembered"


def models_dir() -> Path:
    """``$BACKROOMS_MODELS`` if set, else the repository's ``models/`` (the Kit extension links it too)."""
    env = os.environ.get("BACKROOMS_MODELS")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "models"


def resolve_style(style: str) -> Path:
    """A style is a model folder name under ``models_dir()`` or a path to a model folder."""
    candidate = Path(style).expanduser()
    folder = candidate if candidate.is_dir() else models_dir() / style
    if not folder.is_dir():
        raise UserError(f"diffusion.style: no model folder {style!r} (looked in {models_dir()})")
    return folder
