"""Training pairs made by the pipeline itself: cheap render + AOVs -> the expensive render.

For one walk through a generated world (the world's own camera autopilot, a different world seed
and start frame per clip) we render every frame twice with the pipeline's render node:
cheap (1 sample per pixel, base resolution, as the live pipeline renders) and expensive (many
samples at twice the resolution, box-filtered down) with what a live frame cannot afford: more
surface wear (stains and damp the cheap frame does not show, so the model has to invent them),
denser haze, and light bleed (a wide glow around the ceiling panels). Scene detail (wear, haze,
exposure, ambient, flicker) is randomised per clip, so the model sees many looks of the same
geometry. A clip is a handful of consecutive frames so the temporal loss has motion vectors and
disocclusion to use.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import torch
import warp as wp
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file
from torch.nn import functional as F
from tqdm import tqdm

from backrooms.diffusion.accumulate import accumulate, frame_samples
from backrooms.diffusion.frames import read_aovs
from backrooms.diffusion.lighting import clamp_radius
from backrooms.diffusion.pixels import lens_camera
from backrooms.diffusion.relight import Relighter
from backrooms.diffusion.warping import source_grid, valid_mask
from backrooms.errors import UserError
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RenderProduct
from backrooms.io.atomic import write_text
from backrooms.io.tensors import write_safetensors
from backrooms.params.store import ParamStore
from backrooms.seeds import numpy_rng, stream_key

# Scene knobs randomised per clip: (key, low, high).
RANDOMISED: tuple[tuple[str, float, float], ...] = (
    ("render.wear", 0.0, 1.0),
    ("render.haze", 0.0, 0.08),
    ("render.exposure", -0.7, 0.7),
    ("render.ambient", 0.02, 0.15),
    ("render.flicker", 0.0, 0.8),
)


AOV_FIELDS = ("render", "depth", "normals", "motion", "disocclusion")


@dataclass
class Clip:
    """T consecutive frames of one camera path, all (T, C, H, W) float tensors on the CPU."""

    render: torch.Tensor  # cheap render, [-1, 1]
    target: torch.Tensor  # expensive render at the same size, [-1, 1]
    depth: torch.Tensor  # 1 / (1 + distance)
    normals: torch.Tensor
    motion: torch.Tensor  # (T, 2, H, W); motion[0] is relative to the frame before the clip
    disocclusion: torch.Tensor  # (T, 1, H, W)

    def __len__(self) -> int:
        return self.render.shape[0]

    def save(self, path: Path) -> None:
        write_safetensors(path, {f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def load(cls, path: Path) -> Clip:
        return cls(**load_file(str(path)))


TARGET_VERSION = 3  # bump when the expensive render's recipe changes: cached clips are then refused
# What the expensive render adds on top of the clip's cheap settings.
EXTRA_WEAR = 0.3
EXTRA_HAZE = 0.03
BLEED_THRESHOLD = 0.75  # linear luminance above which light bleeds
BLEED_SIGMA = 0.025  # glow radius as a fraction of the frame width
BLEED_GAIN = 0.8


def light_bleed(image: torch.Tensor) -> torch.Tensor:
    """(N, 3, H, W) in [-1, 1] -> the same with a soft glow around bright pixels (lens/film bleed)."""
    linear = ((image + 1) / 2).clamp(0, 1) ** 2.2
    bright = (linear - BLEED_THRESHOLD).clamp(min=0)
    sigma = BLEED_SIGMA * image.shape[-1]
    radius = int(3 * sigma)
    x = torch.arange(-radius, radius + 1, dtype=image.dtype)
    taps = torch.exp(-0.5 * (x / sigma) ** 2)
    taps = taps / taps.sum()
    glow = F.conv2d(
        F.pad(bright, (radius, radius, 0, 0), mode="replicate"),
        taps.view(1, 1, 1, -1).expand(3, 1, 1, -1),
        groups=3,
    )
    glow = F.conv2d(
        F.pad(glow, (0, 0, radius, radius), mode="replicate"),
        taps.view(1, 1, -1, 1).expand(3, 1, -1, 1),
        groups=3,
    )
    return ((linear + BLEED_GAIN * glow).clamp(0, 1) ** (1 / 2.2)) * 2 - 1


def clip_settings(seed: int, index: int) -> dict[str, Any]:
    """The randomised scene look of clip ``index`` (a pure function of seed and index)."""
    rng = numpy_rng(seed, "diffusion.data.look", index)
    return {key: float(rng.uniform(lo, hi)) for key, lo, hi in RANDOMISED}


def clip_world(seed: int, index: int) -> tuple[int, int]:
    """(world seed, first frame) of clip ``index``: every clip walks a different generated world."""
    world_seed = stream_key(seed, "diffusion.data.world", index) & 0x7FFF_FFFF
    start = int(numpy_rng(seed, "diffusion.data.start", index).integers(0, 2400))
    return world_seed, start


def render_clip(
    world_seed: int,
    start: int,
    frames: int,
    width: int,
    height: int,
    settings: dict[str, Any],
    cheap_spp: int = 1,
    expensive_spp: int = 8,
    scale: int = 2,
    fps: float = 24.0,
) -> tuple[Clip, dict[str, float]]:
    """Render frames ``start .. start+frames-1`` of world ``world_seed`` with the pipeline's own render
    node, cheaply and expensively; ``settings`` holds ``render.*`` values.

    Also returns the seconds per frame of each render, for the cost comparison in the model card.
    """
    rich_settings = {
        **settings,
        "render.spp": expensive_spp,
        "render.wear": min(1.0, settings.get("render.wear", 0.5) + EXTRA_WEAR),
        "render.haze": settings.get("render.haze", 0.035) + EXTRA_HAZE,
    }
    began = time.perf_counter()
    cheap = cheap_frames(world_seed, start, frames, width, height, settings, cheap_spp, fps)
    middle = time.perf_counter()
    rich = _render_frames(world_seed, start, frames, width * scale, height * scale, fps, rich_settings)
    ended = time.perf_counter()
    timing = {"cheap_seconds": (middle - began) / frames, "expensive_seconds": (ended - middle) / frames}
    target = light_bleed(rich["render"])
    clip = Clip(
        render=cheap["render"],
        target=F.avg_pool2d(target, scale) if scale > 1 else target,
        depth=cheap["depth"],
        normals=cheap["normals"],
        motion=cheap["motion"],
        disocclusion=cheap["disocclusion"],
    )
    return clip, timing


def cheap_frames(
    world_seed: int,
    start: int,
    frames: int,
    width: int,
    height: int,
    settings: dict[str, Any],
    cheap_spp: int = 1,
    fps: float = 24.0,
) -> dict[str, torch.Tensor]:
    """The live render of a walk alone (``Clip`` fields but ``target``), e.g. at another render.scale."""
    return _render_frames(
        world_seed, start, frames, width, height, fps, {**settings, "render.spp": cheap_spp}
    )


def _render_frames(
    world_seed: int, start: int, frames: int, width: int, height: int, fps: float, values: dict[str, Any]
) -> dict[str, torch.Tensor]:
    """The render node's frames of a walk; traced below full size, reconstructed from the jittered
    samples as the diffusion node reconstructs them (``accumulate``, one memory chain from the walk's
    first frame, its history re-lit by the panels' change). At full size the render as traced: the
    shipped weights trained on it."""
    from backrooms.render.node import RenderNode

    node = RenderNode(GraphContext(world_seed, width, height, fps, "cpu"))
    params = ParamStore(values={"render.scale": 1.0, **values}).snapshot()  # full size unless told
    radius = clamp_radius(params["render.scale"])
    buffers: dict[str, wp.array] = {}
    out: dict[str, list[torch.Tensor]] = {k: [] for k in AOV_FIELDS}
    history, last_light, relighter = None, None, Relighter(width, height, "cpu")
    for frame in range(start, start + frames):
        product = RenderProduct(frame, width, height, "cpu", buffers)
        node.process(product, params)
        aovs = read_aovs(product)
        if "internal" in product.meta:
            render01 = (aovs.render + 1) / 2
            grid = source_grid(aovs.motion)
            valid = valid_mask(grid, aovs.disocclusion)
            cam = lens_camera(product.meta["camera"], width, height)
            changed = last_light is not None and relighter.measure(product, cam, *last_light)
            relit = relighter.values if changed else None  # the history under this frame's light
            samples = frame_samples(product, render01)
            history = accumulate(history, grid, valid, render01, samples, radius, relit)
            aovs.render = history * 2 - 1
        last_light = product.meta["lights"], dict(product.meta["shading"])  # the next frame re-lights from
        for key in out:
            out[key].append(getattr(aovs, key).clone())
    return {k: torch.cat(v) for k, v in out.items()}


def ensure_clips(
    folder: Path,
    count: int,
    frames: int,
    width: int,
    height: int,
    expensive_spp: int = 8,
    seed: int = 0,
    progress: bool = True,
) -> list[Path]:
    """Render the clips ``folder`` lacks (clip i is a pure function of its settings); returns all paths.

    ``dataset.json`` records the settings; a folder made with other settings is refused, not mixed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    spec = {
        "frames": frames,
        "width": width,
        "height": height,
        "expensive_spp": expensive_spp,
        "seed": seed,
        "target": TARGET_VERSION,
    }
    manifest = folder / "dataset.json"
    try:
        record = json.loads(manifest.read_text()) if manifest.is_file() else {"spec": spec, "timing": {}}
        made_with = record["spec"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{manifest}: unreadable ({exc}); use another --data") from None
    if made_with != spec:
        raise UserError(f"{folder}: its clips were made with {made_with}, not {spec}; use another --data")
    paths = [folder / f"clip-{i:04d}.safetensors" for i in range(count)]
    for i, path in enumerate(tqdm(paths, desc="render pairs", unit="clip", disable=not progress)):
        if _metadata(path) is not None:
            continue  # else missing, or cut short (a run of an older version killed while saving it)
        world_seed, start = clip_world(seed, i)
        look = clip_settings(seed, i)
        clip, timing = render_clip(
            world_seed, start, frames, width, height, look, expensive_spp=expensive_spp
        )
        clip.save(path)
        record["timing"][path.name] = timing
        write_text(manifest, json.dumps(record, indent=2) + "\n")
    return paths


SCALED_METADATA = {"render": "accumulated"}  # what a cached reduced render holds (older: the bilinear fill)


def scaled_path(path: Path, scale: float) -> Path:
    """Where the live render of clip ``path`` traced at ``render.scale`` ``scale`` is cached."""
    return path.with_name(f"{path.stem}@{scale:g}{path.suffix}")


def ensure_scaled(
    paths: list[Path],
    frames: int,
    width: int,
    height: int,
    scales: tuple[float, ...],
    seed: int = 0,
    progress: bool = True,
) -> dict[float, list[Path]]:
    """Render what the folder lacks of each clip's live render traced at every ``render.scale`` in
    ``scales`` (reconstructed at full size as the diffusion node reconstructs it): the same walks,
    looks and targets, cheaper inputs; ``load_scaled`` reads one. ``paths`` are ``ensure_clips``'s,
    in order, made with the same ``seed``: clip i's walk and look are found again from its index."""
    out: dict[float, list[Path]] = {}
    jobs = [(scale, i, path) for scale in scales for i, path in enumerate(paths)]
    for scale, i, path in tqdm(jobs, desc="render reduced", unit="clip", disable=not progress):
        target = scaled_path(path, scale)
        if _metadata(target) != SCALED_METADATA:  # missing, cut short, or made otherwise
            world_seed, start = clip_world(seed, i)
            look = {**clip_settings(seed, i), "render.scale": scale}
            cheap = cheap_frames(world_seed, start, frames, width, height, look)
            write_safetensors(target, cheap, SCALED_METADATA)
        out.setdefault(scale, []).append(target)
    return out


def _metadata(path: Path) -> dict[str, str] | None:
    """A cached file's metadata; None if it is missing or not a whole safetensors file."""
    try:
        with safe_open(str(path), "pt") as f:
            return f.metadata() or {}
    except (OSError, SafetensorError):
        return None


def load_scaled(clip: Clip, path: Path) -> Clip:
    """``clip`` with its live render replaced by the one cached at ``path`` (``ensure_scaled``)."""
    return replace(clip, **load_file(str(path)))


def files_digest(paths: Iterable[Path]) -> str:
    """sha256 of the files' bytes, in order: what a training run read. Two runs whose weights differ
    tell by it whether their data did (a clip is a pure function of its settings, but of the
    machine's arithmetic too) or only the training's rounding."""
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def mean_timing(folder: Path) -> dict[str, float]:
    """Average seconds per frame of the cheap and the expensive render over the clips made."""
    timing = json.loads((folder / "dataset.json").read_text())["timing"].values()
    keys = ("cheap_seconds", "expensive_seconds")
    return {k: sum(t[k] for t in timing) / max(len(timing), 1) for k in keys}
