"""``backrooms train``: render training pairs, train the denoiser, evaluate it on a held-out walk;
with ``--check``, whether this CPU trains a model folder's bytes. ``backrooms tune``: fine-tune a
user's diffusers checkpoint on tape with a LoRA (see ``tune``)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from backrooms.diffusion.train_config import (
    CHECKPOINT,
    CHOICES,
    REDUCED_SCALES,
    KnobError,
    TrainConfig,
    TuneConfig,
)
from backrooms.errors import UserError

if TYPE_CHECKING:
    from backrooms.diffusion.data import Clip
    from backrooms.diffusion.model import Denoiser

DEFAULT_OUT = Path("models") / "remembered"
EVAL_GENERATE = (1, 2)  # diffusion.generate values the real graph is evaluated at
TRAIN_HELP = {  # the TrainConfig fields the command exposes
    "steps": "optimiser steps",
    "minutes": "wall-clock cap of this run's steps: it stops at a checkpoint the same command goes on from",
    "batch": "crops per step",
    "crop": "crop side in pixels",
    "lr": "peak learning rate (cosine decay)",
    "memory_frames": "frames the memory is carried through before the trained one",
    "memory": "plain: the last output warped as is; node: re-lit, clamped and trusted as the node does",
    "memory_trust": "trust in the node-made memory while training (the node runs at its temporal_weight)",
    "reduced_share": f"share of steps whose render is traced at a render.scale of {REDUCED_SCALES} (0: none)",
    "seed": "seed of the data, the crops and the weights",
    "objective": "x0: L1 on the clean frame; flow: rectified-flow velocity loss",
    "checkpoint_every": f"steps between the checkpoints (--out/{CHECKPOINT}) a stopped run goes on from",
}
TUNE_HELP = {  # every TuneConfig field is a flag
    "steps": "optimiser steps",
    "batch": "crops per step",
    "crop": "crop side in pixels",
    "lr": "learning rate",
    "rank": "rank of the LoRA's matrices",
    "strength": "the node's strength the VHS term trains for (0..1)",
    "vhs_weight": "weight of the VHS perceptual loss beside the diffusion loss",
    "checkpoint_every": f"steps between the checkpoints (--out/{CHECKPOINT}) a larger --steps goes on from",
    "seed": "seed of the data, the crops and the noise",
}
HELD_OUT_WALK = 10_000  # clip index of the evaluation walk (its own world seed), far from 0..N-1
HELD_OUT_WALKS = 5  # walks HELD_OUT_WALK, +1, ... averaged: one walk's scores swing by ~0.01 of SSIM
GOES_ON = "make room and run the same command: it goes on from its last checkpoint"  # after a full disk
# steps of a training's check (``--check``): half a minute on two cores, every kind of step a full
# run takes (the memory carried, the VHS loss, AdamW, on the 300 steps measured one clipped gradient)
CHECK_STEPS = 150


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="train the diffusion node's denoiser on pairs the pipeline renders (cheap -> expensive)",
        description=__doc__,
    )
    p.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help=f"model folder to write (default {DEFAULT_OUT})"
    )
    p.add_argument("--data", type=Path, default=Path("out/diffusion-data"), help="clip cache folder")
    p.add_argument("--clips", type=int, default=24, help="training walks to render (default 24)")
    p.add_argument("--frames", type=int, default=8, help="frames per training walk (default 8)")
    p.add_argument("--size", default="320x240", help="cheap render size WxH; the expensive one is twice that")
    p.add_argument("--expensive-spp", type=int, default=8, help="samples per pixel of the expensive render")
    p.add_argument("--eval-frames", type=int, default=48, help="frames of the held-out walk (0: skip)")
    p.add_argument(
        "--eval-walks",
        type=int,
        default=HELD_OUT_WALKS,
        help=f"held-out walks averaged (the first also gets every variant; default {HELD_OUT_WALKS})",
    )
    p.add_argument("--eval-only", action="store_true", help="evaluate the model in --out without training")
    p.add_argument(
        "--check",
        action="store_true",
        help=f"a {CHECK_STEPS}-step training of the settings and clips --out's training.json records "
        "(other training flags are ignored), compared with the check it records: whether this CPU "
        "trains in the same arithmetic, in minutes instead of an hour (exit 1 where not)",
    )
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        if f.name in TRAIN_HELP:
            p.add_argument(
                f"--{f.name.replace('_', '-')}",
                type=type(getattr(defaults, f.name)),
                default=getattr(defaults, f.name),
                choices=CHOICES.get(f.name),
                help=f"{TRAIN_HELP[f.name]} (default {getattr(defaults, f.name)})",
            )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_train, no_room=GOES_ON)
    _register_tune(subparsers)


def _register_tune(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "tune",
        help="fine-tune your diffusers checkpoint (SD-Turbo, SDXL, SD3) on tape: writes a LoRA",
        description="Train a LoRA for a local diffusers checkpoint on pairs the pipeline renders: clean "
        "renders in, the expensive render through the decay pass as targets, with the VHS perceptual "
        "loss beside the diffusion loss. Goes on from --out/checkpoint.safetensors. Use the result with "
        "--set diffusion.style=BASE --set diffusion.lora=OUT/pytorch_lora_weights.safetensors.",
    )
    p.add_argument(
        "--base", type=Path, required=True, help="the diffusers checkpoint folder (model_index.json)"
    )
    p.add_argument("--out", type=Path, default=Path("models") / "tape-lora", help="LoRA folder to write")
    p.add_argument("--data", type=Path, default=Path("out/tune-data"), help="clip cache folder")
    p.add_argument("--clips", type=int, default=16, help="walks to render (default 16)")
    p.add_argument("--frames", type=int, default=4, help="frames per walk (default 4)")
    p.add_argument("--size", default="512x512", help="render size WxH (default 512x512)")
    p.add_argument("--expensive-spp", type=int, default=8, help="samples per pixel of the expensive render")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to train")
    defaults = TuneConfig()
    for f in fields(TuneConfig):
        value = getattr(defaults, f.name)
        p.add_argument(
            f"--{f.name.replace('_', '-')}",
            type=type(value),
            default=value,
            help=f"{TUNE_HELP[f.name]} (default {value})",
        )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_tune, no_room=GOES_ON)


def run_tune(args: argparse.Namespace) -> int:
    import torch

    from backrooms.diffusion.data import Clip, ensure_clips
    from backrooms.diffusion.tune import Tuner, decayed, tune
    from backrooms.graph.recipe import parse_size

    if not (args.base / "model_index.json").is_file():
        raise UserError(f"--base {args.base}: not a diffusers checkpoint folder (no model_index.json)")
    try:
        config = TuneConfig(**{f.name: getattr(args, f.name) for f in fields(TuneConfig)})
    except KnobError as error:
        raise UserError(error.flag_message) from None
    for name in ("steps", "batch", "crop", "rank", "checkpoint_every", "clips", "frames", "expensive_spp"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')}: too small ({getattr(args, name)})")
    width, height = parse_size(args.size)
    cuda = torch.cuda.is_available()
    device = ("cuda" if cuda else "cpu") if args.device == "auto" else args.device
    progress = not args.quiet
    tuner = Tuner(args.base, config, device)  # a broken checkpoint fails before any rendering
    paths = ensure_clips(
        args.data, args.clips, args.frames, width, height, args.expensive_spp, args.seed, progress
    )
    clips = [Clip.load(p) for p in paths]
    render = torch.cat([c.render for c in clips])
    target = torch.cat([decayed(c, args.seed) for c in clips])
    args.out.mkdir(parents=True, exist_ok=True)
    report = tune(tuner, args.out, render, target, progress)
    first, last = report["log"][0]["loss"], report["log"][-1]["loss"]
    print(
        f"tuned {len(report['log'])} steps in {report['seconds']:.0f} s (loss {first:.4f} -> {last:.4f}) -> "
        f"{args.out / report['lora']}"
    )
    return 0


def run_train(args: argparse.Namespace) -> int:
    from backrooms.diffusion.portable import compatible_mkl

    with compatible_mkl():  # before the imports below call MKL: the data and the weights portable
        return _run_train(args)


def _run_train(args: argparse.Namespace) -> int:
    import torch

    from backrooms.bench.core import machine
    from backrooms.decay.loss import vhs_perceptual_loss
    from backrooms.diffusion.data import clip_settings, clip_world, mean_timing, render_clip
    from backrooms.diffusion.evaluate import (
        evaluate,
        evaluate_graph,
        mean_scores,
        run_node,
        scores,
        still_panels,
    )
    from backrooms.diffusion.model import DenoiserConfig
    from backrooms.diffusion.styles import find_style
    from backrooms.diffusion.train import train, write_log
    from backrooms.graph.recipe import parse_size
    from backrooms.io.atomic import write_text

    width, height = parse_size(args.size)
    counts = ("clips", "frames", "steps", "batch", "crop", "expensive_spp", "memory_frames", "eval_walks")
    for name in (*counts, "checkpoint_every"):
        if getattr(args, name) < (2 if name in ("frames",) else 1):
            raise UserError(f"--{name.replace('_', '-')}: too small ({getattr(args, name)})")
    if args.memory_frames >= args.frames:
        raise UserError(f"--memory-frames {args.memory_frames}: must be below --frames ({args.frames})")
    multiple = DenoiserConfig().multiple
    if args.crop % multiple or args.crop > min(width, height):
        raise UserError(f"--crop {args.crop}: must be a multiple of {multiple} and fit in {width}x{height}")
    try:  # before any data is rendered
        config = TrainConfig(**{name: getattr(args, name) for name in TRAIN_HELP})
    except KnobError as error:
        raise UserError(error.flag_message) from None
    if args.check and args.eval_only:
        raise UserError("--check and --eval-only: one at a time")
    if args.check:
        return _check(args)
    if args.eval_only:  # a wrong --out is named before the held-out walks are rendered
        try:
            find_style(str(args.out.resolve()))
        except ValueError as error:
            raise UserError(f"--out: {error}") from None
    progress = not args.quiet
    torch.manual_seed(args.seed)
    if not args.eval_only:
        dataset = (args.data, args.clips, args.frames, width, height, args.expensive_spp)
        clips, reduced, digest = _training_data(*dataset, config, progress)
        checkpoint = args.out / CHECKPOINT
        if checkpoint.is_file() and progress:
            print(f"going on from {checkpoint}", flush=True)
        try:
            model, log = train(
                clips,
                config,
                vhs_loss=vhs_perceptual_loss,
                progress=progress,
                reduced=reduced,
                checkpoint=checkpoint,
                data=digest,
            )
        except KeyboardInterrupt:
            if checkpoint.is_file():
                print(f"backrooms: the same command goes on from {checkpoint}", file=sys.stderr)
            raise
        if log["stopped_early"]:
            print(
                f"stopped by --minutes after {log['steps']} of {config.steps} steps; nothing written to "
                f"{args.out}: the same command goes on from {checkpoint}"
            )
            return 0
        steps = min(CHECK_STEPS, config.steps)
        if steps < config.steps and progress:
            print(f"check: {steps} steps, for `backrooms train --check` on other machines", flush=True)
        # a run no longer than the check is its own check
        short = (
            _check_model(clips, reduced, config, steps, digest, progress) if steps < config.steps else model
        )
        model.save_pretrained(args.out)
        log["check"] = {"steps": steps, "sha256": _weights_digest(short)}
        log["data"] = {
            "clips": args.clips,
            "frames": args.frames,
            "size": [width, height],
            "expensive_spp": args.expensive_spp,
            "render_seconds_per_frame": mean_timing(args.data),
            "sha256": digest,
        }
        # which machine made them: the same bytes whatever the CPU in the portable arithmetic (its
        # `mkl_branch` says whether this run had it); where two runs differ, where to look
        log["machine"] = machine()
        write_log(log, args.out / "training.json")
        checkpoint.unlink(missing_ok=True)  # the run is written: nothing left to go on from
        resumed = ", ".join(map(str, log.get("resumed_at", [])))
        resumed = f" (gone on from step {resumed})" if resumed else ""
        print(f"trained {log['steps']} steps in {log['seconds']:.0f} s{resumed} -> {args.out}")
    if args.eval_frames:
        style = str(args.out.resolve())
        graph = tuple((g, s) for g in EVAL_GENERATE for s in (1.0, *REDUCED_SCALES))
        walks = [HELD_OUT_WALK + i for i in range(args.eval_walks)]
        rows = {}
        for index in walks:
            world, look = clip_world(args.seed, index), clip_settings(args.seed, index)
            if progress:
                print(f"held-out walk {index} ({len(rows) + 1} of {len(walks)})", flush=True)
            held_out, timing = render_clip(
                *world, args.eval_frames, width, height, look, expensive_spp=args.expensive_spp
            )
            through_graph = evaluate_graph(held_out, world, look, style, graph, vhs_perceptual_loss)
            if index == HELD_OUT_WALK:  # the model card's walk: every variant, seeds, timing
                report = evaluate(held_out, style, vhs_loss=vhs_perceptual_loss)
                report["graph"] = through_graph
                report["graph_still_panels"] = still_panels(held_out, world, look, style, graph)
                report["render_seconds_per_frame"] = timing
                node = {k: v for k, v in report["temporal"].items() if k != "seconds_per_frame"}
            else:  # the node at its defaults, as evaluate's "temporal"
                frames = run_node(held_out, {"diffusion.style": style}).frames
                node = scores(frames, held_out, vhs_perceptual_loss)
            rows[index] = {"node": node, **through_graph}
        report["eval_frames"] = args.eval_frames
        # the figures are this CPU's: where it multiplies bfloat16 natively, the network runs in it
        report["machine"] = machine()
        report["held_out_walks"] = {"mean": mean_scores(list(rows.values())), "walks": rows}
        write_text(args.out / "evaluation.json", json.dumps(report, indent=2) + "\n")
        print(json.dumps(report, indent=2))
    return 0


def _training_data(
    folder: Path,
    count: int,
    frames: int,
    width: int,
    height: int,
    spp: int,
    config: TrainConfig,
    progress: bool,
) -> tuple[list[Clip], dict[float, list[Clip]] | None, str]:
    """The clips a training reads (rendered where the cache ``folder`` lacks them), their renders at
    the reduced scales where ``config`` draws from them (else None), and the digest of every file read."""
    from backrooms.diffusion.data import Clip, ensure_clips, ensure_scaled, files_digest, load_scaled

    paths = ensure_clips(folder, count, frames, width, height, spp, config.seed, progress)
    clips = [Clip.load(p) for p in paths]
    reduced = None
    read = list(paths)
    if config.reduced_share > 0:
        views = ensure_scaled(paths, frames, width, height, REDUCED_SCALES, config.seed, progress)
        reduced = {s: [load_scaled(c, p) for c, p in zip(clips, v, strict=True)] for s, v in views.items()}
        read += [p for v in views.values() for p in v]
    return clips, reduced, files_digest(read)


def _check_model(
    clips: list[Clip],
    reduced: dict[float, list[Clip]] | None,
    config: TrainConfig,
    steps: int,
    data: str,
    progress: bool,
) -> Denoiser:
    """The weights a training of ``config``'s settings makes in ``steps`` steps (its learning rate
    decays over them): a pure function of the settings and the clips, as the full run is, so another
    CPU that gives the same bytes trains in the same arithmetic."""
    from backrooms.decay.loss import vhs_perceptual_loss
    from backrooms.diffusion.train import train

    model, _ = train(
        clips,
        replace(config, steps=steps),
        vhs_loss=vhs_perceptual_loss,
        progress=progress,
        reduced=reduced,
        data=data,
    )
    return model


def _weights_digest(model: Denoiser) -> str:
    """sha256 of the model.safetensors ``model`` writes: a training's check."""
    return hashlib.sha256(model.weights_bytes()).hexdigest()


def _check(args: argparse.Namespace) -> int:
    """``--check``: the check ``args.out``'s training.json records, made again on this machine."""
    from backrooms.bench.core import machine

    path = args.out / "training.json"
    try:
        log = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"--check: {path}: no such file (a model folder `backrooms train` wrote)") from None
    except (OSError, ValueError) as error:
        raise UserError(f"--check: {path}: not readable ({error})") from None
    if not isinstance(log, dict) or not log.get("check"):
        raise UserError(f"--check: {path} records no check (made before `backrooms train` made one)")
    try:
        config = TrainConfig(**log["config"])
        data, steps, expected = log["data"], int(log["check"]["steps"]), str(log["check"]["sha256"])
        width, height = data["size"]
        dataset = (args.data, data["clips"], data["frames"], width, height, data["expensive_spp"])
        made_on = log.get("machine", {}).get("cpu", "an unnamed CPU")
    except (KeyError, TypeError, ValueError) as error:
        raise UserError(f"--check: {path}: not a training log this version reads ({error})") from None
    progress = not args.quiet
    clips, reduced, digest = _training_data(*dataset, config, progress)
    cpu = machine()["cpu"]
    if digest != data["sha256"]:
        print(
            f"check: the clips in {args.data} ({digest[:8]}…) are not the ones {path} records "
            f"({data['sha256'][:8]}…): this {cpu} renders other bytes than the {made_on} did"
        )
        return 1
    print(f"check: the clips are the ones {path} records ({digest[:8]}…); {steps} steps", flush=True)
    made = _weights_digest(_check_model(clips, reduced, config, steps, digest, progress))
    if made != expected:
        print(
            f"check: {steps} steps give {made[:8]}… where {path} records {expected[:8]}… (made on the "
            f"{made_on}): this {cpu} trains in other arithmetic"
        )
        return 1
    same = f"{steps} steps give the bytes {path} records ({made[:8]}…)"
    print(f"check: {same}: this {cpu} trains as the {made_on} did")
    return 0
