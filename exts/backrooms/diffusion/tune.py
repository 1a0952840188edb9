"""``backrooms tune``: fine-tune a user's diffusers checkpoint on tape with a LoRA.

Pairs come from the pipeline itself: the cheap live render in, and as the target the expensive
render (more wear, haze, light bleed; see ``data``) played through our decay pass, i.e. the frame
as the tape would have kept it. Each step, on a batch of random crops:

- diffusion loss: the target's latent noised to a random level, the checkpoint's own objective
  (epsilon, v or flow velocity) -- the LoRA learns the look;
- VHS perceptual loss (``decay.loss``) as a core term: the render's latent noised to the node's
  strength, one denoising step, decoded, compared through the tape's bandwidth with the target --
  the LoRA learns exactly what the node asks of it, judged as a viewer of the tape would.

Only the LoRA (rank ``rank`` on the attention projections) trains. Checkpoints (LoRA weights,
optimiser, step: ``resume``) are written every ``checkpoint_every`` steps and gone on from; the
batch of step k is a pure function of (seed, k), so a resumed run repeats the uninterrupted one. The
result is ``pytorch_lora_weights.safetensors`` in diffusers' format (``load_lora_weights`` reads it).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

import torch
from tqdm import tqdm

from backrooms.diffusion import resume
from backrooms.diffusion.data import Clip
from backrooms.diffusion.train_config import CHECKPOINT, TuneConfig
from backrooms.errors import UserError
from backrooms.io.atomic import write_text
from backrooms.seeds import stream_key

LORA_FILE = "pytorch_lora_weights.safetensors"
TARGET_MODULES = ["to_q", "to_k", "to_v", "to_out.0"]


def decayed(clip: Clip, seed: int, fps: float = 24.0) -> torch.Tensor:
    """The clip's targets played through the decay node (default tape), (T, 3, H, W) in [-1, 1]."""
    import warp as wp

    from backrooms.decay.node import DecayNode
    from backrooms.diffusion.frames import rgb_to_signed, signed_to_rgb
    from backrooms.graph.node import GraphContext
    from backrooms.graph.product import RGB, RenderProduct
    from backrooms.params.store import ParamStore

    _, _, h, w = clip.target.shape
    node = DecayNode(GraphContext(seed, w, h, fps, "cpu"))
    params = ParamStore().snapshot()
    buffers: dict = {}
    out = []
    for t in range(len(clip)):
        product = RenderProduct(t, w, h, "cpu", buffers)
        rgb = wp.to_torch(product.allocate(RGB))
        rgb[..., :3] = signed_to_rgb(clip.target[t : t + 1])
        rgb[..., 3] = 255
        node.process(product, params)
        out.append(rgb_to_signed(wp.to_torch(product[RGB])))
    return torch.cat(out)


class Tuner:
    """Owns the checkpoint (through the node's diffusers backend), its LoRA and the optimiser."""

    def __init__(self, base: Path, config: TuneConfig, device: str = "cpu") -> None:
        from peft import LoraConfig

        from backrooms.diffusion.backends.diffusers_backend import DiffusersStylizer

        if not base.is_dir():
            raise UserError(f"--base {base}: no such folder")
        self.config = config
        self.stylizer = DiffusersStylizer(base, prompt="", device=device)
        model = self.stylizer.denoiser
        model.requires_grad_(False)
        lora = LoraConfig(
            r=config.rank, lora_alpha=config.rank, init_lora_weights="gaussian", target_modules=TARGET_MODULES
        )
        with torch.random.fork_rng(devices=[]):  # the initial LoRA is a pure function of the seed
            torch.manual_seed(stream_key(config.seed, "tune.init") & 0x7FFF_FFFF)
            model.add_adapter(lora)
        self.params = [p for p in model.parameters() if p.requires_grad]
        for p in self.params:  # LoRA weights train in fp32 even on an fp16 checkpoint
            p.data = p.data.float()
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr)
        self.scaler = torch.amp.GradScaler("cuda", enabled=device == "cuda")  # fp16 activations
        self.step = 0
        multiple = self.stylizer.multiple
        if config.crop % multiple:
            raise UserError(f"--crop {config.crop}: must be a multiple of {multiple} for this checkpoint")

    # -- one step ------------------------------------------------------------------------------

    def loss(self, render: torch.Tensor, target: torch.Tensor, step: int) -> tuple[torch.Tensor, dict]:
        s, schedule, cfg = self.stylizer, self.stylizer.schedule, self.config
        generator = torch.Generator().manual_seed(stream_key(cfg.seed, "tune.noise", step) & 0x7FFF_FFFF)
        with torch.no_grad():
            z_target = s.encode(target)
            z_render = s.encode(render)
        noise = torch.randn(z_target.shape, generator=generator).to(z_target)
        level = 0.02 + 0.98 * float(torch.rand((), generator=generator))
        x_t = schedule.add_noise(z_target, noise, level)
        diffusion = torch.nn.functional.mse_loss(
            s.predict(x_t, level, None).float(), schedule.target(z_target, noise, level).float()
        )
        x_t = schedule.add_noise(z_render, noise, cfg.strength)
        image = s.decode(schedule.clean(x_t, s.predict(x_t, cfg.strength, None), cfg.strength))
        vhs = _vhs(((image.float() + 1) / 2).clamp(0, 1), (target.float() + 1) / 2)
        total = diffusion + cfg.vhs_weight * vhs
        parts = {"loss": total.item(), "diffusion": diffusion.item(), "vhs": vhs.item()}
        return total, parts

    def train_step(self, render: torch.Tensor, target: torch.Tensor) -> dict:
        self.optimizer.zero_grad(set_to_none=True)
        device = self.stylizer.device
        with torch.autocast(device.type, dtype=torch.float16, enabled=device.type == "cuda"):
            total, parts = self.loss(render.to(device), target.to(device), self.step)
        self.scaler.scale(total).backward()
        self.scaler.unscale_(self.optimizer)
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.step += 1
        return parts

    # -- files ---------------------------------------------------------------------------------

    def lora_state(self) -> dict[str, torch.Tensor]:
        from peft.utils import get_peft_model_state_dict

        return {
            k: v.detach().float().cpu().contiguous()
            for k, v in get_peft_model_state_dict(self.stylizer.denoiser).items()
        }

    def save_checkpoint(self, path: Path, log: list[dict]) -> None:
        tensors = {f"lora.{k}": v for k, v in self.lora_state().items()}
        tensors |= resume.optimizer_tensors(self.optimizer)
        resume.save(path, tensors, {"step": self.step, "config": asdict(self.config), "log": log})

    def load_checkpoint(self, path: Path) -> list[dict]:
        from peft.utils import set_peft_model_state_dict

        tensors, state = resume.load(path)
        differ = resume.differences(_recipe(state.get("config", {})), _recipe(asdict(self.config)))
        if differ:
            raise UserError(f"{path}: made with other settings ({differ}); use another --out")
        set_peft_model_state_dict(self.stylizer.denoiser, resume.named(tensors, "lora."))
        resume.restore_optimizer(self.optimizer, tensors)
        self.step = state["step"]
        return state["log"]

    def save_lora(self, out: Path) -> Path:
        """``out/pytorch_lora_weights.safetensors`` in diffusers' LoRA format."""
        from diffusers.utils import convert_state_dict_to_diffusers
        from peft.utils import get_peft_model_state_dict

        layers = convert_state_dict_to_diffusers(get_peft_model_state_dict(self.stylizer.denoiser))
        layers = {k: v.detach().float().cpu().contiguous() for k, v in layers.items()}
        pipe = self.stylizer.pipe
        key = "transformer_lora_layers" if hasattr(pipe, "transformer") else "unet_lora_layers"
        type(pipe).save_lora_weights(
            str(out), **{key: layers}, weight_name=LORA_FILE, safe_serialization=True
        )
        return out / LORA_FILE


def _recipe(config: dict) -> dict:
    """The settings a checkpoint must share to be resumed (the step budget may grow)."""
    return {k: v for k, v in config.items() if k not in ("steps", "checkpoint_every")}


def _vhs(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    from backrooms.decay.loss import vhs_perceptual_loss

    return vhs_perceptual_loss(a, b)


def crops(render: torch.Tensor, target: torch.Tensor, config: TuneConfig, step: int):
    """The batch of step ``step``: random same-place crops of random frames (pure in seed, step)."""
    generator = torch.Generator().manual_seed(stream_key(config.seed, "tune.batch", step) & 0x7FFF_FFFF)
    n, _, h, w = render.shape
    size = min(config.crop, h, w)
    picks = []
    for _ in range(config.batch):
        i = int(torch.randint(n, (), generator=generator))
        y = int(torch.randint(h - size + 1, (), generator=generator))
        x = int(torch.randint(w - size + 1, (), generator=generator))
        picks.append((render[i, :, y : y + size, x : x + size], target[i, :, y : y + size, x : x + size]))
    return torch.stack([p[0] for p in picks]), torch.stack([p[1] for p in picks])


def tune(tuner: Tuner, out: Path, render: torch.Tensor, target: torch.Tensor, progress: bool = True) -> dict:
    """Train (going on from ``out/checkpoint.safetensors``), write the LoRA and ``tuning.json``;
    returns the log."""
    config = tuner.config
    checkpoint = out / CHECKPOINT
    log = tuner.load_checkpoint(checkpoint) if checkpoint.is_file() else []
    began = time.perf_counter()
    bar = tqdm(total=config.steps, initial=tuner.step, desc="tune", unit="step", disable=not progress)
    while tuner.step < config.steps:
        parts = tuner.train_step(*crops(render, target, config, tuner.step))
        log.append({"step": tuner.step, **parts})
        bar.update(1)
        bar.set_postfix(loss=f"{parts['loss']:.4f}")
        if tuner.step % config.checkpoint_every == 0 or tuner.step == config.steps:
            tuner.save_checkpoint(checkpoint, log)
    bar.close()
    path = tuner.save_lora(out)
    report = {"config": asdict(config), "lora": path.name, "seconds": time.perf_counter() - began, "log": log}
    write_text(out / "tuning.json", json.dumps(report, indent=2) + "\n")
    return report
