"""The manifest: what a render is (recipe, seed, parameters, versions) and which frames are done."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from backrooms.errors import UserError
from backrooms.io.atomic import write_json

PACKAGES = ("backrooms", "warp-lang", "torch", "usd-core", "numpy", "av")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


class Manifest:
    """``OUT/manifest.json``, rewritten atomically after every finished frame."""

    def __init__(self, path: Path, job: dict[str, Any]) -> None:
        self.path = Path(path)
        self.job = job
        self.frames: dict[int, dict[str, Any]] = {}
        self.video: str | None = None

    @classmethod
    def resume(cls, path: Path, job: dict[str, Any]) -> Manifest:
        """Reopen a manifest for the same job; a different job is refused, not overwritten."""
        manifest = cls(path, job)
        if not manifest.path.exists():
            return manifest
        try:
            data = json.loads(manifest.path.read_text())
            frames = {int(k): v for k, v in data["frames"].items()}
            previous = data["job"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"{manifest.path}: unreadable manifest, cannot resume ({exc})") from None
        if previous != job:
            changed = sorted(k for k in set(job) | set(previous) if job.get(k) != previous.get(k))
            raise UserError(
                f"{manifest.path}: holds a different render ({', '.join(changed)} differ); "
                "use another --out or drop --resume"
            )
        manifest.frames = frames
        return manifest

    def add_frame(self, frame: int, file: str, seconds: float) -> None:
        self.frames[frame] = {"file": file, "seconds": round(seconds, 4)}
        self.save()

    def save(self) -> None:
        write_json(
            self.path,
            {
                "job": self.job,
                "versions": versions(),
                "frames": {str(k): v for k, v in sorted(self.frames.items())},
                "video": self.video,
            },
        )
