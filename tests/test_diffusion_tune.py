"""``backrooms tune`` on a tiny SD-style checkpoint: the loss falls, the LoRA is a diffusers
safetensors file that ``load_lora_weights`` reads, it changes the node's output, runs resume."""

import json

import pytest
import torch
import warp as wp
from safetensors.torch import load_file

from backrooms.cli import main
from backrooms.diffusion.data import render_clip
from backrooms.diffusion.evaluate import fill_product
from backrooms.diffusion.node import DiffusionNode
from backrooms.diffusion.tune import LORA_FILE, TuneConfig, Tuner, crops, decayed
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB, RenderProduct
from backrooms.params import ParamStore
from tiny_diffusers import sd

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")

SMALL = [
    "--clips",
    "1",
    "--frames",
    "2",
    "--size",
    "64x48",
    "--expensive-spp",
    "1",
    "--crop",
    "32",
    "--quiet",
]


@pytest.fixture(scope="module", autouse=True)
def offline():
    with pytest.MonkeyPatch.context() as m:
        m.setenv("HF_HUB_OFFLINE", "1")
        yield


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return sd(tmp_path_factory.mktemp("sd-tiny"))


@pytest.fixture(scope="module")
def walk():
    return render_clip(5, 100, 2, 64, 48, {}, expensive_spp=1)[0]


@pytest.fixture(scope="module")
def tuned(base, tmp_path_factory):
    """Four steps through the CLI: stopped after two and resumed, and in one go."""
    root = tmp_path_factory.mktemp("tune")
    common = ["tune", "--base", str(base), "--data", str(root / "data"), *SMALL, "--lr", "0.01"]
    resumed, straight = root / "resumed", root / "straight"
    assert main([*common, "--out", str(resumed), "--steps", "2", "--checkpoint-every", "2"]) == 0
    assert main([*common, "--out", str(resumed), "--steps", "4", "--checkpoint-every", "2"]) == 0
    assert main([*common, "--out", str(straight), "--steps", "4", "--checkpoint-every", "2"]) == 0
    return resumed, straight


@pytest.mark.slow
def test_the_loss_falls_on_a_fixed_batch(base, walk):
    config = TuneConfig(steps=6, crop=32, lr=1e-2, rank=4)
    tuner = Tuner(base, config)
    render, target = crops(walk.render, decayed(walk, 0), config, 0)
    with torch.no_grad():
        before = float(tuner.loss(render, target, 0)[0])
    for _ in range(config.steps):
        tuner.train_step(render, target)
    with torch.no_grad():
        after = float(tuner.loss(render, target, 0)[0])
    assert after < 0.97 * before, (before, after)  # 1.47 -> 1.40 here


@pytest.mark.slow
def test_lora_is_safetensors_that_load_lora_weights_reads(base, tuned):
    from peft.utils import get_peft_model_state_dict

    from backrooms.diffusion.backends.diffusers_backend import LORA_ADAPTER, DiffusersStylizer

    path = tuned[0] / LORA_FILE
    assert path.read_bytes()[8:9] == b"{"  # a safetensors JSON header, not a pickle
    saved = load_file(str(path))
    stylizer = DiffusersStylizer(base)
    stylizer.apply({"lora": str(path), "lora_scale": 1.0})
    loaded = get_peft_model_state_dict(stylizer.denoiser, adapter_name=LORA_ADAPTER)
    assert len(loaded) == len(saved) > 0
    saved_values = sorted(round(float(v.abs().sum()), 4) for v in saved.values())
    assert saved_values == sorted(round(float(v.abs().sum()), 4) for v in loaded.values())
    assert any(float(v.abs().sum()) > 0 for k, v in loaded.items() if "lora_B" in k)  # trained, not the init


@pytest.mark.slow
def test_applying_the_lora_changes_the_node_output_and_scale_zero_removes_it(base, tuned, walk):
    _, _, h, w = walk.render.shape
    node = DiffusionNode(GraphContext(3, w, h, 24.0, "cpu"))

    def frame(**values) -> bytes:
        product = RenderProduct(0, w, h, "cpu", {})
        fill_product(walk, 0, product)
        node.process(product, ParamStore(values={"diffusion.style": str(base), **values}).snapshot())
        return wp.to_torch(product[RGB]).numpy().tobytes()

    plain = frame()
    lora = str(tuned[0] / LORA_FILE)
    assert frame(**{"diffusion.lora": lora}) != plain
    assert frame(**{"diffusion.lora": lora, "diffusion.lora_scale": 0.0}) == plain
    assert frame() == plain


@pytest.mark.slow
def test_resumed_run_matches_the_uninterrupted_one(tuned):
    resumed, straight = tuned
    log = json.loads((resumed / "tuning.json").read_text())["log"]
    assert [e["step"] for e in log] == list(range(1, 5))
    a, b = load_file(str(resumed / LORA_FILE)), load_file(str(straight / LORA_FILE))
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)


@pytest.mark.parametrize("broken", ["missing", "corrupt"])
def test_missing_or_corrupt_base_is_one_line_and_exit_2(tmp_path, capsys, broken):
    base = tmp_path / "base"
    if broken == "corrupt":
        base.mkdir()
        (base / "model_index.json").write_text("{not json")
    argv = [
        "tune",
        "--base",
        str(base),
        "--out",
        str(tmp_path / "out"),
        "--data",
        str(tmp_path / "d"),
        *SMALL,
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(base) in err
