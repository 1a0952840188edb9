"""Depth, normals, ids and motion vectors of the ray tracer against analytic answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
import warp as wp

from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene
from backrooms.world.types import Camera, InstanceSet, LightSet, SceneView

W, H = 64, 48
FLOOR, WALL = 0, 2  # demo library meshes: 4x4 m floor quad at y=0, 4 x 2.7 m wall quad at z=0 facing +z


def settings(**overrides: object) -> dict:
    """Render knobs at their defaults, but a pinhole lens unless a test asks for distortion."""
    overrides = {"distortion": 0.0, **overrides}
    store = ParamStore()
    store.update({f"render.{k}": v for k, v in overrides.items()})
    return store.snapshot().node("render")


def look_at(position: tuple, yaw: float = 0.0, pitch: float = 0.0, fov: float = 60.0) -> Camera:
    cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
    forward = np.array([-sy * cp, sp, -cy * cp])
    right = np.array([cy, 0.0, -sy])
    up = np.cross(-forward, right)
    rotation = np.stack([right, up, -forward], axis=1).astype(np.float32)
    return Camera(position=np.array(position, np.float32), rotation=rotation, fov_y=fov)


def placed(scale: tuple = (1.0, 1.0, 1.0), offset: tuple = (0.0, 0.0, 0.0)) -> np.ndarray:
    m = np.diag([*scale, 1.0]).astype(np.float32)
    m[:3, 3] = offset
    return m


def view_of(meshes: list[int], transforms: list[np.ndarray]) -> SceneView:
    n = len(meshes)
    none = np.zeros(0, np.float32)
    no_lights = LightSet(
        none.reshape(0, 3), none.reshape(0, 2), none, none.astype(np.int32), none.astype(np.uint32)
    )
    instances = InstanceSet(
        np.array(meshes, np.int32),
        np.array(transforms, np.float32),
        np.zeros((n, 4), np.int32),
        np.arange(1, n + 1, dtype=np.uint32),  # keys 1, 2, ...: instance_id reads like index + 1
    )
    return SceneView(demo.library(), instances, no_lights)


def render(view: SceneView, camera: Camera, previous: Camera, **overrides: object) -> dict[str, np.ndarray]:
    product = RenderProduct(0, W, H, "cpu")
    Renderer(W, H, "cpu").render(
        Scene.from_view(view), camera, previous, product, settings(**overrides), seed=1
    )
    return {name: buf.numpy() for name, buf in product.buffers.items()}


def pixel_rays(camera: Camera, k: float = 0.0) -> np.ndarray:
    """(H, W, 3) unit world directions through pixel centres: the camera model, written again in numpy."""
    tan = math.tan(math.radians(camera.fov_y) / 2)
    x, y = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    p = np.stack([(2 * x / W - 1) * W / H, 1 - 2 * y / H], -1)
    q = p * (1 + k * (p**2).sum(-1, keepdims=True)) * tan
    d = np.concatenate([q, -np.ones((H, W, 1))], -1) @ camera.rotation.T.astype(np.float64)
    return d / np.linalg.norm(d, axis=-1, keepdims=True)


def project(camera: Camera, points: np.ndarray, k: float = 0.0) -> np.ndarray:
    """Image positions (x right, y down, pixels) of world points; the distortion is inverted by bisection."""
    tan = math.tan(math.radians(camera.fov_y) / 2)
    c = (points - camera.position) @ camera.rotation.astype(np.float64)
    q = c[..., :2] / (-c[..., 2:3] * tan)
    rq = np.linalg.norm(q, axis=-1, keepdims=True)
    lo, hi = np.zeros_like(rq), rq.copy()
    for _ in range(60):
        mid = (lo + hi) / 2
        too_big = mid * (1 + k * mid**2) > rq
        hi, lo = np.where(too_big, mid, hi), np.where(too_big, lo, mid)
    p = q * np.where(rq > 0, lo / np.maximum(rq, 1e-30), 1)
    return np.stack([(p[..., 0] * H / W + 1) * W / 2, (1 - p[..., 1]) * H / 2], -1)


@pytest.fixture(scope="module")
def floor_view() -> SceneView:
    return view_of([FLOOR], [placed((50.0, 1.0, 50.0))])


def floor_hits(camera: Camera, k: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    d = pixel_rays(camera, k)
    t = np.where(d[..., 1] < -1e-6, -camera.position[1] / np.minimum(d[..., 1], -1e-6), np.inf)
    return t, camera.position + d * np.where(np.isfinite(t), t, 0)[..., None]


def test_depth_is_the_distance_to_the_floor_plane(floor_view: SceneView) -> None:
    camera = look_at((0.3, 1.5, 0.0), yaw=0.2, pitch=-0.25)
    out = render(floor_view, camera, camera, distortion=0.0)
    expected, _ = floor_hits(camera)
    hit = np.isfinite(expected) & (expected < 60)  # inside the 200 m plane
    assert hit.sum() > W * H // 3
    np.testing.assert_allclose(out["distance_to_camera"][hit], expected[hit], rtol=2e-4)
    assert np.isinf(out["distance_to_camera"][~np.isfinite(expected)]).all()


def test_depth_follows_the_distorted_rays(floor_view: SceneView) -> None:
    camera = look_at((0.0, 1.2, 0.0), pitch=-0.4)
    out = render(floor_view, camera, camera, distortion=0.2)
    expected, _ = floor_hits(camera, k=0.2)
    hit = np.isfinite(expected) & (expected < 60)
    np.testing.assert_allclose(out["distance_to_camera"][hit], expected[hit], rtol=2e-4)


def test_normals_of_the_floor_point_up_with_w_one(floor_view: SceneView) -> None:
    camera = look_at((0.0, 1.5, 0.0), pitch=-0.5)
    out = render(floor_view, camera, camera)
    hit = np.isfinite(out["distance_to_camera"])
    np.testing.assert_allclose(out["normals"][hit], np.broadcast_to([0, 1, 0, 1], (hit.sum(), 4)), atol=1e-5)
    assert (out["normals"][~hit] == 0).all()


def test_wall_normals_face_the_camera_from_either_side() -> None:
    view = view_of([WALL], [placed((5.0, 5.0, 1.0), (0.0, -5.0, -3.0))])
    camera = look_at((0.0, 1.0, 0.0))
    front = render(view, camera, camera)
    back_cam = look_at((0.0, 1.0, -6.0), yaw=math.pi)
    back = render(view, back_cam, back_cam)
    assert np.allclose(front["normals"][H // 2, W // 2], [0, 0, 1, 1], atol=1e-5)
    assert np.allclose(back["normals"][H // 2, W // 2], [0, 0, -1, 1], atol=1e-5)
    along = -pixel_rays(camera)[H // 2, W // 2, 2]
    assert front["distance_to_camera"][H // 2, W // 2] == pytest.approx(3.0 / along, rel=1e-5)


def test_instance_id_is_the_stable_key_and_zero_for_sky() -> None:
    view = view_of([FLOOR, WALL], [placed((50.0, 1.0, 50.0)), placed((5.0, 5.0, 1.0), (0.0, 0.0, -20.0))])
    view.instances.key = np.array([900_001, 7], np.uint32)
    camera = look_at((0.0, 1.5, 0.0), pitch=0.1)
    ids = render(view, camera, camera)["instance_id"]
    assert set(np.unique(ids)) == {0, 7, 900_001}
    assert ids[H - 1, W // 2] == 900_001 and ids[0, W // 2] == 0
    # the same piece keeps its id when the view around it changes (chunks streaming in and out)
    moved = view_of([WALL, FLOOR], [placed((5.0, 5.0, 1.0), (0.0, 0.0, -20.0)), placed((50.0, 1.0, 50.0))])
    moved.instances.key = np.array([7, 900_001], np.uint32)
    assert (render(moved, camera, camera)["instance_id"] == ids).all()


@pytest.mark.parametrize("k", [0.0, 0.15])
def test_motion_vectors_reproject_hit_points_with_the_previous_camera(
    floor_view: SceneView, k: float
) -> None:
    camera = look_at((0.4, 1.55, -0.5), yaw=0.12, pitch=-0.3)
    previous = look_at((0.1, 1.5, 0.0), yaw=0.05, pitch=-0.28)
    out = render(floor_view, camera, previous, distortion=k)
    t, points = floor_hits(camera, k)
    hit = np.isfinite(t) & (t < 60)
    x, y = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    expected = np.stack([x, y], -1) - project(previous, points, k)
    error = np.abs(out["motion_vectors"][..., :2] - expected)[hit]
    assert error.max() < 0.1, error.max()
    assert np.abs(expected[hit]).max() > 3.0  # the camera really moved
    assert (out["motion_vectors"][..., 2:] == 0).all()


def test_motion_of_the_sky_is_the_rotation_alone(floor_view: SceneView) -> None:
    camera = look_at((0.0, 1.5, 0.0), yaw=0.1, pitch=0.3)
    previous = look_at((2.0, 1.5, 3.0), yaw=0.0, pitch=0.3)  # translation does not move points at infinity
    out = render(floor_view, camera, previous)
    sky = np.isinf(out["distance_to_camera"])
    directions = pixel_rays(camera)
    far = previous.position + directions * 1e6
    x, y = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    expected = np.stack([x, y], -1) - project(previous, far)
    assert sky.sum() > 100
    assert np.abs(out["motion_vectors"][..., :2] - expected)[sky].max() < 0.1


def test_disocclusion_marks_points_hidden_from_the_previous_camera() -> None:
    # A back wall 8 m away and a 1 m wide post 3 m away; the camera steps 0.6 m to the right.
    back = placed((5.0, 2.0, 1.0), (0.0, -1.0, -8.0))
    post = placed((0.125, 2.0, 1.0), (0.0, -1.0, -3.0))
    view = view_of([WALL, WALL], [back, post])
    camera, previous = look_at((0.6, 1.0, 0.0)), look_at((0.0, 1.0, 0.0))
    out = render(view, camera, previous)
    on_back = out["instance_id"] == 1
    d = pixel_rays(camera)
    points = camera.position + d * (8.0 / -d[..., 2:3])
    # the segment from the previous camera to the point crosses z = -3 inside the post?
    s = (points - previous.position) * ((3.0 - 0.0) / 8.0) + previous.position
    hidden = (np.abs(s[..., 0]) < 0.25) & (s[..., 1] > -1.0) & (s[..., 1] < 4.4)
    px = project(previous, points)
    off = (px[..., 0] < 0) | (px[..., 0] > W) | (px[..., 1] < 0) | (px[..., 1] > H)
    expected = (hidden | off) & on_back
    got = out["disocclusion"].astype(bool) & on_back
    assert expected.sum() > 20
    assert (got != expected).sum() <= 2  # pixels whose centre grazes the post's edge may differ
    assert not out["disocclusion"][out["instance_id"] == 2].any()


def test_disocclusion_can_look_back_further_than_the_motion_vectors() -> None:
    """With frame generation the diffusion node remembers the last traced frame, k frames back:
    ``since`` points the disocclusion there while the motion vectors still measure one frame."""
    back = placed((5.0, 2.0, 1.0), (0.0, -1.0, -8.0))
    post = placed((0.125, 2.0, 1.0), (0.0, -1.0, -3.0))
    scene = Scene.from_view(view_of([WALL, WALL], [back, post]))
    camera, previous, since = (look_at((x, 1.0, 0.0)) for x in (0.6, 0.3, 0.0))

    def trace(previous: Camera, since: Camera | None = None) -> dict[str, np.ndarray]:
        product = RenderProduct(0, W, H, "cpu")
        Renderer(W, H, "cpu").trace(scene, camera, previous, product, settings(), 1, since=since)
        return {name: buf.numpy() for name, buf in product.buffers.items()}

    both = trace(previous, since)
    one_back, two_back = trace(previous), trace(since)
    assert np.array_equal(both["disocclusion"], two_back["disocclusion"])
    assert np.array_equal(both["motion_vectors"], one_back["motion_vectors"])
    assert np.array_equal(both["radiance"], one_back["radiance"])
    assert two_back["disocclusion"].sum() > one_back["disocclusion"].sum() + 10  # the post hid more


def test_turning_on_the_spot_reveals_only_what_was_off_screen() -> None:
    back = placed((5.0, 2.0, 1.0), (0.0, -1.0, -8.0))
    post = placed((0.125, 2.0, 1.0), (0.0, -1.0, -3.0))
    view = view_of([WALL, WALL], [back, post])
    camera, previous = look_at((0.0, 1.0, 0.0), yaw=0.3), look_at((0.0, 1.0, 0.0))
    out = render(view, camera, previous)
    hit = out["instance_id"] > 0
    points = camera.position + pixel_rays(camera) * out["distance_to_camera"][..., None]
    px = project(previous, points[hit])
    off = np.zeros((H, W), bool)
    off[hit] = (px[:, 0] < 0) | (px[:, 0] > W) | (px[:, 1] < 0) | (px[:, 1] > H)
    assert off.sum() > 20
    assert (out["disocclusion"].astype(bool) == off).all()


def test_device_buffers_have_replicator_dtypes_and_shapes(floor_view: SceneView) -> None:
    camera = look_at((0.0, 1.5, 0.0), pitch=-0.2)
    product = RenderProduct(0, W, H, "cpu")
    Renderer(W, H).render(Scene.from_view(floor_view), camera, camera, product, settings(), seed=0)
    specs = {name: (buf.dtype, buf.shape) for name, buf in product.buffers.items()}
    assert specs == {
        "rgb": (wp.uint8, (H, W, 4)),
        "distance_to_camera": (wp.float32, (H, W)),
        "normals": (wp.float32, (H, W, 4)),
        "motion_vectors": (wp.float32, (H, W, 4)),
        "instance_id": (wp.uint32, (H, W)),
        "disocclusion": (wp.uint8, (H, W)),
        "radiance": (wp.float32, (H, W, 3)),  # ours: the light before exposure
    }
