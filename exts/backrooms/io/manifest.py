"""The output folder's bookkeeping: which render it holds and which frames are done.

Several processes (a process pool, Ray tasks on many machines sharing the folder) may finish frames
into one output folder at once, so no file has two writers:

- ``frames/frame_NNNNNN.png``: each frame is written atomically by whichever shard renders it;
- ``parts/<job key>_<shard>.jsonl``: one line per finished frame, appended only by that shard (a retry
  of the same shard continues its own log); a line torn by a kill is ignored and its frame rendered
  again; the job key (a hash of the job) keeps another render's logs from ever being absorbed;
- ``manifest.json``: the job (recipe, start, parameters), the versions and the finished frames,
  written only by the driver, which absorbs the part logs before a render and once more at the join.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import socket
from collections.abc import Iterable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from backrooms.errors import UserError
from backrooms.io.atomic import write_json

PACKAGES = ("backrooms", "warp-lang", "torch", "usd-core", "numpy", "av")
MANIFEST = "manifest.json"
FRAMES = "frames"
PARTS = "parts"
HOST = socket.gethostname()


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def job_key(job: dict[str, Any]) -> str:
    """A short fingerprint of a job: part logs carry it, so only the same render absorbs them."""
    return hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:12]


def frame_file(frame: int) -> str:
    """A frame's path relative to the output folder."""
    return f"{FRAMES}/frame_{frame:06d}.png"


def audio_file(frame: int) -> str:
    """A frame's samples (raw float32 stereo, ``io.audio``) relative to the output folder."""
    return f"{FRAMES}/frame_{frame:06d}.pcm"


class PartLog:
    """``OUT/parts/<name>.jsonl``: the frames one shard finished, one JSON object per line; beside
    it ``<name>.replay`` while the shard's seek replays the frames before its first."""

    def __init__(self, out: Path, name: str) -> None:
        self.path = Path(out) / PARTS / f"{name}.jsonl"
        self.replay = self.path.with_suffix(".replay")

    def replaying(self, done: int, total: int) -> None:
        """Say how far the shard's seek has replayed (``done`` of ``total`` frames), for the driver's
        progress bar, which has no frame to count meanwhile; the file goes once the replay is done."""
        if done >= total:
            self.replay.unlink(missing_ok=True)
            return
        self.replay.parent.mkdir(parents=True, exist_ok=True)
        self.replay.write_text(f"{done} {total}\n")

    def append(self, frame: int, seconds: float, audio: bool = False) -> None:
        """Record a frame whose files are already in place; one ``write`` so lines never interleave."""
        record = {"frame": frame, "file": frame_file(frame), "seconds": round(seconds, 4), "host": HOST}
        if audio:
            record["audio"] = audio_file(frame)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (json.dumps(record, sort_keys=True) + "\n").encode())
        finally:
            os.close(fd)

    def read(self) -> dict[int, dict[str, Any]]:
        """The frames recorded so far; a torn or foreign line is skipped, not trusted."""
        frames: dict[int, dict[str, Any]] = {}
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return frames
        for line in lines:
            try:
                record = json.loads(line)
                frame = record.pop("frame")
            except (ValueError, AttributeError, KeyError):
                continue
            if isinstance(frame, int) and record.get("file") == frame_file(frame):
                frames[frame] = record
        return frames


def part_logs(out: Path, key: str = "") -> list[PartLog]:
    """The part logs in ``out`` (only those of the job with ``key``, if given)."""
    return [PartLog(out, p.stem) for p in sorted((Path(out) / PARTS).glob(f"{key}*.jsonl"))]


def _replays(out: Path, key: str) -> Iterator[Path]:
    """The replay files (``PartLog.replay``) in ``out`` of the job with ``key`` (every job's: "")."""
    return (Path(out) / PARTS).glob(f"{key}*.replay")


def replay_progress(out: Path, key: str) -> tuple[int, int]:
    """Frames replayed so far and to replay in all, summed over the job's shards seeking now (a
    file caught while it is rewritten counts as none)."""
    done = total = 0
    for path in _replays(out, key):
        try:
            shard_done, shard_total = map(int, path.read_text().split())
        except (OSError, ValueError):
            continue
        done, total = done + shard_done, total + shard_total
    return done, total


def drop_replays(out: Path, key: str = "") -> None:
    """Remove the replay files shards that were killed mid-seek left (only the job's with ``key``)."""
    for path in _replays(out, key):
        path.unlink(missing_ok=True)


def is_manifest(path: Path) -> bool:
    """Whether ``path`` is a manifest a render wrote (its job and frames), not some other JSON."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and all(isinstance(data.get(key), dict) for key in ("job", "frames"))


class Manifest:
    """``OUT/manifest.json``: the job and its finished frames, written by the driver only."""

    def __init__(self, out: Path, job: dict[str, Any]) -> None:
        self.out = Path(out)
        self.path = self.out / MANIFEST
        self.job = job
        self.key = job_key(job)
        self.frames: dict[int, dict[str, Any]] = {}
        self.video: str | None = None
        self.audio: dict[str, Any] | None = None

    @classmethod
    def open(cls, out: Path, job: dict[str, Any], resume: bool) -> Manifest:
        """Start the bookkeeping of a render in ``out``: fresh, or resuming the same job.

        A fresh start drops the part logs of any earlier render; resuming absorbs them, and refuses
        a folder that holds a different job instead of overwriting it.
        """
        manifest = cls(out, job)
        if resume:
            manifest._load()
            manifest.absorb_parts()
        else:
            manifest.save()
            for log in part_logs(out):
                log.path.unlink()
            drop_replays(out)
        return manifest

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            data = json.loads(self.path.read_text())
            frames = {int(k): v for k, v in data["frames"].items()}
            previous = data["job"]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"{self.path}: unreadable manifest, cannot resume ({exc})") from None
        if previous != self.job:
            changed = sorted(k for k in set(self.job) | set(previous) if self.job.get(k) != previous.get(k))
            raise UserError(
                f"{self.path}: holds a different render ({', '.join(changed)} differ); "
                "use another --out or drop --resume"
            )
        self.frames = frames

    def absorb_parts(self) -> None:
        """Move this job's part logs into the manifest; the logs go only once it is saved."""
        logs = part_logs(self.out, self.key)
        for log in logs:
            self.frames.update(log.read())
        self.save()
        for log in logs:
            with contextlib.suppress(FileNotFoundError):
                log.path.unlink()
        drop_replays(self.out, self.key)  # no shard of the job runs now

    def missing(self, wanted: Iterable[int]) -> list[int]:
        """The frames of ``wanted`` not yet finished: unrecorded, or recorded but their file is gone."""
        return [f for f in wanted if f not in self.frames or not (self.out / self.frames[f]["file"]).exists()]

    def save(self) -> None:
        write_json(
            self.path,
            {
                "job": self.job,
                "versions": versions(),
                "frames": {str(k): v for k, v in sorted(self.frames.items())},
                "video": self.video,
                "audio": self.audio,
            },
        )
