"""The same kernels serve CUDA: they compile for a GPU here, and match the CPU where a GPU exists."""

from __future__ import annotations

import numpy as np
import pytest
import warp as wp

import backrooms.render.bins
import backrooms.render.kernels
import backrooms.render.lighting
from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene


@pytest.mark.parametrize(
    "module", [backrooms.render.kernels, backrooms.render.lighting, backrooms.render.bins]
)
def test_render_kernels_compile_for_a_gpu(module: object, tmp_path: object) -> None:
    wp.init()
    try:
        artifacts = wp.compile_aot_module(module, arch=80, module_dir=str(tmp_path), use_ptx=True)
    except RuntimeError as exc:  # no NVRTC in this Warp build
        pytest.skip(f"cannot compile CUDA here: {exc}")
    assert artifacts and all(p.stat().st_size > 0 for p in artifacts)


def render(device: str) -> dict[str, np.ndarray]:
    product = RenderProduct(8, 96, 72, device)
    renderer = Renderer(96, 72, device)
    scene = Scene.from_view(demo.view(), device)
    settings = ParamStore().snapshot().node("render")
    renderer.render(scene, demo.camera(8), demo.camera(7), product, settings, seed=2)
    return {name: buf.numpy() for name, buf in product.buffers.items()}


@pytest.mark.gpu
def test_cuda_and_cpu_agree_on_the_geometry_aovs() -> None:
    cpu, gpu = render("cpu"), render("cuda")
    assert (cpu["instance_id"] == gpu["instance_id"]).mean() > 0.995
    same = cpu["instance_id"] == gpu["instance_id"]
    np.testing.assert_allclose(gpu["distance_to_camera"][same], cpu["distance_to_camera"][same], rtol=1e-3)
    np.testing.assert_allclose(gpu["motion_vectors"][same], cpu["motion_vectors"][same], atol=0.05)
    assert np.abs(gpu["rgb"].astype(int) - cpu["rgb"].astype(int)).mean() < 3.0
