"""Training the shipped denoiser on clips the pipeline rendered (see ``data``).

Each step takes pairs of consecutive frames (t-1, t) cropped at the same place:
1. frame t-1 is stylised without memory (as the node does right after a reset), without gradients;
2. that output and its noise are warped to frame t along the exact motion vectors; with
   ``TrainConfig.memory`` "node" (the default) the output travels as the node carries it: divided by
   its frame's light, re-lit by frame t's, clamped to frame t's render, trusted at
   ``TrainConfig.memory_trust`` (``lighting.remembered``; a render traced below full size, times its
   ``render.scale``: the node's rule, ``controller.memory_trust``), so the network learns from the
   memory it is shown;
3. frame t is noised to a random level t and denoised, conditioned on the render, its AOVs and the
   warped memory. Some samples drop the memory so the same weights also work frame by frame.
With ``TrainConfig.memory_frames`` k > 1 the pairs start k frames back: steps 1-2 run from frame
t-k and the memory is carried through frames t-k+1 .. t-1 (each a pass with memory, without
gradients), so frame t learns from a memory as old as the node's own, not one pass old.

Objectives (``TrainConfig.objective``):
- ``flow`` (rectified flow / flow matching): the noisy input lies on the straight line from the
  *target* (the expensive render) to the noise, ``x_t = (1 - t) target + t noise``, and the loss is
  the squared error of the velocity ``noise - target``. The denoiser predicts x0, so its velocity is
  ``(x_t - x0) / t``; the loss is evaluated in that form with t floored at ``FLOW_T_MIN`` (the
  velocity of an almost clean input says nothing and would dominate the sum). This is a generative
  objective: the noise is the only source of the target's detail the render cannot show, so the
  velocity field carries the spread of plausible targets. One sampler step still returns their
  average (the x0 prediction is a posterior mean); the spread appears over several steps from high
  noise, or after distilling them.
- ``x0`` (the default: the shipped weights' objective): the line starts at the node's start image
  (memory or render), the loss is L1 on x0 — a conditional denoiser that predicts the average target.

Both add the VHS perceptual loss on the predicted clean frame (differences the tape will erase cost
nothing) and the temporal (warping) loss between the output and the warped previous output on pixels
that stayed visible.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch.nn import functional as F
from tqdm import tqdm

from backrooms.diffusion import resume
from backrooms.diffusion.controller import memory_trust
from backrooms.diffusion.data import Clip
from backrooms.diffusion.lighting import lighting, remembered, unlit
from backrooms.diffusion.model import Denoiser, DenoiserConfig, parameter_count
from backrooms.diffusion.pipeline import FrameInputs
from backrooms.diffusion.portable import PortableAdamW, mkl_branch, portable_arithmetic, with_ieee_roots
from backrooms.diffusion.train_config import TrainConfig
from backrooms.diffusion.warping import carry_noise, source_grid, valid_mask, warp
from backrooms.errors import UserError
from backrooms.io.atomic import write_text


@dataclass
class Batch:
    """Crops of frames t-1 and t, each (B, C, crop, crop), and the pairs before them, oldest first."""

    render_prev: torch.Tensor
    render: torch.Tensor
    target: torch.Tensor
    depth_prev: torch.Tensor
    depth: torch.Tensor
    normals_prev: torch.Tensor
    normals: torch.Tensor
    motion: torch.Tensor
    disocclusion: torch.Tensor
    earlier: tuple[Batch, ...] = ()
    scale: float = 1.0  # the render.scale the renders were traced at (the node trusts its memory by it)


class PairSampler:
    """Random (clip, frame, crop) pairs from stacked clips, reproducible from a seed.

    With ``history`` k > 1 each sample also carries the k - 1 pairs before it (frames t-k .. t-1),
    so the memory can be carried through them; k = 1 draws exactly what it always drew. With a
    ``reduced_share`` above 0 that share of batches takes its renders from one of the ``reduced``
    views (the same clips traced at a lower ``render.scale``, keyed by it); 0 draws as before.
    """

    def __init__(
        self,
        clips: Sequence[Clip],
        crop: int,
        seed: int,
        history: int = 1,
        reduced: dict[float, Sequence[Clip]] | None = None,
        reduced_share: float = 0.0,
    ) -> None:
        self.clips = list(clips)
        self.crop = crop
        self.history = history
        self.reduced = {scale: list(views) for scale, views in (reduced or {}).items()}
        self.reduced_share = reduced_share
        self.generator = torch.Generator().manual_seed(seed)
        h, w = self.clips[0].render.shape[-2:]
        if crop > min(h, w):
            raise ValueError(f"crop {crop} is larger than the clips' {w}x{h} frames")
        if not 1 <= history < min(len(c) for c in self.clips):
            raise ValueError(f"memory of {history} frames needs clips longer than that")
        if reduced_share > 0 and not self.reduced:
            raise ValueError(f"reduced share {reduced_share} needs clips traced at a reduced scale")
        if any(len(views) != len(self.clips) for views in self.reduced.values()):
            raise ValueError("every reduced scale needs a view of every clip")

    def _randint(self, high: int) -> int:
        return int(torch.randint(high, (1,), generator=self.generator))

    def sample(self, batch: int) -> Batch:
        clips, scale = self.clips, 1.0
        if self.reduced_share > 0 and float(torch.rand(1, generator=self.generator)) < self.reduced_share:
            scale = sorted(self.reduced)[self._randint(len(self.reduced))]
            clips = self.reduced[scale]
        # parts[j]: the pair ending j frames before t (0: the trained pair)
        parts: list[dict[str, list[torch.Tensor]]] = [{} for _ in range(self.history)]
        for _ in range(batch):
            clip = clips[self._randint(len(clips))]
            t = self.history + self._randint(len(clip) - self.history)
            h, w = clip.render.shape[-2:]
            y, x = self._randint(h - self.crop + 1), self._randint(w - self.crop + 1)

            def cut(a: torch.Tensor, i: int, y: int = y, x: int = x) -> torch.Tensor:
                return a[i : i + 1, :, y : y + self.crop, x : x + self.crop]

            for j, pair in enumerate(parts):
                items = {
                    "render_prev": cut(clip.render, t - j - 1),
                    "render": cut(clip.render, t - j),
                    "target": cut(clip.target, t - j),
                    "depth_prev": cut(clip.depth, t - j - 1),
                    "depth": cut(clip.depth, t - j),
                    "normals_prev": cut(clip.normals, t - j - 1),
                    "normals": cut(clip.normals, t - j),
                    "motion": cut(clip.motion, t - j),
                    "disocclusion": cut(clip.disocclusion, t - j),
                }
                for k, v in items.items():
                    pair.setdefault(k, []).append(v)
        pairs = [Batch(**{k: torch.cat(v) for k, v in pair.items()}, scale=scale) for pair in parts]
        pairs[0].earlier = tuple(reversed(pairs[1:]))
        return pairs[0]


def _levels(generator: torch.Generator, n: int, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    return (low + (high - low) * torch.rand(n, 1, 1, 1, generator=generator)).float()


def _memory(
    out: torch.Tensor,
    before: torch.Tensor,
    now: torch.Tensor,
    grid: torch.Tensor,
    config: TrainConfig,
) -> torch.Tensor:
    """The last output carried to the next frame: warped as is (``plain``; bilinear, the node runs
    bicubic), or as the node carries it (``node``: unlit, warped, re-lit, clamped to the render's
    3x3 window: ``remembered``; a render traced smaller is a reconstruction, as sharp)."""
    if config.memory == "plain":
        return warp(out, grid)
    before01, now01 = (before + 1) / 2, (now + 1) / 2
    ratio = unlit((out + 1) / 2, lighting(before01))
    return remembered(ratio, grid, lighting(now01), now01, 1) * 2 - 1


FLOW_T_MIN = 0.1  # floor of t in the velocity form of the flow loss


def training_losses(
    model: Denoiser, batch: Batch, config: TrainConfig, generator: torch.Generator, vhs_loss
) -> dict[str, torch.Tensor]:
    n = batch.render.shape[0]
    zeros1 = torch.zeros_like(batch.depth)
    trust = memory_trust(config.memory_trust, batch.scale) if config.memory == "node" else 1.0
    first = batch.earlier[0] if batch.earlier else batch
    # 1. the first frame without memory, as right after a reset
    noise_prev = torch.randn(batch.render.shape, generator=generator)
    with torch.no_grad():
        level = _levels(generator, n, 0.2, 0.8)
        inputs_prev = FrameInputs(
            first.render_prev, first.depth_prev, first.normals_prev, first.render_prev, zeros1
        )
        x = (1 - level) * first.render_prev + level * noise_prev
        previous_out = model(inputs_prev.planes(x, level)).clamp(-1, 1)
        # 1b. carried through the frames before t, as the node carries it
        for pair in batch.earlier:
            grid = source_grid(pair.motion)
            valid = valid_mask(grid, pair.disocclusion)
            fresh = torch.randn(batch.render.shape, generator=generator)
            noise_prev = carry_noise(noise_prev, grid, valid, fresh)
            memory = _memory(previous_out, pair.render_prev, pair.render, grid, config)
            inputs_prev = FrameInputs(pair.render, pair.depth, pair.normals, memory, valid * trust)
            level = _levels(generator, n, 0.2, 0.8)
            x = (1 - level) * inputs_prev.start() + level * noise_prev
            previous_out = model(inputs_prev.planes(x, level)).clamp(-1, 1)
    # 2. carry output and noise to frame t
    grid = source_grid(batch.motion)
    valid = valid_mask(grid, batch.disocclusion)
    keep = (torch.rand(n, 1, 1, 1, generator=generator) >= config.memory_dropout).float()
    valid = valid * keep
    previous = _memory(previous_out, batch.render_prev, batch.render, grid, config)
    fresh = torch.randn(batch.render.shape, generator=generator)
    noise = carry_noise(noise_prev, grid, valid, fresh)
    # 3. denoise frame t from memory-or-render at a random level
    inputs = FrameInputs(batch.render, batch.depth, batch.normals, previous, valid * trust)
    level = _levels(generator, n)
    flow = config.objective == "flow"
    x = (1 - level) * (batch.target if flow else inputs.start()) + level * noise
    out = model(inputs.planes(x, level))
    target01, out01 = (batch.target + 1) / 2, (out.clamp(-1, 1) + 1) / 2
    losses = {
        "l1": F.l1_loss(out, batch.target),
        # velocity error (x_t - x0) / t - (noise - target) = (target - x0) / t on the target's line
        "flow": (((out - batch.target) / level.clamp(min=FLOW_T_MIN)) ** 2).mean(),
        "vhs": vhs_loss(out01, target01),
        # squared, as the warping error is: an L1 term here pins the residual to exactly 0 (lasso)
        "temporal": (valid * (out - previous) ** 2).sum() / (3 * valid.sum()).clamp(min=1.0),
    }
    main = losses["flow"] if flow else losses["l1"]
    losses["total"] = main + config.vhs_weight * losses["vhs"] + config.temporal_weight * losses["temporal"]
    return losses


def train(
    clips: Sequence[Clip],
    config: TrainConfig,
    model_config: DenoiserConfig | None = None,
    vhs_loss=None,
    progress: bool = True,
    reduced: dict[float, Sequence[Clip]] | None = None,
    checkpoint: Path | None = None,
    data: str = "",
) -> tuple[Denoiser, dict]:
    """Train from scratch, or go on from ``checkpoint``; returns the EMA weights and a log (losses,
    steps, seconds). ``reduced`` holds the clips traced at lower render scales, for
    ``config.reduced_share`` of the steps.

    The weights are a pure function of the config and the clips, whatever the CPU: the learning
    rate follows the step count, and torch runs on ``config.threads`` threads in
    :func:`~backrooms.diffusion.portable.portable_arithmetic` (the log's ``mkl_branch`` says whether
    this process got it), its square roots correctly rounded (the optimiser's and the VHS loss's).
    ``config.minutes`` only stops a run early, and the log then says so.

    ``checkpoint`` (a file, :mod:`~backrooms.diffusion.resume`) is written every
    ``config.checkpoint_every`` steps, when the minutes run out and after the step a Ctrl-C lands in
    (then ``KeyboardInterrupt`` is raised); where it exists the run goes on from it, to the same bytes
    as a run that never stopped, if it was made with the same settings and ``data`` (the clips'
    digest), and is refused otherwise.
    """
    if vhs_loss is None:
        from backrooms.decay.loss import vhs_perceptual_loss as vhs_loss
    with portable_arithmetic(config.threads):
        vhs_loss = with_ieee_roots(vhs_loss)
        model, log = _train(clips, reduced, config, model_config, vhs_loss, progress, checkpoint, data)
    log["mkl_branch"] = mkl_branch()
    return model, log


class _Run:
    """What a training carries from step to step: the weights, their average, the optimiser, the two
    random streams and the log; saved whole to a checkpoint and put back from one."""

    def __init__(
        self, config: TrainConfig, model_config: DenoiserConfig, sampler: PairSampler, recipe: dict
    ) -> None:
        torch.manual_seed(config.seed)
        self.model = Denoiser(model_config).train()
        self.ema = copy.deepcopy(self.model).eval()
        self.optimiser = PortableAdamW(self.model.parameters(), lr=config.lr, weight_decay=1e-4)
        self.sampler = sampler
        self.generator = torch.Generator().manual_seed(config.seed + 1)
        self.config, self.recipe = config, recipe
        self.step = 0
        self.seconds = 0.0  # spent in the runs before this one
        self.running: dict[str, float] = {}
        self.log: dict = {
            "config": asdict(config),
            "parameters": parameter_count(self.model),
            "curve": [],
        }

    def save(self, path: Path, seconds: float) -> None:
        tensors = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        tensors |= {f"ema.{k}": v for k, v in self.ema.state_dict().items()}
        tensors |= resume.optimizer_tensors(self.optimiser)
        tensors["rng.sampler"] = self.sampler.generator.get_state()
        tensors["rng.losses"] = self.generator.get_state()
        tensors["rng.torch"] = torch.get_rng_state()
        state = {
            "recipe": self.recipe,
            "step": self.step,
            "seconds": self.seconds + seconds,
            "running": self.running,
            "log": self.log,
        }
        resume.save(path, tensors, state)

    def go_on(self, path: Path) -> None:
        tensors, state = resume.load(path)
        differ = resume.differences(state.get("recipe", {}), self.recipe)
        if differ:
            raise UserError(
                f"{path}: a checkpoint of another run ({differ[:300]}); delete it to start again, "
                "or use another --out"
            )
        self.model.load_state_dict(resume.named(tensors, "model."))
        self.ema.load_state_dict(resume.named(tensors, "ema."))
        resume.restore_optimizer(self.optimiser, tensors)
        self.sampler.generator.set_state(tensors["rng.sampler"])
        self.generator.set_state(tensors["rng.losses"])
        torch.set_rng_state(tensors["rng.torch"])
        self.step, self.seconds = state["step"], state["seconds"]
        self.running, self.log = state["running"], state["log"]
        self.log["config"] = asdict(self.config)  # this sitting's --minutes and --checkpoint-every
        self.log.setdefault("resumed_at", []).append(self.step)


RESUMABLE = ("minutes", "checkpoint_every")  # settings a run may change and still go on from a checkpoint


def _recipe(config: TrainConfig, model_config: DenoiserConfig, data: str) -> dict:
    """What a checkpoint must share with the run that goes on from it (as JSON reads it back)."""
    recipe = {k: v for k, v in asdict(config).items() if k not in RESUMABLE}
    return json.loads(json.dumps({**recipe, "model": asdict(model_config), "data": data}))


def _train(
    clips: Sequence[Clip],
    reduced: dict[float, Sequence[Clip]] | None,
    config: TrainConfig,
    model_config: DenoiserConfig | None,
    vhs_loss,
    progress: bool,
    checkpoint: Path | None,
    data: str,
) -> tuple[Denoiser, dict]:
    model_config = model_config or DenoiserConfig()
    sampler = PairSampler(
        clips, config.crop, config.seed, config.memory_frames, reduced, config.reduced_share
    )
    run = _Run(config, model_config, sampler, _recipe(config, model_config, data))
    if checkpoint is not None and checkpoint.is_file():
        run.go_on(checkpoint)
    model, ema, optimiser, running, log = run.model, run.ema, run.optimiser, run.running, run.log
    began = time.monotonic()
    budget = config.minutes * 60.0
    bar = tqdm(total=config.steps, initial=run.step, desc="train", unit="step", disable=not progress)
    with bar, resume.DeferredInterrupt() as interrupt:
        while run.step < config.steps and time.monotonic() - began < budget:
            for group in optimiser.param_groups:
                group["lr"] = config.lr * 0.5 * (1 + math.cos(math.pi * run.step / config.steps))
            losses = training_losses(model, sampler.sample(config.batch), config, run.generator, vhs_loss)
            optimiser.zero_grad(set_to_none=True)
            losses["total"].backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            with torch.no_grad():
                for e, p in zip(ema.parameters(), model.parameters(), strict=True):
                    e.lerp_(p, 1 - config.ema)
            for k, v in losses.items():
                value = float(v.detach())
                running[k] = 0.98 * running.get(k, value) + 0.02 * value
            run.step += 1
            bar.update(1)
            if run.step % config.log_every == 0:
                bar.set_postfix({k: f"{v:.4f}" for k, v in running.items()})
                log["curve"].append({"step": run.step, **{k: round(v, 5) for k, v in running.items()}})
            if checkpoint is not None and (run.step % config.checkpoint_every == 0 or interrupt.asked):
                run.save(checkpoint, time.monotonic() - began)
            if interrupt.asked:
                raise KeyboardInterrupt
    if checkpoint is not None and run.step < config.steps:  # the minutes ran out
        run.save(checkpoint, time.monotonic() - began)
    log["steps"] = run.step
    log["stopped_early"] = run.step < config.steps  # by the minutes budget: not the reproducible weights
    log["seconds"] = round(run.seconds + time.monotonic() - began, 1)
    log["final"] = {k: round(v, 5) for k, v in running.items()}
    return ema, log


def write_log(log: dict, path: Path) -> None:
    write_text(path, json.dumps(log, indent=2) + "\n")
