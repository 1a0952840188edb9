"""Ceiling panels: seeded flicker and failure, shadows, and panels that glow with their own light."""

from __future__ import annotations

import dataclasses

import numpy as np

from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from backrooms.world.types import Camera, InstanceSet, LightSet, SceneView

W, H = 48, 36
# Looking straight down: columns are right (+x), up (-z) and back (+y).
DOWN = np.array([[1, 0, 0], [0, 0, 1], [0, -1, 0]], np.float32)


def render(
    view: SceneView, frame: int = 0, camera: Camera | None = None, size: int = 0, **overrides: object
) -> tuple[np.ndarray, np.ndarray]:
    """(light gains, rgb as float) of one frame."""
    store = ParamStore()
    store.update({f"render.{k}": v for k, v in overrides.items()})
    scene = Scene.from_view(view)
    camera = camera or demo.camera(frame)
    w, h = (size, size) if size else (W, H)
    product = RenderProduct(frame, w, h, "cpu")
    Renderer(w, h, threads=1).render(scene, camera, camera, product, store.snapshot().node("render"), seed=3)
    return scene.data.light_gain.numpy(), product["rgb"].numpy()[..., :3].astype(float)


def with_states(view: SceneView, state: np.ndarray) -> SceneView:
    return dataclasses.replace(view, lights=dataclasses.replace(view.lights, state=state.astype(np.int32)))


def test_dead_panels_give_no_light_and_healthy_ones_full_radiance() -> None:
    view = demo.view()
    state = np.zeros(len(view.lights.key), np.int32)
    state[::2] = 2
    gains, _ = render(with_states(view, state), hum=0.0, radiance=5.0)
    assert (gains[::2] == 0).all()
    np.testing.assert_allclose(gains[1::2], 5.0)


def test_blackout_switches_panels_off_and_darkens_the_frame() -> None:
    view = demo.view()
    on_gains, on = render(view)
    off_gains, off = render(view, blackout=1.0)
    assert on_gains.min() > 0 and not off_gains.any()
    assert off.mean() < 0.5 * on.mean()


def test_flickering_panels_vary_between_frames_and_steady_ones_do_not() -> None:
    view = demo.view()
    state = np.zeros(len(view.lights.key), np.int32)
    state[:4] = 1
    view = with_states(view, state)
    gains = np.array([render(view, frame=f, hum=0.0, stutter=1.0)[0] for f in range(6)])
    assert (gains[:, :4].std(axis=0) > 0.05).all()
    assert (gains[:, 4:] == gains[0, 4:]).all()


def test_the_same_frame_flickers_the_same_way_every_time() -> None:
    view = demo.view()
    assert (render(view, frame=9, stutter=1.0)[0] == render(view, frame=9, stutter=1.0)[0]).all()


def test_an_occluder_casts_a_shadow_on_the_floor() -> None:
    # A 1 m square shelf 1.2 m above the floor, under one panel at 2.6 m; seen from 10 m straight above,
    # so one pixel is 1/16 m on the floor. The panel's shadow of the shelf reaches about 0.9 m out.
    floor = np.diag([5.0, 1.0, 5.0, 1.0]).astype(np.float32)
    shelf = np.diag([0.25, 1.0, 0.25, 1.0]).astype(np.float32)
    shelf[1, 3] = 1.2
    instances = InstanceSet(
        np.array([0, 0]), np.stack([floor, shelf]), np.zeros((2, 4), np.int32), np.arange(2)
    )
    one = np.ones(1, np.float32)
    lights = LightSet(np.array([[0.0, 2.6, 0.0]], np.float32), np.full((1, 2), 0.3, np.float32), one,
                      np.zeros(1, np.int32), np.zeros(1, np.uint32))  # fmt: skip
    view = SceneView(demo.library(), instances, lights)
    camera = Camera(
        position=np.array([0.0, 10.0, 0.0], np.float32), rotation=DOWN, fov_y=2 * np.degrees(np.arctan(0.2))
    )
    x, y = np.meshgrid(np.arange(64) - 31.5, np.arange(64) - 31.5)
    r = np.hypot(x, y) / 16.0
    floor_seen = np.maximum(np.abs(x), np.abs(y)) / 16.0 > 0.6  # outside the shelf's silhouette
    ring, outside = (r > 0.6) & (r < 0.8) & floor_seen, (r > 1.1) & (r < 1.3)
    flat = dict(camera=camera, ambient=0.0, ao=0.0, haze=0.0, hum=0.0, distortion=0.0, size=64, spp=8)
    lit = render(view, shadow_rays=0, **flat)[1].mean(-1)
    shadowed = render(view, shadow_rays=1, **flat)[1].mean(-1)
    assert lit[ring].mean() > lit[outside].mean()  # nearer the panel, brighter without shadows
    assert shadowed[ring].mean() < 0.5 * shadowed[outside].mean()
