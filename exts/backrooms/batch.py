"""A batch render: executor -> PNG frames -> MP4, resumable and atomic at every step."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm import tqdm

from backrooms.errors import UserError
from backrooms.graph.executor import Executor, ParamsAt
from backrooms.graph.product import RGB
from backrooms.graph.recipe import Recipe
from backrooms.io.manifest import Manifest
from backrooms.io.mp4 import write_mp4
from backrooms.io.png import read_png, write_png
from backrooms.params.store import Snapshot

VIDEO_NAME = "clip.mp4"


def frame_name(frame: int) -> str:
    return f"frames/frame_{frame:06d}.png"


def prepare_output(out: Path) -> None:
    """Create ``out/frames`` or fail with one line if it cannot be written."""
    try:
        (out / "frames").mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"--out {out}: not writable ({exc.strerror or exc})") from None


def render_clip(
    recipe: Recipe,
    params: Snapshot,
    out: Path,
    start: int = 0,
    resume: bool = False,
    params_at: ParamsAt | None = None,
    progress: bool = True,
) -> Manifest:
    """Render frames ``start .. start+recipe.frames-1`` of ``recipe`` into ``out``.

    With ``resume`` the frames a previous run finished are kept and only the rest are rendered.
    """
    out = Path(out)
    prepare_output(out)
    job = {
        "recipe": {k: v for k, v in recipe.to_json().items() if k != "source"},
        "start": start,
        "params": dict(params),
    }
    manifest_path = out / "manifest.json"
    manifest = Manifest.resume(manifest_path, job) if resume else Manifest(manifest_path, job)
    wanted = range(start, start + recipe.frames)
    todo = [f for f in wanted if not (f in manifest.frames and (out / manifest.frames[f]["file"]).exists())]
    executor = Executor(recipe, params_at or (lambda _frame: params)) if todo else None
    bar = tqdm(total=len(wanted), initial=len(wanted) - len(todo), unit="frame", disable=not progress)
    for frame in todo:
        began = time.perf_counter()
        product = executor.render(frame)
        write_png(out / frame_name(frame), product[RGB].numpy())
        manifest.add_frame(frame, frame_name(frame), time.perf_counter() - began)
        bar.update(1)
    bar.close()
    manifest.video = VIDEO_NAME
    write_mp4(out / VIDEO_NAME, (read_png(out / frame_name(f)) for f in wanted), recipe.fps)
    manifest.save()
    return manifest
