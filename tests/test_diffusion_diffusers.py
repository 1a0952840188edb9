"""A user's local diffusers checkpoint as the node's backend, strictly offline, in latent space.

The checkpoints are tiny randomly initialised pipelines the tests build and save themselves
(tests/tiny_diffusers.py): an SD 1.x-style UNet with a depth ControlNet, an SDXL-style UNet and
an SD3-style transformer. The walk is rendered by the pipeline's own render node.
"""

import pytest
import torch
import warp as wp

from backrooms.diffusion.backends import load_stylizer
from backrooms.diffusion.data import render_clip
from backrooms.diffusion.evaluate import VARIANTS, fill_product, run_node
from backrooms.diffusion.metrics import warping_error
from backrooms.diffusion.node import DiffusionNode
from backrooms.diffusion.pipeline import FrameInputs
from backrooms.errors import UserError
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB, RenderProduct
from backrooms.params import ParamStore
from tiny_diffusers import sd, sd3, sdxl

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")


@pytest.fixture(scope="module", autouse=True)
def offline():
    with pytest.MonkeyPatch.context() as m:
        m.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return sd(tmp_path_factory.mktemp("sd-tiny"), controlnet=True)


@pytest.fixture(scope="module")
def sd3_checkpoint(tmp_path_factory):
    return sd3(tmp_path_factory.mktemp("sd3-tiny"))


@pytest.fixture(scope="module")
def walk():
    """Six frames of a rendered walk (64 x 48, exact motion vectors and disocclusion)."""
    return render_clip(5, 100, 6, 64, 48, {}, expensive_spp=1)[0]


def _inputs(h=32, w=32):
    render = torch.rand(1, 3, h, w) * 2 - 1
    zeros1 = torch.zeros(1, 1, h, w)
    return FrameInputs(render, zeros1, torch.zeros_like(render), torch.zeros_like(render), zeros1)


def _params(values: dict):
    """The walk's frames are every one traced (``history`` rounds back to traced frames)."""
    return ParamStore(values={"diffusion.generate": 1, **values}).snapshot()


def _bytes(walk, values: dict, frames: range, node: DiffusionNode | None = None) -> dict[int, bytes]:
    _, _, h, w = walk.render.shape
    node = node or DiffusionNode(GraphContext(3, w, h, 24.0, "cpu"))
    params = _params(values)
    buffers: dict = {}
    out = {}
    for f in frames:
        product = RenderProduct(f, w, h, "cpu", buffers)
        fill_product(walk, f, product)
        node.process(product, params)
        out[f] = wp.to_torch(product[RGB]).numpy().tobytes()
    return out


def test_checkpoint_folder_loads_offline_and_stylises_a_frame(checkpoint):
    stylizer = load_stylizer(checkpoint, "auto", "cpu", prompt="a damp hallway")
    inputs = _inputs()
    out = stylizer(inputs, torch.randn_like(inputs.render), 0.5, 1)
    assert out.shape == inputs.render.shape and out.min() >= -1 and out.max() <= 1
    assert not torch.allclose(out, inputs.render, atol=1e-3)


def test_sd3_checkpoint_without_t5_loads_and_stylises_a_frame(sd3_checkpoint):
    stylizer = load_stylizer(sd3_checkpoint, "auto", "cpu", prompt="a damp hallway")
    assert stylizer.schedule.flow and stylizer.schedule.shift == 3.0
    inputs = _inputs()
    a = stylizer(inputs, torch.randn_like(inputs.render), 0.5, 2)
    assert a.shape == inputs.render.shape and not torch.allclose(a, inputs.render, atol=1e-3)


def test_sdxl_checkpoint_loads_and_stylises_a_frame(tmp_path):
    stylizer = load_stylizer(sdxl(tmp_path / "sdxl"), "auto", "cpu", prompt="a damp hallway")
    assert set(stylizer.cond) == {"encoder_hidden_states", "text_embeds"}
    inputs = _inputs()
    out = stylizer(inputs, torch.randn_like(inputs.render), 0.5, 2)
    assert out.shape == inputs.render.shape and not torch.allclose(out, inputs.render, atol=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["sd", "sd3"])
def test_memory_and_warped_noise_more_than_halve_the_warping_error(kind, checkpoint, sd3_checkpoint, walk):
    style = str(checkpoint if kind == "sd" else sd3_checkpoint)
    errors = {
        name: warping_error(
            run_node(walk, {"diffusion.style": style, **VARIANTS[name]}).frames,
            walk.motion,
            walk.disocclusion,
        )
        for name in ("temporal", "frame_by_frame")
    }
    assert errors["temporal"] <= 0.5 * errors["frame_by_frame"], errors


def test_seed_changes_the_output_and_the_same_seed_repeats_it(checkpoint, walk):
    base = {"diffusion.style": str(checkpoint)}
    a = _bytes(walk, base, range(2))
    assert a == _bytes(walk, base, range(2))
    assert a[1] != _bytes(walk, {**base, "diffusion.seed": 9}, range(2))[1]


def test_seek_replays_the_latent_memory_to_the_same_bytes(checkpoint, walk):
    """Keyframes every 2nd frame: the latent memory follows the skipped frames and replays exactly."""
    values = {
        "diffusion.style": str(checkpoint),
        "diffusion.reset_interval": 3,
        "diffusion.reset_fade": 0,  # one memory chain at a time
        "diffusion.keyframe_interval": 2,
    }
    continuous = _bytes(walk, values, range(6))
    _, _, h, w = walk.render.shape
    node = DiffusionNode(GraphContext(3, w, h, 24.0, "cpu"))
    _bytes(walk, values, range(1), node)  # the node's memory now belongs to another frame
    first = node.history(5, _params(values))
    assert first == 3 and _bytes(walk, values, range(first, 6), node)[5] == continuous[5]


def test_controlnet_receives_normalised_inverse_depth_at_the_pipeline_size(checkpoint, walk):
    _, _, h, w = walk.render.shape
    node = DiffusionNode(GraphContext(3, w, h, 24.0, "cpu"))
    values = {"diffusion.style": str(checkpoint), "diffusion.control": 1.0}
    _bytes(walk, {**values, "diffusion.strength": 0.0}, range(1), node)  # loads without a model call
    seen = []
    node._stylizer.controlnet.register_forward_pre_hook(
        lambda _m, _a, kw: seen.append(kw["controlnet_cond"].clone()), with_kwargs=True
    )
    with_control = _bytes(walk, values, range(1), node)
    cond = seen[0]
    multiple = node._stylizer.multiple
    assert cond.shape == (1, 3, -(-h // multiple) * multiple, -(-w // multiple) * multiple)
    assert cond.min() == 0.0 and cond.max() == 1.0
    assert torch.equal(cond[:, 0], cond[:, 1]) and torch.equal(cond[:, 0], cond[:, 2])
    # nearer is brighter: the control value falls as the renderer's distance grows
    depth = walk.depth[0, 0]
    near, far = depth > depth.quantile(0.9), (depth > 0) & (depth < depth.quantile(0.1))
    assert cond[0, 0, :h, :w][near].mean() > cond[0, 0, :h, :w][far].mean()
    without = _bytes(walk, {**values, "diffusion.control": 0.0}, range(1), node)
    assert with_control != without


def test_node_uses_a_checkpoint_named_by_style_and_pads_odd_sizes(checkpoint):
    w, h = 40, 26
    product = RenderProduct(0, w, h, "cpu", {})
    wp.to_torch(product.allocate(RGB))[..., 3] = 255
    params = ParamStore(values={"diffusion.style": str(checkpoint), "diffusion.strength": 0.6})
    DiffusionNode(GraphContext(0, w, h, 24.0, "cpu")).process(product, params.snapshot())
    assert wp.to_torch(product[RGB])[..., :3].float().std() > 0


def test_folder_without_a_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not a denoiser folder"):
        load_stylizer(tmp_path, "auto", "cpu")


def test_corrupt_checkpoint_folder_is_a_user_error(tmp_path):
    (tmp_path / "model_index.json").write_text('{"_class_name": "StableDiffusionPipeline"}')
    with pytest.raises(UserError, match="cannot load the diffusers checkpoint"):
        load_stylizer(tmp_path, "auto", "cpu")


def test_a_checkpoint_whose_weights_are_pickles_is_refused_unread(checkpoint, tmp_path, monkeypatch):
    """diffusers falls back to ``torch.load`` for a component saved as .bin: refused, never unpickled."""
    import shutil

    from diffusers import UNet2DConditionModel

    folder = tmp_path / "pickled"
    shutil.copytree(checkpoint, folder)
    unet = UNet2DConditionModel.from_pretrained(folder / "unet")
    for weights in (folder / "unet").glob("*.safetensors"):
        weights.unlink()
    unet.save_pretrained(folder / "unet", safe_serialization=False)
    assert list((folder / "unet").glob("*.bin"))
    monkeypatch.setattr(torch, "load", lambda *_, **__: pytest.fail("a checkpoint was unpickled"))
    with pytest.raises(UserError, match="cannot load the diffusers checkpoint"):
        load_stylizer(folder, "auto", "cpu")
