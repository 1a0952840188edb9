"""The demo corridor looks like the Backrooms, and looks the same every time it is rendered."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.kernels import SRGB_STEPS, srgb_table
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene

W, H = 160, 120


def render(frame: int, threads: int = 1, **overrides: object) -> dict[str, np.ndarray]:
    store = ParamStore()
    store.update({f"render.{k}": v for k, v in overrides.items()})
    product = RenderProduct(frame, W, H, "cpu")
    renderer = Renderer(W, H, "cpu", threads=threads)
    renderer.render(
        Scene.from_view(demo.view()),
        demo.camera(frame),
        demo.camera(frame - 1),
        product,
        store.snapshot().node("render"),
        seed=7,
    )
    return {name: buf.numpy() for name, buf in product.buffers.items()}


@pytest.fixture(scope="module")
def frame12() -> dict[str, np.ndarray]:
    return render(12)


def test_rendering_a_frame_twice_gives_identical_bytes(frame12: dict[str, np.ndarray]) -> None:
    again = render(12)
    for name, values in frame12.items():
        assert values.tobytes() == again[name].tobytes(), name


def test_bands_on_several_threads_give_the_same_bytes_as_one_thread(frame12: dict[str, np.ndarray]) -> None:
    banded = render(12, threads=3)
    for name, values in frame12.items():
        assert values.tobytes() == banded[name].tobytes(), name


def test_noise_changes_from_frame_to_frame_but_geometry_does_not() -> None:
    a, b = render(5), render(5, spp=1)
    assert a["rgb"].tobytes() == b["rgb"].tobytes()
    c = render(6)
    assert a["rgb"].tobytes() != c["rgb"].tobytes()


def test_the_corridor_is_yellow_and_lit_by_blown_out_panels(frame12: dict[str, np.ndarray]) -> None:
    rgb = frame12["rgb"][..., :3].astype(float)
    r, g, b = rgb[..., 0].mean(), rgb[..., 1].mean(), rgb[..., 2].mean()
    assert r > g > b + 20, (r, g, b)  # yellow, not grey
    assert 90 < rgb.mean() < 210
    assert (rgb.min(axis=-1) > 240).sum() >= 10  # blown-out ceiling panels


def test_haze_flattens_the_far_end_and_spares_the_near_walls(frame12: dict[str, np.ndarray]) -> None:
    clear = render(12, haze=0.0)["rgb"][..., :3].astype(float).mean(-1)
    hazy = render(12, haze=0.12)["rgb"][..., :3].astype(float).mean(-1)
    depth = frame12["distance_to_camera"]
    far, near = depth > 12, depth < 3
    assert hazy[far].std() < 0.8 * clear[far].std()
    assert np.abs(hazy[near] - clear[near]).mean() < 0.3 * np.abs(hazy[far] - clear[far]).mean()


def test_the_ceiling_is_lit_and_the_floor_is_carpet(frame12: dict[str, np.ndarray]) -> None:
    normals = frame12["normals"]
    luma = frame12["rgb"][..., :3].astype(float).mean(-1)
    ceiling = normals[..., 1] < -0.9
    floor = normals[..., 1] > 0.9
    assert ceiling[: H // 3].mean() > 0.5 and floor[-H // 4 :].mean() > 0.5
    assert luma[floor].mean() < luma[ceiling].mean()  # the carpet is darker than the tiles


def test_more_samples_converge_toward_the_many_sample_image() -> None:
    reference = render(3, spp=32)["rgb"].astype(float)
    error = {spp: np.abs(render(3, spp=spp)["rgb"] - reference).mean() for spp in (1, 8)}
    assert error[8] < 0.5 * error[1], error


def test_the_srgb_table_is_within_one_code_of_the_transfer_function() -> None:
    y = np.random.default_rng(0).uniform(0.0, 1.0, 200_000)
    exact = np.where(y <= 0.0031308, 12.92 * y, 1.055 * np.power(y, 1 / 2.4) - 0.055)
    table = srgb_table()[(y * (SRGB_STEPS - 1) + 0.5).astype(int)].astype(float)
    assert np.abs(np.floor(exact * 255.0 + 0.5) - table).max() <= 1.0
    assert srgb_table()[0] == 0 and srgb_table()[-1] == 255
