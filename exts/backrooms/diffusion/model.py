"""The denoiser we ship: a small residual UNet that predicts the clean frame from a noisy one.

It works on 4x4-pixel patches inside (a patch-strided convolution in, pixel shuffle out), so a
320x240 frame costs a few tens of milliseconds on one CPU core, and predicts a 3x3 kernel per pixel
that filters the start image at full resolution, plus a residual. Its conditioning is stacked as
input channels, which keeps the graph plain convolutions and slices that export cleanly to ONNX and
TensorRT.

Saving writes ``config.json`` + ``model.safetensors``; loading never unpickles.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F

from backrooms.diffusion.styles import CONFIG_NAME, WEIGHTS_NAME
from backrooms.errors import UserError
from backrooms.io.atomic import atomic_path, write_text
from backrooms.io.tensors import safetensors_bytes

# Input channel layout, in order. The model sees exactly these planes, all at frame resolution.
INPUT_PLANES: tuple[tuple[str, int], ...] = (
    ("x_t", 3),  # the noisy frame being denoised
    ("render", 3),  # the cheap render, linear-ish sRGB in [0, 1]
    ("previous", 3),  # last output warped along the motion vectors, times ``valid``
    ("valid", 1),  # where ``previous`` can be trusted (0 in disoccluded pixels or when unused)
    ("depth", 1),  # 1 / (1 + distance): near is 1, far and misses are 0
    ("normals", 3),  # world-space normals in [-1, 1]
    ("t", 1),  # noise level of x_t, broadcast as a plane
)
IN_CHANNELS = sum(n for _, n in INPUT_PLANES)


def _plane_slices() -> dict[str, slice]:
    slices, first = {}, 0
    for name, count in INPUT_PLANES:
        slices[name] = slice(first, first + count)
        first += count
    return slices


PLANE_SLICES: dict[str, slice] = _plane_slices()  # where each named plane sits in the stacked input


def stack_planes(planes: dict[str, torch.Tensor]) -> torch.Tensor:
    """Named (N, C, H, W) planes -> the denoiser's input, in ``INPUT_PLANES`` order."""
    return torch.cat([planes[name] for name, _ in INPUT_PLANES], dim=1)


def start_image(render: torch.Tensor, masked_previous: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """The image the sampler starts from and the model's zero: memory where it is valid (``previous``
    already multiplied by ``valid``), the render where it is not."""
    return masked_previous + (1.0 - valid) * render


# What a config.json without these fields means: the networks saved before they existed (the first
# shipped network had none of them; the second all but ``head_kernel``)
BEFORE_PATCHES = {"patch": 2, "stem_kernel": 3, "filter": 0, "head_kernel": 3}


@dataclass(frozen=True)
class DenoiserConfig:
    """Everything needed to rebuild the network; stored as config.json beside the weights."""

    widths: tuple[int, ...] = (24, 48, 72)
    blocks: int = 1
    patch: int = 4  # pixels per side folded into channels before the first stage (and unfolded after)
    # the first convolution's size in patches: 3 looks at the 3x3 patches around each one (over the
    # unshuffled planes); 1 is a linear embedding of each patch, a patch-strided convolution (the
    # same function as unshuffle + 1x1, without the unshuffle's copy of every plane)
    stem_kernel: int = 1
    # side of the per-pixel kernel the network predicts over the start image (0: none). A patch's
    # features decide each of its pixels only linearly, too coarse to tell a pixel's shading noise
    # from its texture; a predicted, normalised kernel filters at full resolution (as kernel-
    # predicting denoisers do), which makes larger patches affordable
    filter: int = 3
    # side of the head's convolution, which maps each patch's features to its pixels' kernels and
    # residual: 1 reads the patch alone (the head's cost / 9, a third of the network's at 3)
    head_kernel: int = 1
    model_type: str = "backrooms-remembered-unet"

    @property
    def multiple(self) -> int:
        """Frame sides must be multiples of this (the patch, then 2 per down stage)."""
        return self.patch * 2 ** (len(self.widths) - 1)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> DenoiserConfig:
        data = json.loads(text)
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown denoiser config keys: {sorted(unknown)}")
        if "widths" in data:
            data["widths"] = tuple(data["widths"])
        return cls(**(BEFORE_PATCHES | data))


def _act(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU: as cheap as ReLU on a CPU, and units cannot die in a short training run."""
    return F.leaky_relu(x, 0.2)


class ResBlock(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(width, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(_act(self.conv1(_act(x))))


class Stage(nn.Module):
    def __init__(self, width: int, blocks: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(*(ResBlock(width) for _ in range(blocks)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks(x)


class Denoiser(nn.Module):
    """``forward(planes) -> x0``: the clean frame, predicted as the start image (the warped previous
    output where it is valid, the cheap render elsewhere) filtered by a predicted per-pixel kernel,
    plus a residual.

    Starting from memory makes "keep what was there" the model's zero, so invented detail stays
    put unless the evidence says otherwise; frame by frame (valid = 0) the start is the render.
    """

    def __init__(self, config: DenoiserConfig | None = None) -> None:
        super().__init__()
        self.config = config or DenoiserConfig()
        w = self.config.widths
        patch, k = self.config.patch, self.config.stem_kernel
        if k == 1:
            self.unshuffle = nn.Identity()
            self.stem = nn.Conv2d(IN_CHANNELS, w[0], patch, stride=patch)
        else:
            self.unshuffle = nn.PixelUnshuffle(patch)
            self.stem = nn.Conv2d(IN_CHANNELS * patch * patch, w[0], k, padding=k // 2)
        self.down_stages = nn.ModuleList(Stage(c, self.config.blocks) for c in w)
        self.downs = nn.ModuleList(nn.Conv2d(a, b, 3, stride=2, padding=1) for a, b in itertools.pairwise(w))
        self.ups = nn.ModuleList(nn.Conv2d(b, a, 3, padding=1) for a, b in itertools.pairwise(w))
        self.up_stages = nn.ModuleList(Stage(c, self.config.blocks) for c in w[:-1])
        taps = self.config.filter**2
        k = self.config.head_kernel
        self.head = nn.Conv2d(w[0], (3 + taps) * patch * patch, k, padding=k // 2)
        nn.init.normal_(self.head.weight, std=1e-3)  # starts near "keep the start image"
        nn.init.zeros_(self.head.bias)
        if taps:  # a kernel whose centre holds 0.95 of the weight
            centre = (3 + taps // 2) * patch * patch
            logit = math.log(0.95 * (taps - 1) / 0.05)
            nn.init.constant_(self.head.bias[centre : centre + patch * patch], logit)

    @property
    def multiple(self) -> int:
        return self.config.multiple

    def forward(self, planes: torch.Tensor) -> torch.Tensor:
        render, previous, valid = (planes[:, PLANE_SLICES[k]] for k in ("render", "previous", "valid"))
        start = start_image(render, previous, valid).contiguous()  # previous is stored pre-masked
        h = self.stem(self.unshuffle(planes))
        skips = []
        for i, stage in enumerate(self.down_stages):
            h = stage(h)
            if i < len(self.downs):
                skips.append(h)
                h = self.downs[i](_act(h))
        for i in reversed(range(len(self.ups))):
            h = self.ups[i](F.interpolate(h, scale_factor=2.0, mode="nearest")) + skips[i]
            h = self.up_stages[i](h)
        # one plane after another from here: full-resolution arithmetic on a few channels, which
        # channels-last (the convolutions' layout on a CPU) makes strided and 2-3x slower
        out = _unpatched(self.head(_act(h)), self.config.patch)
        if self.config.filter:
            start = _filtered(start, out[:, 3:].softmax(dim=1), self.config.filter)
        return start + out[:, :3]

    def weights_bytes(self) -> bytes:
        """The bytes of ``model.safetensors``: what a training's reproducibility is judged by."""
        return safetensors_bytes(self.state_dict(), metadata={"format": "pt"})

    def save_pretrained(self, folder: str | Path) -> Path:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        # Both written before either replaces its file: a failure leaves the old pair, not a mix.
        with atomic_path(folder / WEIGHTS_NAME) as weights:
            weights.write_bytes(self.weights_bytes())
            write_text(folder / CONFIG_NAME, self.config.to_json() + "\n")
        return folder

    @classmethod
    def from_pretrained(cls, folder: str | Path, device: str | torch.device = "cpu") -> Denoiser:
        folder = Path(folder)
        config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
        if not config_path.is_file() or not weights_path.is_file():
            raise UserError(f"{folder}: not a denoiser folder (needs {CONFIG_NAME} and {WEIGHTS_NAME})")
        try:
            model = cls(DenoiserConfig.from_json(config_path.read_text()))
            model.load_state_dict(load_file(str(weights_path), device=str(device)))
        except (OSError, ValueError, TypeError, KeyError, RuntimeError, SafetensorError) as exc:
            # cut short, edited, or the weights of another config (load_state_dict names the shapes)
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [type(exc).__name__]
            reason = " ".join(lines[:2] if lines[0].endswith(":") else lines[:1])[:240]
            raise UserError(f"{folder}: not a whole denoiser ({reason})") from None
        return model.to(device).eval()


def _unpatched(x: torch.Tensor, patch: int) -> torch.Tensor:
    """``pixel_shuffle(x, patch)``, contiguous: each channel's ``patch`` x ``patch`` pixels from the
    channels after it, in one permuting copy. ``pixel_shuffle`` of the convolutions' channels-last
    output followed by ``contiguous`` made two copies (at 640x480 on one CPU thread 6.3 ms against
    3.2 for this one)."""
    n, c, h, w = x.shape
    out = c // (patch * patch)
    blocks = x.view(n, out, patch, patch, h, w).permute(0, 1, 4, 2, 5, 3)
    return blocks.reshape(n, out, h * patch, w * patch)


def _filtered(image: torch.Tensor, weights: torch.Tensor, size: int) -> torch.Tensor:
    """Each pixel of ``image`` as the ``weights``-weighted sum of its ``size`` x ``size`` neighbours
    (edges replicated); ``weights`` (N, size^2, H, W) in row-major tap order. Shifted views, not
    unfold: no (N, C size^2, H W) copy, and it exports to ONNX as plain slices. Each tap is added
    into the sum in place (1.2 instead of 1.9 ms at 320x240 on one CPU thread, 6.5 instead of 9.1
    at 640x480; the same bytes, so training still reproduces the shipped weights, which ``addcmul_``
    would not: its fused multiply-add rounds differently)."""
    h, w = image.shape[-2:]
    r = size // 2
    padded = F.pad(image, (r, r, r, r), mode="replicate")
    weights = weights.to(image.dtype)  # once: under bfloat16 autocast each tap cast its own, slowly
    total = weights[:, :1] * padded[..., :h, :w]
    for k in range(1, size * size):
        dy, dx = divmod(k, size)
        total += weights[:, k : k + 1] * padded[..., dy : dy + h, dx : dx + w]
    return total


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
