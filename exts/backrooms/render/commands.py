"""``backrooms frame``: render one frame's AOVs to PNGs (and raw arrays) to look at them."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from backrooms.errors import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    from backrooms.options import add_device_option, add_param_options, count, frame_rate, seed

    p = subparsers.add_parser(
        "frame", help="render one frame of the world (or a USD stage) to AOV images: rgb, depth, normals, ..."
    )
    p.add_argument("--out", type=Path, required=True, help="folder for the PNGs and aovs.npz")
    p.add_argument("--frame", type=count, default=0, help="frame number (default 0)")
    p.add_argument("--seed", type=seed, default=0, help="world and noise seed (default 0)")
    p.add_argument("--size", default="320x240", help="WxH (default 320x240)")
    p.add_argument("--fps", type=frame_rate, default=24.0, help="frames per second of the walk (default 24)")
    add_device_option(p, "cpu", "cpu")
    p.add_argument("--stage", type=Path, help="render this USD stage with its camera instead of the world")
    p.add_argument("--camera", help="camera prim path in --stage (default: the first camera)")
    add_param_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import warp as wp

    from backrooms.graph.node import GraphContext
    from backrooms.graph.product import RenderProduct
    from backrooms.graph.recipe import check_span, parse_size
    from backrooms.io.atomic import atomic_path
    from backrooms.io.png import write_png
    from backrooms.params import ParamStore, parse_assignment
    from backrooms.render.node import RenderNode
    from backrooms.warp_start import start_warp

    width, height = parse_size(args.size)
    check_span(args.frame, 1, args.fps, "--frame")
    store = ParamStore()
    store.update(dict(parse_assignment(text) for text in args.assignments))
    params = store.snapshot()
    start_warp()
    if args.device == "cuda" and not wp.is_cuda_available():
        raise UserError("--device cuda: no CUDA device is available on this machine")
    product = RenderProduct(args.frame, width, height, args.device)
    if args.stage is None:
        RenderNode(GraphContext(args.seed, width, height, args.fps, args.device)).process(product, params)
    else:
        _render_stage(args, product, params)
    buffers = {name: buf.numpy() for name, buf in product.buffers.items()}
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out / "aovs.npz") as tmp:
        np.savez_compressed(tmp, **buffers)
    for name, image in pictures(buffers).items():
        write_png(args.out / f"{name}.png", image.astype(np.uint8))
    print(f"wrote {args.out}: {', '.join(sorted(buffers))} ({width}x{height}, frame {args.frame})")
    return 0


def _render_stage(args: argparse.Namespace, product: object, params: object) -> None:
    from pxr import Usd

    from backrooms.io.usd import quiet_usd, usd_reason
    from backrooms.render.renderer import Renderer
    from backrooms.render.scene import Scene
    from backrooms.render.usd_scene import camera_from_stage

    if not args.stage.is_file():
        raise UserError(f"--stage {args.stage}: no such file")
    try:
        with quiet_usd():
            stage = Usd.Stage.Open(str(args.stage))
            camera = camera_from_stage(stage, args.frame, args.camera)
            previous = camera_from_stage(stage, max(args.frame - 1, 0), args.camera)
            scene = Scene.from_stage(stage, args.device)
    except ValueError as exc:
        raise UserError(f"--stage {args.stage}: {exc}") from None
    except Exception as exc:  # pxr raises Tf errors for unreadable files
        raise UserError(f"--stage {args.stage}: cannot open ({usd_reason(exc)})") from None
    renderer = Renderer(product.width, product.height, args.device)
    renderer.render(scene, camera, previous, product, params.node("render"), args.seed)


def pictures(aovs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Viewable uint8 RGB images of the AOVs (depth as 1/(1+d/4), normals as 0.5n+0.5, motion as
    128 + 8 px per unit on red/green, ids as hashed colours, disocclusion white)."""
    depth = aovs["distance_to_camera"]
    ids = aovs["instance_id"].astype(np.uint64)
    hashed = (ids * np.uint64(2654435761)) % np.uint64(2**24)
    motion = np.clip(128 + 8 * aovs["motion_vectors"][..., :2], 0, 255)
    return {
        "rgb": aovs["rgb"][..., :3],
        "depth": np.repeat((255 / (1 + np.where(np.isfinite(depth), depth, np.inf) / 4))[..., None], 3, -1),
        "normals": np.clip((aovs["normals"][..., :3] * 0.5 + 0.5) * 255, 0, 255),
        "motion": np.concatenate([motion, np.full((*motion.shape[:2], 1), 128.0)], -1),
        "instance_id": np.stack([(hashed >> np.uint64(s)) & np.uint64(255) for s in (0, 8, 16)], -1)
        * (ids > 0)[..., None],
        "disocclusion": np.repeat(aovs["disocclusion"][..., None] * 255, 3, -1),
    }
