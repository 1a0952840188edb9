"""The diffusion node: writes the stylised frame, stays reproducible after seeks, follows motion."""

import itertools

import pytest
import torch
import warp as wp

from backrooms.diffusion import node as node_module
from backrooms.diffusion.accumulate import FULL_SIZE_WEIGHT, accumulate
from backrooms.diffusion.frames import read_aovs
from backrooms.diffusion.lighting import RADIUS, clamp_radius, clamp_to_render
from backrooms.diffusion.model import Denoiser, DenoiserConfig
from backrooms.diffusion.node import DiffusionNode
from backrooms.diffusion.resets import active_chains, history_start
from backrooms.diffusion.warping import source_grid, valid_mask
from backrooms.errors import UserError
from backrooms.graph.node import GraphContext
from backrooms.graph.product import DISOCCLUSION, MOTION_VECTORS, RGB, RenderProduct
from backrooms.params import ParamStore

W, H = 40, 24


@pytest.fixture(scope="module")
def style(tmp_path_factory):
    """A tiny denoiser with random (non-identity) weights."""
    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(widths=(8, 16), blocks=1))
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return str(model.save_pretrained(tmp_path_factory.mktemp("style")))


def _params(style: str, **values) -> ParamStore:
    return ParamStore(values={"diffusion.style": style, **{f"diffusion.{k}": v for k, v in values.items()}})


def _product(frame: int, buffers: dict, dx: float = 1.0, grain: int = 0) -> RenderProduct:
    """A textured wall scrolling left by ``dx`` pixels per frame, with exact motion vectors and
    ``grain`` (uint8 steps) of fresh noise each frame, as a 1-sample render has."""
    product = RenderProduct(frame, W, H, "cpu", buffers)
    g = torch.Generator().manual_seed(7)
    wall = torch.randint(0, 256, (H, W + 64, 3), generator=g, dtype=torch.uint8)
    image = wall[:, int(frame * dx) : int(frame * dx) + W].int()
    if grain:
        noise = torch.randint(-grain, grain + 1, image.shape, generator=torch.Generator().manual_seed(frame))
        image = (image + noise).clamp(0, 255)
    rgb = wp.to_torch(product.allocate(RGB))
    rgb[..., :3] = image.to(torch.uint8)
    rgb[..., 3] = 255
    wp.to_torch(product.allocate(MOTION_VECTORS))[..., 0] = -dx
    product.allocate(DISOCCLUSION)
    return product


def _run(
    style: str, frames: range, params: ParamStore, node: DiffusionNode | None = None
) -> dict[int, bytes]:
    node = node or DiffusionNode(GraphContext(3, W, H, 24.0, "cpu"))
    buffers: dict = {}
    out = {}
    for f in frames:
        product = _product(f, buffers)
        node.process(product, params.snapshot())
        out[f] = wp.to_torch(product[RGB]).numpy().tobytes()
    return out


def test_node_writes_a_changed_uint8_rgba_frame_with_alpha_kept(style):
    buffers: dict = {}
    product = _product(0, buffers)
    before = wp.to_torch(product[RGB]).clone()
    DiffusionNode(GraphContext(0, W, H, 24.0, "cpu")).process(product, _params(style).snapshot())
    after = wp.to_torch(product[RGB])
    assert after.dtype == torch.uint8 and after.shape == (H, W, 4)
    assert torch.all(after[..., 3] == 255)
    assert not torch.equal(after[..., :3], before[..., :3])


def test_same_seed_gives_identical_bytes_and_another_seed_differs(style):
    a = _run(style, range(3), _params(style))
    b = _run(style, range(3), _params(style))
    c = _run(style, range(3), _params(style, seed=5))
    assert a == b and a[2] != c[2]


@pytest.mark.parametrize("target", [5, 7, 9])
def test_frame_replayed_from_history_after_a_seek_is_byte_identical(style, target):
    params = _params(style, reset_interval=4, reset_fade=2)
    continuous = _run(style, range(12), params)
    node = DiffusionNode(GraphContext(3, W, H, 24.0, "cpu"))
    _run(style, range(3), params, node)  # state from elsewhere in the walk, then a seek
    first = node.history(target, params.snapshot())
    node.reset()
    replayed = _run(style, range(first, target + 1), params, node)
    assert first == {5: 2, 7: 2, 9: 6}[target] and replayed[target] == continuous[target]


def test_strength_zero_is_the_render_reconstructed_along_the_motion_without_the_model(style):
    """At strength 0 no model runs: each frame is the 1-sample render averaged along the exact motion
    vectors (``accumulate``, chained here by hand), the render itself on a chain's first frame and
    frame by frame (temporal_weight 0)."""
    buffers, flat_buffers = {}, {}
    node = DiffusionNode(GraphContext(0, W, H, 24.0, "cpu"))
    flat = DiffusionNode(GraphContext(0, W, H, 24.0, "cpu"))
    expected = None
    for frame in range(5):
        product = _product(frame, buffers, grain=40)
        aovs = read_aovs(product)
        render01 = (aovs.render + 1.0) / 2.0
        grid = source_grid(aovs.motion)
        valid = valid_mask(grid, aovs.disocclusion)
        samples = (render01, torch.full((1,), FULL_SIZE_WEIGHT))
        expected = accumulate(expected, grid, valid, render01, samples, clamp_radius(1.0))
        node.process(product, _params(style, strength=0.0).snapshot())
        out = wp.to_torch(product[RGB])[..., :3].permute(2, 0, 1)[None].float() / 255
        assert (out - expected).abs().max() <= 1 / 255 + 1e-6
        if frame:  # the reconstruction is not the render: the grain is averaged away along the motion
            assert (out - render01).abs().mean() > 4 / 255
        still = _product(frame, flat_buffers, grain=40)
        before = wp.to_torch(still[RGB]).clone()
        flat.process(still, _params(style, strength=0.0, temporal_weight=0.0).snapshot())
        assert torch.equal(wp.to_torch(still[RGB]), before)


def test_memory_changes_the_output_after_the_first_frame(style):
    with_memory = _run(style, range(3), _params(style))
    frame_by_frame = _run(style, range(3), _params(style, temporal_weight=0.0, warp_noise=False))
    assert with_memory[0] == frame_by_frame[0] and with_memory[2] != frame_by_frame[2]


def test_the_memory_is_trusted_less_below_full_size_in_proportion_to_the_render_scale(style, monkeypatch):
    """The trust the model is shown (the ``valid`` plane where the memory is valid) is temporal_weight
    at full size and falls with render.scale below it; nothing on a chain's first frame."""
    shown = []
    run_padded = node_module._run_padded

    def recording(stylizer, inputs, *rest):
        shown.append(round(float(inputs.valid.max()), 6))
        return run_padded(stylizer, inputs, *rest)

    monkeypatch.setattr(node_module, "_run_padded", recording)
    for scale in (1.0, 0.75, 0.5):
        values = {"diffusion.style": style, "diffusion.temporal_weight": 0.8, "render.scale": scale}
        node, buffers = DiffusionNode(GraphContext(3, W, H, 24.0, "cpu")), {}
        for f in range(3):
            product = _product(f, buffers)
            if scale < 1.0:
                _traced_at(product, scale)
            node.process(product, ParamStore(values=values).snapshot())
    assert shown == [0.0, 0.8, 0.8, 0.0, 0.6, 0.6, 0.0, 0.4, 0.4]
    shown.clear()  # a full-size product (a Kit render product, a clip's frame): full trust, whatever the knob
    values = {"diffusion.style": style, "diffusion.temporal_weight": 0.8, "render.scale": 0.5}
    _run(style, range(3), ParamStore(values=values))
    assert shown == [0.0, 0.8, 0.8]


def _traced_at(product: RenderProduct, scale: float) -> None:
    """Mark ``product`` as the render node does when it traces below full size: the traced image (here
    the frame subsampled) with its jitter in ``meta["internal"]``."""
    h, w = round(H * scale), round(W * scale)
    internal = RenderProduct(product.frame, w, h, "cpu")
    rgb = wp.to_torch(product[RGB]).permute(2, 0, 1)[None].float()
    small = torch.nn.functional.interpolate(rgb, size=(h, w), mode="nearest")[0].permute(1, 2, 0)
    wp.to_torch(internal.allocate(RGB)).copy_(small.to(torch.uint8))
    internal.meta["jitter"] = (0.0, 0.0)
    product.meta["internal"] = internal


def test_frame_by_frame_mode_does_not_depend_on_earlier_frames(style):
    params = _params(style, temporal_weight=0.0, warp_noise=False, reset_interval=100)
    assert _run(style, range(5), params)[4] == _run(style, range(4, 5), params)[4]


def test_in_between_frames_are_the_warped_previous_output_within_the_renders_range(style):
    out = _run(style, range(2), _params(style, keyframe_interval=2))
    prev = torch.frombuffer(bytearray(out[0]), dtype=torch.uint8).view(H, W, 4)
    cur = torch.frombuffer(bytearray(out[1]), dtype=torch.uint8).view(H, W, 4)
    render = wp.to_torch(_product(1, {})[RGB])[..., :3].permute(2, 0, 1).unsqueeze(0).float() / 255
    # the wall moved one pixel left: column x now shows what column x + 1 showed (the lighting
    # moved with it), kept within the render's 3x3 range as a lighting change would demand
    shifted = torch.zeros_like(render)
    shifted[..., :-1] = prev[:, 1:, :3].permute(2, 0, 1).unsqueeze(0).float() / 255
    expected = clamp_to_render(shifted, render)
    got = cur[..., :3].permute(2, 0, 1).unsqueeze(0).float() / 255
    m = RADIUS + 1  # away from the borders, where the lighting blur pads differently
    inner = (slice(None), slice(None), slice(m, -m), slice(m, -m))
    assert (got[inner] - expected[inner]).abs().max() <= 1.5 / 255
    assert not torch.equal(cur[:, :-1, :3], prev[:, :-1, :3])


def test_unknown_style_is_a_user_error(style):
    buffers: dict = {}
    with pytest.raises(UserError, match=r"diffusion\.style"):
        DiffusionNode(GraphContext(0, W, H, 24.0, "cpu")).process(
            _product(0, buffers), _params("no-such-style").snapshot()
        )


def test_frame_without_motion_vectors_is_stylised_without_memory(style):
    buffers: dict = {}
    product = RenderProduct(0, W, H, "cpu", buffers)
    wp.to_torch(product.allocate(RGB))[..., 3] = 255
    DiffusionNode(GraphContext(0, W, H, 24.0, "cpu")).process(product, _params(style).snapshot())
    assert wp.to_torch(product[RGB]).float()[..., :3].std() > 0


@pytest.mark.parametrize(("interval", "fade"), [(8, 3), (8, 12), (1, 4), (96, 12), (5, 0)])
def test_memory_chains_blend_to_one_and_start_no_earlier_than_the_history(interval, fade):
    for frame in range(3 * interval + 2):
        chains = active_chains(frame, interval, fade)
        assert abs(sum(w for _, w in chains) - 1.0) < 1e-9
        assert all(0 < w <= 1 for _, w in chains[1:])
        assert min(start for start, _ in chains) == history_start(frame, interval, fade) <= frame
    assert active_chains(interval, interval, fade) == [(history_start(interval, interval, fade), 1.0)]


@pytest.mark.parametrize("radius", [1, 2])
def test_memory_is_clamped_to_the_range_of_the_renders_window(radius):
    """The clamp's window is one traced sample wide: 3x3 at full size, 5x5 from a half-size render."""
    generator = torch.Generator().manual_seed(radius)
    render = torch.rand((1, 3, 20, 30), generator=generator)
    memory = torch.rand((1, 3, 20, 30), generator=generator) * 2 - 0.5
    edged = torch.nn.functional.pad(render, (radius,) * 4, mode="replicate")
    high = torch.nn.functional.max_pool2d(edged, 2 * radius + 1, stride=1)
    low = -torch.nn.functional.max_pool2d(-edged, 2 * radius + 1, stride=1)
    expected = memory.clamp(min=low - 0.04, max=high + 0.04)
    assert torch.equal(clamp_to_render(memory, render, 0.04, radius), expected)
    assert [clamp_radius(s) for s in (1.0, 0.75, 0.5, 0.25)] == [1, 2, 2, 4]


def test_with_the_render_nodes_light_the_memory_is_lit_by_its_reconstruction(style):
    """A still wall under steady light with fresh 1-sample grain every frame. From the render node
    (``meta["lights"]``: the panels' light known, the reconstruction re-lit by it) the memory's
    light is the reconstruction's, which holds little of the grain; without it the render's own,
    whose grain the remembered frame shimmers with. The output's light (its blurred luminance)
    changes less from frame to frame with it (about half here)."""
    from backrooms.diffusion.lighting import lighting

    params = _params(style).snapshot()

    def light_changes(lit_by_panels: bool) -> float:
        node, buffers, lights = DiffusionNode(GraphContext(3, W, H, 24.0, "cpu")), {}, []
        for frame in range(12):
            product = _product(frame, buffers, dx=0.0, grain=24)
            if lit_by_panels:
                product.meta["lights"] = {"key": [], "gain": []}  # steady panels: nothing to re-light
            node.process(product, params)
            rgb = wp.to_torch(product[RGB])[..., :3].permute(2, 0, 1).unsqueeze(0).float() / 255
            lights.append(lighting(rgb))
        return float(sum((b - a).abs().mean() for a, b in itertools.pairwise(lights[4:])))

    assert light_changes(True) < 0.7 * light_changes(False)  # 0.53 here; 1 with the render's light
