"""The diffusion node: reconstructs each rendered frame as it is remembered, lit as it is rendered.

Per frame and memory chain: warp the chain's memory (its last output divided by that frame's
lighting) and noise along the exact motion vectors, re-light the memory with *this* frame's
lighting, trust it where the surface was visible last frame, fill disoccluded pixels from the render
(and fresh noise), and run the few-step sampler; invented stains and damp are drawn from the warped
noise as a reflectance tint. ``strength`` blends from the render as the chain reconstructs it (0:
no model) to the model's frame (0.5) and grows the invented wear up to 1. With a keyframe interval
k > 1 only every k-th frame runs the model; the frames between are the re-lit, warped memory with
the render filling disocclusions. With ``diffusion.generate`` k > 1 the frames between traced ones
are reprojected from the last output (``generate``), and the model runs only over the strips the
render node traced there, at the borders a turn brings in (``uncovered``), with invented wear drawn
on them; the traced frame after remembers those strips from that frame (``_Strip``), since its
chains look back to the key frame, which never saw them. That traced frame is shown eased halfway
toward the generated frame before it (``spread``), so the model's change since the key frame does
not land on it in one step.
Each chain first reconstructs the render from the samples of its frames (``accumulate``: below
``render.scale`` 1 the jittered samples, gathered at full size; at full size the 1-sample render
itself, averaged along the motion); the network, the memory's clamp and ``strength``'s blend see
that reconstruction, and from the render node its lighting is the memory's (``_FrameState``).

Seekability without a visible reset: memory chains start every ``reset_interval`` frames and the
output cross-fades from the old chain to the new one over ``reset_fade`` frames (see ``resets``);
frame f depends only on frames ``history(f) .. f``, which the executor replays after a seek.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import warp as wp
from torch.nn import functional as F

from backrooms.diffusion.accumulate import accumulate, frame_samples
from backrooms.diffusion.backends import load_stylizer
from backrooms.diffusion.controller import memory_trust, motion_strength
from backrooms.diffusion.frames import (
    FrameAOVs,
    read_aovs,
    read_motion,
    rgb_to_signed,
    signed_to_rgb,
    write_rgb,
)
from backrooms.diffusion.generate import FrameGenerator
from backrooms.diffusion.lighting import clamp_radius, lighting, remembered, unlit
from backrooms.diffusion.params import NODE
from backrooms.diffusion.pipeline import FrameInputs, StylisePipeline, Stylizer
from backrooms.diffusion.resets import active_chains, history_start
from backrooms.diffusion.spread import CatchUp
from backrooms.diffusion.styles import resolve_style
from backrooms.diffusion.uncovered import windows
from backrooms.diffusion.warping import camera_speed, carry_noise, source_grid, valid_mask, warp
from backrooms.diffusion.wear import blotch_fields, wear_gain
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import DISOCCLUSION, MOTION_VECTORS, RGB, TRACED, RenderProduct
from backrooms.params.store import Snapshot
from backrooms.seeds import stream_key

WEAR_EASING = 0.2  # share of the re-made wear fields taken into the carried ones each frame


@dataclass
class Memory:
    """One memory chain's state after ``last_frame``: the output divided by that frame's lighting
    (surfaces, not light) and the noise its invented detail is drawn from."""

    start: int
    last_frame: int
    ratio: torch.Tensor
    noise: torch.Tensor
    wear: torch.Tensor  # (1, 2, H, W) blotch fields of the invented stains and damp
    render: torch.Tensor  # (1, 3, H, W) the render in [0, 1], reconstructed over the chain (``accumulate``)


@dataclass
class _Strip:
    """A generated frame's model-filled strips (``uncovered``), as a chain's ``Memory`` holds a frame,
    for the traced frame after it: on a turn at ``generate`` 2 about half of a traced frame's newly
    seen border was first seen there, and without this its chains, which look back to the key
    frame, took it as never seen (the render's fill, fresh noise: the stains popped). ``mask``
    (1, 1, H, W) marks the strips; ``ratio`` is the output divided by its light and ``render`` the
    frame as generated (the trace on the strips), both meaningful on the strips alone. ``oldest``:
    where the oldest memory chain that made the key frame's output began; only chains that began no
    earlier take the model's memory of the strips (``ratio``: a seek replays a chain from its start,
    where an older chain, fading out, starts over and the strips' windows come out otherwise; so is
    ``render`` beside the strips, which resampling it reaches); the noise and the wear are the strip
    frame's own, every chain takes them."""

    frame: int
    oldest: int
    mask: torch.Tensor
    ratio: torch.Tensor
    noise: torch.Tensor
    wear: torch.Tensor
    render: torch.Tensor

    def source(self, motion: torch.Tensor, seen_by_key: torch.Tensor, margin: int) -> _FirstSeen | None:
        """For the traced frame after: the pixels the key frame did not see whose place along the
        motion lies inside the strips, and those places, in their bounding box ``margin`` pixels
        wider (every clamp's window); None where there are none."""
        grid = source_grid(motion)
        inside = (warp(self.mask, grid) > 0.999).to(grid.dtype)  # no sample from outside the strips
        seen = inside * valid_mask(grid) * (1.0 - seen_by_key)
        ys, xs = torch.nonzero(seen[0, 0], as_tuple=True)
        if ys.numel() == 0:
            return None
        h, w = seen.shape[-2:]
        rows = slice(max(int(ys.min()) - margin, 0), min(int(ys.max()) + 1 + margin, h))
        cols = slice(max(int(xs.min()) - margin, 0), min(int(xs.max()) + 1 + margin, w))
        return _FirstSeen(self, rows, cols, grid[:, rows, cols], seen[..., rows, cols])


@dataclass
class _FirstSeen:
    """Where a traced frame's pixels were first seen on the last generated frame's strips, within
    the box ``rows`` x ``cols`` (the strips' state is read only there: a traced frame's border, not
    the whole frame): ``grid`` their places on the strips and ``seen`` 1 on those pixels."""

    strip: _Strip
    rows: slice
    cols: slice
    grid: torch.Tensor
    seen: torch.Tensor

    def crop(self, image: torch.Tensor) -> torch.Tensor:
        """The box of a full-frame plane (one broadcast across the frame as it is)."""
        return image if image.shape[-1] == 1 else image[..., self.rows, self.cols]

    def merged(self, image: torch.Tensor, from_strip: torch.Tensor) -> torch.Tensor:
        """``image`` (a full frame of this frame's own, written in place) with ``from_strip`` (the
        box) where the pixels were first seen on the strips."""
        box = image[..., self.rows, self.cols]
        box.copy_(torch.where(self.seen > 0, from_strip, box))
        return image


class DiffusionNode(Node):
    kind = NODE

    def __init__(self, context: GraphContext) -> None:
        super().__init__(context)
        self.device = torch.device("cuda" if context.device.startswith("cuda") else "cpu")
        if self.device.type == "cpu":
            # One torch thread: the renderer already keeps every core busy with its own pool, and
            # torch's OpenMP workers spinning on the same cores made this node 5-15x slower in the
            # default chain on the shared 2-core machine (110 ms/frame at 320x240 with one thread,
            # 0.6-2.4 s with two, same load).
            torch.set_num_threads(1)
        self._shape = (1, 3, context.height, context.width)
        self._chains: dict[int, Memory] = {}
        self._stylizer: Stylizer | None = None
        self._stylizer_key: tuple | None = None
        self._generator = FrameGenerator(context.width, context.height, context.device)
        self._strip: _Strip | None = None
        self._catch_up = CatchUp(context.width, context.height, context.device)

    def history(self, frame: int, params: Snapshot) -> int:
        return _replay_start(frame, params.node(NODE))

    def reset(self) -> None:
        self._chains.clear()
        self._generator.reset()
        self._strip = None
        self._catch_up.forget()

    def process(self, product: RenderProduct, params: Snapshot) -> None:
        p = params.node(NODE)
        generating = p["generate"] > 1 and "camera" in product.meta
        if generating and not product.meta.get("traced", True):
            self._load(p)  # a style or backend that cannot load is refused on this frame, not the next
            self._generator.generate(product)
            self._fill_traced(product, p)
            self._catch_up.hold(product)
            return
        # the key frame places this frame's pixels while generating, and once more on the first frame
        # traced after generating stopped, whose memory chains last saw that key frame
        keyed = self._generator.key_frame not in (None, product.frame - 1) and "camera" in product.meta
        key_source = self._generator.source(product) if generating or keyed else None
        # the scale the product was traced at: full size unless the render node traced it smaller
        # (a Kit render product or a clip's frame is full size whatever the knob says)
        scale = params["render.scale"] if "internal" in product.meta else 1.0
        self._reconstruct(product, p, key_source, scale)
        if "camera" in product.meta:  # every traced frame, so generating can start on the next one
            self._generator.keep(product)
        if generating and p["strength"] > 0.0:  # after keep: the frames generated next reproject it whole
            self._spread(product)

    def _reconstruct(self, product: RenderProduct, p: dict, key_source: tuple | None, scale: float) -> None:
        """A traced frame; ``key_source`` (grid, valid) places its pixels in the previous traced frame
        when frames are generated between (else the motion vectors place them in the frame before)."""
        if p["strength"] <= 0.0:
            self._load(p)  # not run at 0 (the render, reconstructed), but ready when strength comes back
        frame = product.frame
        aovs = read_aovs(product)
        previous = frame - 1 if key_source is None else self._generator.key_frame
        frame_state = _FrameState(product, aovs, key_source, scale, previous)
        frame_state.fresh = self._fresh_noise(frame, p["seed"])
        if frame_state.previous_frame == self._generator.key_frame:  # the panels' change since
            frame_state.relight = self._generator.relit_history(product)
        strip = self._strip
        # the last generated frame's strips; each chain takes them only if it is no older than what
        # made them (``_Strip.oldest``)
        generated_before = strip is not None and strip.frame == frame - 1
        if key_source is not None and generated_before and aovs.motion is not None:
            frame_state.first_seen = strip.source(aovs.motion, frame_state.valid, frame_state.clamp_radius)
        chains = active_chains(frame, p["reset_interval"], p["reset_fade"])
        made = [(weight, *self._remember(start, frame, frame_state, p)) for start, weight in chains]
        self._chains = {start: self._chains[start] for start, _ in chains}
        remembered = sum(weight * output for weight, output, _ in made)
        render01 = sum(weight * render for weight, _, render in made)  # the chains' reconstructions
        amount = _model_share(p["strength"])
        write_rgb(product, (render01 + amount * (remembered - render01)) * 2.0 - 1.0)

    def _remember(
        self, start: int, frame: int, state: _FrameState, p: dict
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Advance the memory chain that began at ``start`` to ``frame``; its frame and its render
        as the chain reconstructs it (``accumulate``), both in [0, 1]."""
        aovs = state.aovs
        chain = self._chains.get(start)
        if chain is not None and (frame == start or chain.last_frame != state.previous_frame):
            chain = None  # a jump without replay: this chain starts over here
        fresh = state.fresh
        # a chain's first frame, or frame by frame (no trust in memory): the render alone
        history = None if chain is None or p["temporal_weight"] <= 0 else chain.render
        render01 = accumulate(
            history, state.grid, state.valid, state.render01, state.samples, state.clamp_radius, state.relight
        )
        first = state.first_seen if chain is not None else None  # a chain's first frame remembers nothing
        # the strips' noise and wear are their frame's own; the model's memory of them and their
        # render (resampled over their edge) are what the key frame's chains made: only a chain no
        # older than those takes them (``_Strip.oldest``)
        remembers = first is not None and first.strip.oldest >= start
        if remembers and history is not None:
            samples = tuple(first.crop(x) for x in state.samples)
            box = accumulate(
                first.strip.render,
                first.grid,
                first.seen,
                first.crop(state.render01),
                samples,
                state.clamp_radius,
            )
            render01 = first.merged(render01, box)
        light = state.light
        if light is None:  # the reconstruction's own: a chain's first is the render as filled up
            light = lighting(render01, state.scale if history is None else 1.0)
        if chain is not None and state.grid is not None:
            valid = state.valid
            noise = fresh
            if p["warp_noise"]:  # invented detail carried along the motion, fresh where newly seen
                noise = carry_noise(chain.noise, state.grid, valid, noise)
                if first is not None:
                    noise = first.merged(noise, warp(first.strip.noise, first.grid, mode="nearest"))
            if remembers:
                valid = first.merged(valid.clone(), first.seen)  # the frame's own is every chain's
            # fields re-made from the carried noise, eased into the carried fields: the seams between
            # newly seen and remembered surfaces heal, the re-made fields' pooling jitter is damped
            fields = blotch_fields(noise)
            if p["warp_noise"]:
                carried = warp(chain.wear, state.grid)
                if first is not None:
                    carried = first.merged(carried, warp(first.strip.wear, first.grid))
                fields = valid * (carried + WEAR_EASING * (fields - carried)) + (1 - valid) * fields
        else:
            valid = torch.zeros_like(aovs.depth)
            noise = fresh
            fields = blotch_fields(fresh)
        if p["strength"] <= 0.0:  # the render, reconstructed: no model; the noise and wear carry on
            self._follow(aovs.motion)
            output = render01
        else:
            memory = first if remembers else None
            output = self._model_frame(chain, start, frame, state, p, render01, light, valid, noise, memory)
        self._chains[start] = Memory(start, frame, unlit(output, light), noise, fields, render01)
        if p["strength"] <= 0.0:  # no wear to draw: the gain would be 1 everywhere
            return output, render01
        return output * wear_gain(fields, aovs.normals, aovs.depth, p["strength"]), render01

    def _model_frame(
        self,
        chain: Memory | None,
        start: int,
        frame: int,
        state: _FrameState,
        p: dict,
        render01: torch.Tensor,
        light: torch.Tensor,
        valid: torch.Tensor,
        noise: torch.Tensor,
        first: _FirstSeen | None,
    ) -> torch.Tensor:
        """The model's frame in [0, 1] from the chain's re-lit memory (on frames between keyframes,
        the memory itself with the render where it is newly seen); ``first``: the strips the chain
        takes this frame's newly seen pixels from, if any."""
        aovs = state.aovs
        if chain is not None and state.grid is not None:  # sharp as a full-size render
            previous = remembered(chain.ratio, state.grid, light, render01, 1)
            if first is not None:
                box = remembered(first.strip.ratio, first.grid, first.crop(light), first.crop(render01), 1)
                previous = first.merged(previous, box)
        else:
            previous = torch.zeros_like(aovs.render)
        if chain is not None and (frame - start) % p["keyframe_interval"] != 0:
            self._follow(aovs.motion)
            return valid * previous + (1 - valid) * render01
        inputs = FrameInputs(
            render01 * 2.0 - 1.0,
            aovs.depth,
            aovs.normals,
            previous * 2.0 - 1.0,
            valid * memory_trust(p["temporal_weight"], state.scale),
            aovs.motion,
        )
        level = _level(p, aovs.motion)
        stylizer = self._load(p)
        if hasattr(stylizer, "apply"):  # knobs only a diffusers checkpoint reads
            stylizer.apply(p)
        return (_run_padded(stylizer, inputs, noise, level, p["steps"]) + 1.0) / 2.0

    def _fill_traced(self, product: RenderProduct, p: dict) -> None:
        """A generated frame's pixels the render node traced (newly seen at its borders): the
        model's, as on a traced frame, over windows around them whose generated pixels are its
        memory (``uncovered``); every other pixel keeps its bytes. Not for a diffusers checkpoint
        (its latent memory follows whole frames) nor at strength 0 (the render, reconstructed)."""
        stylizer = self._stylizer
        if p["strength"] <= 0.0 or not isinstance(stylizer, StylisePipeline):
            return
        if product.meta.get("uncovered") is None:  # the render node traced nothing here
            return
        areas = windows(wp.to_torch(product[TRACED]), stylizer.multiple)
        if not areas:
            return
        level = _level(p, read_motion(product))
        amount = _model_share(p["strength"])
        trust = memory_trust(p["temporal_weight"], 1.0)  # the generated pixels: full size, this frame's light
        rgb = wp.to_torch(product[RGB])
        made01 = (rgb_to_signed(rgb) + 1.0) / 2.0  # as generated, the strips as traced
        light = lighting(made01)
        noise = self._fresh_noise(product.frame, p["seed"])
        oldest = history_start(self._generator.key_frame, p["reset_interval"], p["reset_fade"])
        strip = _Strip(
            product.frame,
            oldest,
            torch.zeros_like(light),
            unlit(made01, light),
            noise,
            blotch_fields(noise),
            made01,
        )
        for area in areas:
            aovs = read_aovs(product, area.rows, area.cols)
            rows, cols, mask = area.rows, area.cols, area.mask
            inputs = FrameInputs(aovs.render, aovs.depth, aovs.normals, aovs.render, (1.0 - mask) * trust)
            out = _run_padded(stylizer, inputs, noise[..., rows, cols], level, p["steps"])
            filled01 = (aovs.render + amount * mask * (out - aovs.render) + 1.0) / 2.0
            gain = wear_gain(strip.wear[..., rows, cols], aovs.normals, aovs.depth, p["strength"])
            rgb[rows, cols, :3] = signed_to_rgb((filled01 * (1.0 + mask * (gain - 1.0))) * 2.0 - 1.0)
            kept = strip.ratio[..., rows, cols]
            kept.copy_(torch.where(mask > 0, unlit(filled01, light[..., rows, cols]), kept))
            strip.mask[..., rows, cols] = torch.maximum(strip.mask[..., rows, cols], mask)
        self._strip = strip

    def _spread(self, product: RenderProduct) -> None:
        """A traced frame's output eased toward the generated frame shown before it (``spread``); a
        seek replays that frame too (``_replay_start``), so a frame rendered alone is eased alike."""
        held, frame = self._catch_up.frame, product.frame
        self._catch_up.forget()
        if held == frame - 1 and MOTION_VECTORS in product and DISOCCLUSION in product:
            self._catch_up.ease(product)

    def _follow(self, motion: torch.Tensor | None) -> None:
        """Carry a diffusers checkpoint's latent memory along a frame the model does not run on."""
        if motion is not None and hasattr(self._stylizer, "follow"):
            self._stylizer.follow(motion)

    def _fresh_noise(self, frame: int, seed: int) -> torch.Tensor:
        """The frame's noise (a pure function of the run's seed, ``seed`` and the frame)."""
        generator = torch.Generator().manual_seed(
            stream_key(self.context.seed, NODE, seed, frame) & 0x7FFF_FFFF_FFFF
        )
        return torch.randn(self._shape, generator=generator).to(self.device)

    def _load(self, p: dict) -> Stylizer:
        key = (p["style"], p["backend"], p["prompt"])  # the seed lives in the noise, not the model
        if key != self._stylizer_key:
            folder = resolve_style(p["style"])
            self._stylizer = load_stylizer(folder, p["backend"], self.device.type, prompt=p["prompt"])
            self._stylizer_key = key
        return self._stylizer


class _FrameState:
    """What every memory chain shares within one frame: the render in [0, 1], its lighting and the
    motion-vector sampling grid with its validity (None without motion vectors), the render's
    internal ``scale`` (the memory's trust follows it), the half-width of the window the fill's range
    is taken over, and the samples nearest each pixel (``accumulate``).

    The lighting is None where the render node hands over the panels' light (``meta["lights"]``):
    there each chain takes its reconstruction's, whose history is re-lit by the panels', exposure's,
    ambient's and haze's change exactly and which holds much less of the 1-sample render's shading
    noise, which the memory, re-lit by the light, otherwise shimmered with (issue 17's twenty-fifth
    round: warping error -5 to -17 % through the graph on five held-out walks). A product without
    it (a Kit render product, a clip's frame) takes the render's as it arrives: a reconstruction
    that is not re-lit would lag a light the clamp does not catch."""

    def __init__(
        self,
        product: RenderProduct,
        aovs: FrameAOVs,
        key_source: tuple | None,
        scale: float,
        previous_frame: int,
    ) -> None:
        self.aovs = aovs
        self.scale = scale
        self.clamp_radius = clamp_radius(scale)
        self.render01 = (aovs.render + 1.0) / 2.0
        self.light = None if "lights" in product.meta else lighting(self.render01, scale)
        if key_source is not None:
            self.grid, self.valid = key_source
        else:
            self.grid = None if aovs.motion is None else source_grid(aovs.motion)
            self.valid = None if self.grid is None else valid_mask(self.grid, aovs.disocclusion)
        self.previous_frame = previous_frame  # the frame the history was left at
        self.fresh: torch.Tensor | None = None  # the frame's noise: one draw for every chain
        self.relight: Callable[[torch.Tensor], torch.Tensor] | None = None
        # where this frame's pixels were first seen on the last generated frame's strips
        self.first_seen: _FirstSeen | None = None
        self.samples = frame_samples(product, self.render01, product.frame - previous_frame)


def _replay_start(frame: int, p: Mapping[str, Any]) -> int:
    """The first frame a seek to ``frame`` replays (``history``): a traced frame (a multiple of
    ``generate``) at or before the start of the oldest memory chain it shows. A traced frame after
    generated ones is eased toward the one before it (``spread``), so it replays that one's too: at
    the first traced frame after an old chain ends, that chain's (up to ``reset_interval`` +
    ``reset_fade`` frames, once per interval)."""
    k = p["generate"]
    key = frame - frame % k
    if k > 1 and frame == key and frame > 0:
        key -= k  # the generated frame before: its key frame's chains
    start = history_start(key, p["reset_interval"], p["reset_fade"])
    return start - start % k


def _model_share(strength: float) -> float:
    """How much of the model's frame the output shows: ``strength`` 0..0.5 blends from the render
    (reconstructed) to it; above 0.5 only the wear grows, up to 1."""
    return min(1.0, 2.0 * strength)


def _level(p: dict, motion: torch.Tensor | None) -> float:
    """The noise level the sampler starts from: ``strength``, lowered as the camera moves faster
    (``motion_response``)."""
    speed = 0.0 if motion is None else camera_speed(motion)
    return motion_strength(p["strength"], speed, p["motion_response"])


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
