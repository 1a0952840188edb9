"""Held-out evaluation of a stylizer through the real node: temporal on vs off, keyframes, speed.

The held-out clip is fed to :class:`DiffusionNode` frame by frame as render products, so what is
measured is exactly what the pipeline runs. Metrics follow the issue: warping error (Lai et al.
2018, exact motion vectors + disocclusion; also re-lit by the render's change of light, which does
not count following the render's flicker as instability), PSNR / SSIM / VHS perceptual loss
against the expensive render, and time per frame.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import torch
import warp as wp

from backrooms.diffusion.data import Clip
from backrooms.diffusion.frames import rgb_to_signed
from backrooms.diffusion.lighting import lighting, relit, unlit
from backrooms.diffusion.metrics import psnr, ssim, warping_error
from backrooms.diffusion.node import DiffusionNode
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DEPTH, DISOCCLUSION, MOTION_VECTORS, NORMALS, RGB, RenderProduct
from backrooms.params.store import ParamStore

# Named node settings compared by the evaluation.
VARIANTS: dict[str, dict[str, Any]] = {
    "temporal": {},
    "frame_by_frame": {"diffusion.temporal_weight": 0.0, "diffusion.warp_noise": False},
    "keyframes_2": {"diffusion.keyframe_interval": 2},
    "keyframes_4": {"diffusion.keyframe_interval": 4},
}
# The panels' light held still (no flicker, stutter nor hum): the plain warping error then counts
# what changes on the surfaces alone, as the bar was measured for a node that erased flicker
STILL_PANELS = {"render.flicker": 0.0, "render.stutter": 0.0, "render.hum": 0.0}


@dataclass
class Result:
    frames: torch.Tensor  # (T, 3, H, W) in [0, 1]
    seconds_per_frame: float


def fill_product(clip: Clip, index: int, product: RenderProduct) -> None:
    """Write clip frame ``index`` into the product's AOV buffers (as the renderer would)."""
    rgb = ((clip.render[index] + 1) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0)
    wp.to_torch(product.allocate(RGB))[..., :3] = rgb
    wp.to_torch(product[RGB])[..., 3] = 255
    depth = clip.depth[index, 0]
    wp.to_torch(product.allocate(DEPTH))[:] = torch.where(
        depth > 0, 1 / depth.clamp(min=1e-12) - 1, torch.inf
    )
    wp.to_torch(product.allocate(NORMALS))[..., :3] = clip.normals[index].permute(1, 2, 0)
    wp.to_torch(product.allocate(MOTION_VECTORS))[..., :2] = clip.motion[index].permute(1, 2, 0)
    wp.to_torch(product.allocate(DISOCCLUSION))[:] = clip.disocclusion[index, 0].to(torch.uint8)


def run_node(clip: Clip, values: dict[str, Any], seed: int = 0, fps: float = 24.0) -> Result:
    """Stylise every frame of ``clip`` with a fresh node; frame 0 starts with no memory."""
    _, _, h, w = clip.render.shape
    node = DiffusionNode(GraphContext(seed, w, h, fps, "cpu"))
    params = ParamStore(values=values).snapshot()
    buffers: dict[str, wp.array] = {}
    frames, elapsed = [], 0.0
    for i in range(len(clip)):
        product = RenderProduct(i, w, h, "cpu", buffers)
        fill_product(clip, i, product)
        began = time.perf_counter()
        node.process(product, params)
        elapsed += time.perf_counter() - began if i > 0 else 0.0  # frame 0 includes model loading
        frames.append((rgb_to_signed(wp.to_torch(product[RGB])) + 1) / 2)
    return Result(torch.cat(frames), elapsed / max(len(clip) - 1, 1))


def scores(frames: torch.Tensor, clip: Clip, vhs_loss=None) -> dict[str, float]:
    target = (clip.target + 1) / 2
    light = lighting((clip.render + 1) / 2)
    out = {
        "warping_error": warping_error(frames, clip.motion, clip.disocclusion),
        "warping_error_relit": warping_error(frames, clip.motion, clip.disocclusion, light),
        "psnr": psnr(frames, target),
        "ssim": ssim(frames, target),
    }
    if vhs_loss is not None:
        with torch.no_grad():
            out["vhs_loss"] = float(vhs_loss(frames, target))
    return out


def evaluate(clip: Clip, style: str, extra: dict[str, Any] | None = None, vhs_loss=None) -> dict[str, Any]:
    """Scores of the cheap render, the expensive render and each node variant on ``clip``."""
    base = {"diffusion.style": style, **(extra or {})}
    report: dict[str, Any] = {
        "cheap_render": scores((clip.render + 1) / 2, clip, vhs_loss),
        "expensive_render": scores((clip.target + 1) / 2, clip, vhs_loss),
    }
    for name, values in VARIANTS.items():
        result = run_node(clip, {**base, **values})
        report[name] = {
            **scores(result.frames, clip, vhs_loss),
            "seconds_per_frame": result.seconds_per_frame,
        }
    t, f = report["temporal"]["warping_error"], report["frame_by_frame"]["warping_error"]
    report["warping_error_reduction"] = 1.0 - t / f if f > 0 else 0.0
    report["seed_difference"] = seed_difference(clip, base)
    return report


def seed_difference(clip: Clip, values: dict[str, Any], seeds: tuple[int, int] = (0, 7)) -> dict[str, float]:
    """Mean |seed a - seed b| of the node's output in 1/255, over the frame, on walls and on carpet
    (by the normals: walls within ~45 degrees of vertical, carpet facing up)."""
    a, b = (run_node(clip, {**values, "diffusion.seed": s}).frames for s in seeds)
    diff = (a - b).abs() * 255
    up = clip.normals[:, 1:2].expand_as(diff)
    return {
        "frame": float(diff.mean()),
        "walls": float(diff[up.abs() < 0.3].mean()),
        "carpet": float(diff[up > 0.7].mean()),
    }


def evaluate_graph(
    clip: Clip,
    world: tuple[int, int],
    look: dict[str, Any],
    style: str,
    settings: tuple[tuple[int, float], ...],
    vhs_loss=None,
) -> dict[str, Any]:
    """The real graph (``render`` -> ``diffusion``, defaults) replaying ``clip``'s walk (``world``:
    its world seed and first frame, ``look``: its render knobs) for each (``diffusion.generate``,
    ``render.scale``) in ``settings``, scored against the clip's expensive target.

    This traces the walk itself, so frame generation (which needs the render node's camera and
    skips its traces) and the reconstruction below full size (from the traced samples) are measured
    as they run: frames are the walk's own frame numbers, replayed from the memory's reset point
    like a seek.
    """
    return {
        _setting(generate, scale): scores(
            graph_frames(clip, world, look, style, generate, scale), clip, vhs_loss
        )
        for generate, scale in settings
    }


def graph_frames(
    clip: Clip,
    world: tuple[int, int],
    look: dict[str, Any],
    style: str,
    generate: int = 1,
    scale: float = 1.0,
    nodes: tuple[str, ...] = ("render", "diffusion"),
) -> torch.Tensor:
    """(T, 3, H, W) in [0, 1]: ``nodes`` streaming ``clip``'s walk, as a batch render runs them."""
    from backrooms.graph.executor import Executor

    world_seed, start = world
    _, _, h, w = clip.render.shape
    snapshot = ParamStore(
        values={**look, "diffusion.style": style, "diffusion.generate": generate, "render.scale": scale}
    ).snapshot()
    executor = Executor(nodes, GraphContext(world_seed, w, h, 24.0, "cpu"), lambda _f: snapshot)
    walk = executor.stream(range(start, start + len(clip)))
    frames = [(rgb_to_signed(wp.to_torch(product[RGB])) + 1) / 2 for product in walk]
    executor.close()
    return torch.cat(frames)


def still_panels(
    clip: Clip,
    world: tuple[int, int],
    look: dict[str, Any],
    style: str,
    settings: tuple[tuple[int, float], ...],
) -> dict[str, dict[str, float]]:
    """Warping errors of the real graph replaying ``clip``'s walk with the panels' light still
    (``STILL_PANELS``), per (``diffusion.generate``, ``render.scale``) in ``settings`` (only the
    warping error: the target keeps the walk's flicker). ``warping_error``: that output's plain one,
    what changes on the surfaces alone. ``light_followed``: the same frames re-lit by the walk's
    change of light (the render's light as it is over its light with the panels still, per frame):
    an output with those surfaces that follows the walk's flicker exactly scores this, the least
    the plain figure with the flicker can be for them."""
    still_look = {**look, **STILL_PANELS}
    light, still_light = (
        lighting(graph_frames(clip, world, panels, style, nodes=("render",))) for panels in (look, still_look)
    )
    rows = {}
    for generate, scale in settings:
        frames = graph_frames(clip, world, still_look, style, generate, scale)
        followed = relit(unlit(frames, still_light), light)
        rows[_setting(generate, scale)] = {
            "warping_error": warping_error(frames, clip.motion, clip.disocclusion),
            "light_followed": warping_error(followed, clip.motion, clip.disocclusion),
        }
    return rows


def _setting(generate: int, scale: float) -> str:
    return f"generate {generate} scale {scale:g}"


def mean_scores(rows: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Each score of each output averaged over walks (each row: {output: {score: value}})."""
    return {
        output: {name: sum(row[output][name] for row in rows) / len(rows) for name in rows[0][output]}
        for output in rows[0]
    }
