"""The diffusion node: stylises each rendered frame and keeps invented detail stuck to the walls.

Per frame: warp the previous output and its noise along the exact motion vectors, trust them where
the surface was visible last frame, fill disoccluded pixels from the render (and fresh noise), lower
the noise level when the camera moves fast, and run the few-step sampler. With a keyframe interval
k > 1 only every k-th frame runs the model; the frames between are the warped previous output with
the render filling disocclusions.

Seekability: the temporal state restarts every ``reset_interval`` frames (counted from frame 0), so
frame f depends only on frames ``history(f) .. f`` and the executor can replay that window after a seek.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from backrooms.diffusion import checkpoint_params  # noqa: F401  (declares the checkpoint-only knobs)
from backrooms.diffusion.backends import BACKENDS, load_stylizer
from backrooms.diffusion.controller import motion_strength
from backrooms.diffusion.frames import FrameAOVs, read_aovs, write_rgb
from backrooms.diffusion.pipeline import FrameInputs, Stylizer
from backrooms.diffusion.styles import DEFAULT_STYLE, find_style, resolve_style
from backrooms.diffusion.warping import camera_speed, source_grid, valid_mask, warp
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import RenderProduct
from backrooms.params import declare
from backrooms.params.store import Snapshot
from backrooms.seeds import stream_key

NODE = "diffusion"

declare(
    NODE, "strength", 0.5, "noise level each frame is re-imagined from (0 keeps the render)", min=0.0, max=1.0
)
declare(NODE, "steps", 1, "denoising steps per generated frame", min=1, max=4)
declare(NODE, "seed", 0, "seed of the invented detail (mixed with the run's seed)", min=0, max=2**31 - 1)
declare(
    NODE,
    "style",
    DEFAULT_STYLE,
    "model folder name in models/, or a path to a model or diffusers checkpoint",
    check=find_style,
)
declare(NODE, "prompt", "", "text prompt, used only by diffusers checkpoints")
declare(
    NODE,
    "temporal_weight",
    0.8,
    "trust in the motion-warped previous output (0 = frame by frame)",
    min=0.0,
    max=1.0,
)
declare(
    NODE, "warp_noise", True, "carry the noise along motion vectors so invented detail sticks to surfaces"
)
declare(NODE, "motion_response", 0.5, "how far fast camera motion lowers the strength", min=0.0, max=1.0)
declare(
    NODE,
    "keyframe_interval",
    1,
    "run the model every k-th frame, motion-warp the frames between",
    min=1,
    max=16,
)
declare(
    NODE,
    "reset_interval",
    96,
    "temporal state restarts every N frames: any frame is reproducible from the N before it",
    min=1,
    max=100_000,
    unit="frames",
)
declare(
    NODE,
    "backend",
    "auto",
    "where the model runs (auto: TensorRT on CUDA if installed, else torch)",
    choices=BACKENDS,
)


class DiffusionNode(Node):
    kind = NODE

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.device = torch.device("cuda" if context.device.startswith("cuda") else "cpu")
        shape = (1, 3, context.height, context.width)
        self._output = torch.zeros(shape, device=self.device)
        self._noise = torch.zeros(shape, device=self.device)
        self._stylizer: Stylizer | None = None
        self._stylizer_key: tuple | None = None
        self._last_frame: int | None = None

    def history(self, frame: int, params: Snapshot) -> int:
        return frame - frame % params["diffusion.reset_interval"]

    def reset(self) -> None:
        self._last_frame = None

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        p = params.node(NODE)
        frame = product.frame
        since_reset = frame - self.history(frame, params)
        if since_reset == 0 or self._last_frame != frame - 1:
            self.reset()
        aovs = read_aovs(product)
        output, noise = self._stylise(aovs, frame, since_reset, p)
        self._output.copy_(output)
        self._noise.copy_(noise)
        self._last_frame = frame
        write_rgb(product, output)

    def _stylise(
        self, aovs: FrameAOVs, frame: int, since_reset: int, p: dict
    ) -> tuple[torch.Tensor, torch.Tensor]:
        fresh = self._fresh_noise(frame, p["seed"])
        has_memory = self._last_frame is not None and aovs.motion is not None
        if has_memory:
            grid = source_grid(aovs.motion)
            valid = valid_mask(grid, aovs.disocclusion)
            previous = warp(self._output, grid)
            noise = valid * warp(self._noise, grid, mode="nearest") + (1 - valid) * fresh
            noise = noise if p["warp_noise"] else fresh
        else:
            valid = torch.zeros_like(aovs.depth)
            previous = torch.zeros_like(aovs.render)
            noise = fresh
        if has_memory and since_reset % p["keyframe_interval"] != 0:
            if hasattr(self._stylizer, "follow"):  # latent memory of a diffusers checkpoint
                self._stylizer.follow(aovs.motion)
            return valid * previous + (1 - valid) * aovs.render, noise
        inputs = FrameInputs(
            aovs.render, aovs.depth, aovs.normals, previous, valid * p["temporal_weight"], aovs.motion
        )
        speed = 0.0 if aovs.motion is None else camera_speed(aovs.motion)
        strength = motion_strength(p["strength"], speed, p["motion_response"])
        stylizer = self._load(p)
        if hasattr(stylizer, "apply"):  # knobs only a diffusers checkpoint reads
            stylizer.apply(p)
        return _run_padded(stylizer, inputs, noise, strength, p["steps"]), noise

    def _fresh_noise(self, frame: int, seed: int) -> torch.Tensor:
        generator = torch.Generator().manual_seed(
            stream_key(self.context.seed, NODE, seed, frame) & 0x7FFF_FFFF_FFFF
        )
        return torch.randn(self._noise.shape, generator=generator).to(self.device)

    def _load(self, p: dict) -> Stylizer:
        key = (p["style"], p["backend"], p["prompt"], p["seed"])
        if key != self._stylizer_key:
            seed = stream_key(self.context.seed, NODE, p["seed"]) & 0x7FFF_FFFF
            folder = resolve_style(p["style"])
            self._stylizer = load_stylizer(
                folder, p["backend"], self.device.type, prompt=p["prompt"], seed=seed
            )
            self._stylizer_key = key
        return self._stylizer


def _run_padded(stylizer: Stylizer, inputs: FrameInputs, noise: torch.Tensor, strength: float, steps: int):
    """Pad every plane to the model's size multiple (edge replicate), run, crop back."""
    multiple = getattr(stylizer, "multiple", 1)
    h, w = inputs.render.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph or pw:

        def pad(x: torch.Tensor) -> torch.Tensor:
            return F.pad(x, (0, pw, 0, ph), mode="replicate")

        inputs = FrameInputs(
            *(pad(getattr(inputs, f)) for f in ("render", "depth", "normals", "previous", "valid")),
            None if inputs.motion is None else pad(inputs.motion),
        )
        noise = pad(noise)
    return stylizer(inputs, noise, strength, steps)[..., :h, :w]
