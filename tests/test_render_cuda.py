"""The same kernels serve CUDA: they compile for a GPU here, and match the CPU where a GPU exists."""

from __future__ import annotations

import numpy as np
import pytest

import backrooms.render.bins
import backrooms.render.kernels
import backrooms.render.lighting
import backrooms.render.uncovered
from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from cuda_compile import assert_compiles_for_cuda


@pytest.mark.parametrize(
    "module",
    [backrooms.render.kernels, backrooms.render.lighting, backrooms.render.bins, backrooms.render.uncovered],
)
def test_render_kernels_compile_for_a_gpu(module: object, tmp_path: object) -> None:
    assert_compiles_for_cuda(module, tmp_path)


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
