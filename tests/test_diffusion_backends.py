"""Backends behind one interface: torch, ONNX Runtime (run for real), TensorRT (logic only), diffusers."""

import types

import pytest
import torch

from backrooms.diffusion.backends import load_stylizer, tensorrt_backend
from backrooms.diffusion.backends.onnx_backend import INPUT_NAME, OUTPUT_NAME, OnnxDenoiser, export_onnx
from backrooms.diffusion.backends.tensorrt_backend import TensorRTDenoiser, build_engine, profile_shapes
from backrooms.diffusion.backends.torch_backend import TorchDenoiser, bfloat16_units
from backrooms.diffusion.model import BEFORE_PATCHES, IN_CHANNELS, Denoiser, DenoiserConfig
from backrooms.diffusion.pipeline import FrameInputs, StylisePipeline
from backrooms.errors import UserError


@pytest.fixture(
    scope="module",
    params=[
        DenoiserConfig(widths=(8, 16), blocks=1, **BEFORE_PATCHES),
        DenoiserConfig(widths=(8, 16), blocks=1, head_kernel=3),
        DenoiserConfig(widths=(8, 16), blocks=1),
    ],
    ids=["first", "patch4-kernel3", "patch4-kernel3-head1"],
)
def model(request):
    torch.manual_seed(0)
    m = Denoiser(request.param)
    for p in m.parameters():
        torch.nn.init.normal_(p, std=0.1)
    return m.eval()


def test_onnxruntime_matches_torch_at_a_size_other_than_the_export_size(model, tmp_path):
    path = export_onnx(model, tmp_path / "d.onnx", height=16, width=16)
    planes = torch.randn(1, IN_CHANNELS, 24, 40)
    expected = TorchDenoiser(model, bfloat16=False)(planes)
    assert torch.allclose(OnnxDenoiser(path)(planes), expected, atol=1e-4)


def test_bfloat16_convolutions_stay_close_to_float32(model):
    planes = torch.randn(1, IN_CHANNELS, 32, 48)
    exact = TorchDenoiser(model, bfloat16=False)(planes)
    fast = TorchDenoiser(model, bfloat16=True)(planes)
    assert fast.dtype == torch.float32
    difference = (fast - exact).abs()
    assert float(difference.max()) > 0  # bfloat16 did run (a CPU without it emulates it)
    assert float(difference.mean()) < 0.01 * float(exact.abs().mean())  # random weights: ~0.5 %


@pytest.mark.parametrize(
    ("amx", "avx512_bf16", "units"),
    [(True, True, "AMX"), (True, False, "AMX"), (False, True, "AVX-512 BF16"), (False, False, "")],
)
def test_bfloat16_is_the_default_where_the_cpu_multiplies_it_natively(
    model, monkeypatch, amx, avx512_bf16, units
):
    """AMX tiles (Sapphire Rapids) and AVX-512 BF16 (Zen 4) run bfloat16 convolutions faster than
    float32; AVX-512 alone emulates them, slower."""
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    assert bfloat16_units() == units
    assert TorchDenoiser(model).bfloat16 is bool(units)
    assert TorchDenoiser(model, bfloat16=False).bfloat16 is False


def test_load_stylizer_runs_the_onnx_backend_end_to_end(model, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # the exported graph is cached under ~/.cache
    folder = model.save_pretrained(tmp_path / "style")
    stylizer = load_stylizer(folder, "onnx", "cpu")
    render = torch.rand(1, 3, 16, 16) * 2 - 1
    zeros1 = torch.zeros(1, 1, 16, 16)
    inputs = FrameInputs(render, zeros1, torch.zeros_like(render), torch.zeros_like(render), zeros1)
    noise = torch.randn_like(render)
    expected = StylisePipeline(TorchDenoiser(model, bfloat16=False), model.multiple)(inputs, noise, 0.5, 2)
    assert torch.allclose(stylizer(inputs, noise, 0.5, 2), expected, atol=1e-4)


def test_tensorrt_backend_without_tensorrt_is_a_user_error(model, tmp_path):
    with pytest.raises(UserError, match="tensorrt"):
        TensorRTDenoiser(tmp_path / "missing.onnx", trt=None)


def test_unknown_backend_is_a_user_error(model, tmp_path):
    with pytest.raises(UserError, match=r"diffusion\.backend"):
        load_stylizer(model.save_pretrained(tmp_path / "s"), "metal", "cpu")


class _Recorder:
    """Stands in for every TensorRT object: records calls, returns itself."""

    def __init__(self, log, name="trt"):
        self._log, self._name = log, name

    def __getattr__(self, attr):
        def call(*args, **kwargs):
            self._log.append((attr, args))
            return {"parse": True, "build_serialized_network": b"plan"}.get(attr, self)

        return call


def _fake_trt(log, fp16: bool):
    flags = types.SimpleNamespace(**({"FP16": "fp16"} if fp16 else {}))

    class Logger:
        WARNING = 2

        def __init__(self, level):
            self.level = level

    return types.SimpleNamespace(
        Logger=Logger,
        Builder=lambda logger: _Recorder(log),
        OnnxParser=lambda network, logger: _Recorder(log),
        MemoryPoolType=types.SimpleNamespace(WORKSPACE="workspace"),
        BuilderFlag=flags,
    )


@pytest.mark.parametrize("fp16", [True, False], ids=["tensorrt10", "tensorrt11"])
def test_engine_is_built_with_a_profile_for_the_render_size(model, tmp_path, fp16):
    path = export_onnx(model, tmp_path / "d.onnx")
    log: list = []
    assert build_engine(path, 240, 320, trt=_fake_trt(log, fp16), smallest=16) == b"plan"
    calls = dict(log)
    assert ("set_shape", (INPUT_NAME, *profile_shapes(240, 320, 16))) in log
    # tuned for the render size, and runs any window of a generated frame down to 16 x 16
    assert profile_shapes(240, 320, 16) == (
        (1, IN_CHANNELS, 16, 16),
        (1, IN_CHANNELS, 240, 320),
        (1, IN_CHANNELS, 240, 320),
    )
    assert ("set_flag" in calls) == fp16  # TensorRT 11 is strongly typed: no FP16 builder flag
    assert "build_serialized_network" in calls


def test_engine_io_points_at_the_tensors_own_memory(model, tmp_path):
    log: list = []
    denoiser = TensorRTDenoiser(tmp_path / "d.onnx", trt=_fake_trt(log, True))
    denoiser._context = _Recorder(log)
    planes, out = torch.zeros(1, IN_CHANNELS, 8, 8), torch.zeros(1, 3, 8, 8)
    denoiser.bind(planes, out)
    assert ("set_tensor_address", (INPUT_NAME, planes.data_ptr())) in log
    assert ("set_tensor_address", (OUTPUT_NAME, out.data_ptr())) in log
    assert ("set_input_shape", (INPUT_NAME, (1, IN_CHANNELS, 8, 8))) in log


def test_the_engine_runs_smaller_windows_and_is_rebuilt_only_for_a_larger_frame(monkeypatch, tmp_path):
    """The diffusion node runs the model over windows of a generated frame: one engine for the frame
    serves them all (a rebuild per window size would take seconds on every generated frame)."""
    built: list = []

    def build(path, height, width, trt=None, smallest=1):
        built.append((height, width, smallest))
        return b"plan"

    monkeypatch.setattr(tensorrt_backend, "build_engine", build)
    log: list = []
    trt = _fake_trt(log, True)
    trt.Runtime = lambda logger: _Recorder(log)
    denoiser = TensorRTDenoiser(tmp_path / "d.onnx", trt=trt, multiple=16)
    for height, width in ((240, 320), (48, 240), (240, 48), (240, 320), (480, 640), (240, 320)):
        denoiser._prepare(height, width)
    assert built == [(240, 320, 16), (480, 640, 16)]
