"""A batch render: shards of frames -> atomic PNGs in OUT/frames -> one join -> manifest.json + clip.mp4.

Resumable and safe at every step: frames and the manifest are replaced atomically, each shard logs
its own finished frames, and only this driver (holding ``OUT/.lock``) writes the manifest and clip.
A render of every frame in this process encodes the clip while it renders (``EncodeAlong``); any
other (a resume, worker processes, Ray, farm shards) joins it from the PNGs: the same bytes.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pickle
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from backrooms.audio.clock import RATE as AUDIO_RATE
from backrooms.errors import UserError
from backrooms.graph.executor import ParamsAt
from backrooms.graph.recipe import Recipe
from backrooms.io.audio import read_frame_audio, read_wav, write_wav
from backrooms.io.background import prefetched
from backrooms.io.manifest import (
    FRAMES,
    MANIFEST,
    PARTS,
    Manifest,
    drop_replays,
    is_manifest,
    job_key,
    part_logs,
)
from backrooms.io.mp4 import AAC_BITRATE, EncodeAlong, write_mp4
from backrooms.io.png import read_png
from backrooms.params.store import Snapshot
from backrooms.scale.engine import Engine
from backrooms.scale.local import InProcessEngine
from backrooms.scale.progress import shard_progress
from backrooms.scale.shard import FixedParams, ShardJob, plan_job, render_shard

VIDEO_NAME = "clip.mp4"
AUDIO_NAME = "clip.wav"
LOCK_NAME = ".lock"


def prepare_output(out: Path) -> None:
    """Create ``out/frames`` or fail with one line if it cannot be written."""
    try:
        (out / FRAMES).mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test", dir=out)  # unique: farm tasks probe at once
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise UserError(f"--out {out}: not writable ({exc.strerror or exc})") from None


@contextlib.contextmanager
def lock_output(out: Path) -> Iterator[None]:
    """Hold ``OUT/.lock`` for the whole render: two drivers never share a folder (released on kill)."""
    with (out / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UserError(f"--out {out}: another render is writing into this folder") from None
        yield


def remove_temporaries(out: Path) -> None:
    """Drop the half-written temporaries a killed render left (final names are never half-written)."""
    for folder in (out, out / FRAMES):
        for tmp in folder.glob(".*.tmp*"):
            tmp.unlink(missing_ok=True)


def refuse_foreign_files(out: Path) -> None:
    """A fresh render replaces an earlier render's files, never a file of the user's that happens to
    bear one of its names: without a render's manifest or part logs there (farm shards write the
    logs, the join the manifest), such a folder is refused."""
    if is_manifest(out / MANIFEST) or part_logs(out):
        return
    names = [name for name in (MANIFEST, VIDEO_NAME, AUDIO_NAME) if (out / name).exists()]
    names += [f"{FRAMES}/frame_*.png"] if any((out / FRAMES).glob("frame_*.png")) else []
    if names:
        held = ", ".join(names)
        raise UserError(f"--out {out}: holds {held} that no render made here; choose another folder")


def clear_earlier_render(out: Path) -> None:
    """A fresh render owns ``frames/frame_*.png`` and the clip: remove an earlier render's, and say so.

    Otherwise a 5-frame render into the folder of a 120-frame one would leave 115 old frames beside
    the new ones, looking like one render.
    """
    old = sorted((out / FRAMES).glob("frame_*.png"))
    clip = out / VIDEO_NAME
    if not old and not clip.exists():
        return
    for path in old:
        path.unlink()
    clip.unlink(missing_ok=True)
    print(f"note: removed {len(old)} frames and the clip of an earlier render in {out}", file=sys.stderr)


def forget_empty_render(out: Path, manifest: Manifest, created: bool) -> None:
    """A render that failed before finishing a frame leaves nothing behind (not an empty manifest)."""
    if manifest.frames or any(log.read() for log in part_logs(out, manifest.key)):
        return  # finished frames stay for --resume
    manifest.path.unlink(missing_ok=True)
    (out / LOCK_NAME).unlink(missing_ok=True)
    drop_replays(out, manifest.key)
    for folder in (out / FRAMES, out / PARTS, *((out,) if created else ())):
        with contextlib.suppress(OSError):  # kept if something else is in it
            folder.rmdir()


def job_record(
    recipe: Recipe, params: Snapshot, start: int, params_at: ParamsAt | None = None
) -> dict[str, Any]:
    """What makes two renders the same render (the engine is not part of it: it changes no byte).

    Per-frame parameters (a replayed take) count by the hash of their pickle, so resuming with a
    different take is refused instead of mixing frames of two takes.
    """
    job = {
        "recipe": {k: v for k, v in recipe.to_json().items() if k != "source"},
        "start": start,
        "params": dict(params),
    }
    if params_at is not None:
        try:
            job["params_at"] = hashlib.sha256(pickle.dumps(params_at)).hexdigest()[:16]
        except (pickle.PicklingError, TypeError, AttributeError):
            job["params_at"] = f"unpicklable {type(params_at).__qualname__}"
    return job


def render_clip(
    recipe: Recipe,
    params: Snapshot,
    out: Path,
    start: int = 0,
    resume: bool = False,
    params_at: ParamsAt | None = None,
    progress: bool = True,
    engine: Engine | None = None,
) -> Manifest:
    """Render frames ``start .. start+recipe.frames-1`` of ``recipe`` into ``out`` with ``engine``.

    With ``resume`` the frames a previous run finished are kept and only the rest are rendered; the
    engine (in-process by default) does not change a single output byte.
    """
    out = Path(out)
    created = not out.exists()
    if not resume:
        refuse_foreign_files(out)
    prepare_output(out)
    job = job_record(recipe, params, start, params_at)
    wanted = range(start, start + recipe.frames)
    with lock_output(out):
        remove_temporaries(out)
        if not resume:
            clear_earlier_render(out)
        manifest = Manifest.open(out, job, resume)
        todo = manifest.missing(wanted)
        engine = engine or InProcessEngine()
        along = None  # every frame made here, in order: encoded as it comes
        if todo and len(todo) == len(wanted) and isinstance(engine, InProcessEngine):
            along = EncodeAlong(out / VIDEO_NAME, recipe.fps, AUDIO_RATE)
        if todo:
            shard_job = ShardJob(
                recipe, params_at or FixedParams(params, params.version), out.resolve(), manifest.key
            )
            try:
                with shard_progress(out, manifest.key, len(wanted), len(wanted) - len(todo), progress):
                    if along is None:
                        engine.run(shard_job, todo)
                    else:
                        engine.run(shard_job, todo, along)
                encoded = along.finish() if along else None  # before its temporary looks stale
            except BaseException:
                if along is not None:
                    along.abandon()
                if not resume:
                    forget_empty_render(out, manifest, created)
                raise
            remove_temporaries(out)  # those of shard attempts that died and were retried
            manifest.absorb_parts()
        lost = manifest.missing(wanted)
        if lost:
            raise RuntimeError(f"{out}: {len(lost)} frames missing after every shard finished: {lost[:5]}")
        manifest.video = VIDEO_NAME
        manifest.audio = join_audio(out, [manifest.frames[f] for f in wanted], recipe.fps)
        if along is None:
            sound = read_wav(out / AUDIO_NAME)[0] if manifest.audio else None
            frames = prefetched(read_png(out / manifest.frames[f]["file"]) for f in wanted)
            write_mp4(out / VIDEO_NAME, frames, recipe.fps, audio=sound, rate=AUDIO_RATE)
        elif encoded != (len(wanted), manifest.audio["samples"] if manifest.audio else 0):
            raise RuntimeError(f"{out}: the clip encoded along holds {encoded} (frames, samples)")
        manifest.save()
    return manifest


def join_audio(out: Path, records: list[dict[str, Any]], fps: float) -> dict[str, Any] | None:
    """Join the frames' audio into the WAV stem; what the manifest says of it (None: no audio node)."""
    if not records or not all("audio" in r for r in records):
        return None
    samples = write_wav(out / AUDIO_NAME, (read_frame_audio(out / r["audio"]) for r in records), AUDIO_RATE)
    return {
        "stem": AUDIO_NAME,
        "rate": AUDIO_RATE,
        "channels": 2,
        "samples": samples,
        "seconds": round(samples / AUDIO_RATE, 6),
        "format": "pcm_s16le",
        "mp4": f"aac {AAC_BITRATE // 1000} kb/s",
    }


def render_one_shard(
    recipe: Recipe,
    params: Snapshot,
    out: Path,
    shard: tuple[int, int],
    start: int = 0,
    params_at: ParamsAt | None = None,
) -> int:
    """Render shard ``i`` of ``n`` (1-based) of a clip into ``out``, for farms that run shards as tasks.

    Many of these run at once on one folder, so none takes the lock or writes the manifest; a final
    ``render_clip(..., resume=True)`` of the same job joins their frames (and renders any missing).
    """
    index, count = shard
    out = Path(out)
    prepare_output(out)
    key = job_key(job_record(recipe, params, start, params_at))
    job = ShardJob(recipe, params_at or FixedParams(params, params.version), out.resolve(), key)
    shards = plan_job(job, range(start, start + recipe.frames), count)
    return render_shard(job, shards[index - 1]) if index <= len(shards) else 0
