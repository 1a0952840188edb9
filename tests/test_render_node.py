"""The render node walks the real world: any frame renders alone, every AOV is filled."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.graph.node import GraphContext
from backrooms.graph.product import AOV_SPECS, TRACED, RenderProduct
from backrooms.params import ParamStore
from backrooms.render.node import RenderNode
from backrooms.render.renderer import Renderer
from backrooms.render.upscale import JITTER_CYCLE, jitter, upscale

W, H = 64, 48


@pytest.fixture(scope="module")
def node() -> RenderNode:
    return RenderNode(GraphContext(seed=11, width=W, height=H, fps=24.0, device="cpu"))


def frame(node: RenderNode, number: int, **params: object) -> dict[str, np.ndarray]:
    """Every buffer of frame ``number``, traced at full size unless ``render.scale`` is given."""
    store = ParamStore()
    store.update({"render.scale": 1.0, **params})
    product = RenderProduct(number, W, H, "cpu")
    node.process(product, store.snapshot())
    return {name: buf.numpy() for name, buf in product.buffers.items()}


def test_every_aov_is_written(node: RenderNode) -> None:
    out = frame(node, 30)
    assert set(out) == set(AOV_SPECS) - {TRACED}  # ``traced`` belongs to frames the diffusion node generates
    assert (out["instance_id"] > 0).mean() > 0.95  # the Backrooms have walls everywhere
    assert np.isfinite(out["distance_to_camera"]).mean() > 0.95
    assert np.abs(out["motion_vectors"][..., :2]).max() > 0.01  # the autopilot walks


def test_a_frame_rendered_alone_matches_the_same_frame_in_sequence(node: RenderNode) -> None:
    for f in range(40, 44):
        in_sequence = frame(node, f)
    alone = frame(RenderNode(node.context), 43)
    for name, values in in_sequence.items():
        assert values.tobytes() == alone[name].tobytes(), name


def test_walking_into_new_chunks_rebuilds_instances_but_keeps_the_prototype_meshes(node: RenderNode) -> None:
    frame(node, 0)
    meshes, instances = node.scene.mesh_builds, node.scene.instance_builds
    frame(node, 24 * 120)  # two minutes on, the walk has crossed into other chunks
    assert node.scene.instance_builds > instances
    assert node.scene.mesh_builds == meshes


def test_render_params_reach_the_renderer(node: RenderNode) -> None:
    bright = frame(node, 5)["rgb"].astype(float).mean()
    dark = frame(node, 5, **{"render.exposure": -3.0})["rgb"].astype(float).mean()
    assert dark < 0.6 * bright


def test_ceiling_panels_of_the_default_clip_sit_flush_in_the_tile_grid() -> None:
    """Seed 0's first frames look up the centre of a corridor at a dead panel. It used to hang 4 cm
    below the tiles as a box, its near side a dark step (depth 2.39 m against 2.47 m around it): every
    panel pixel must face straight down, as the tiles around it do."""
    node = RenderNode(GraphContext(seed=0, width=160, height=120, fps=24.0, device="cpu"))
    store = ParamStore()
    panel_pixels = 0
    for number in (0, 24, 47):
        product = RenderProduct(number, 160, 120, "cpu")
        node.process(product, store.snapshot())
        world = node.world(store.snapshot())
        keys = world.view(world.camera(number, 24.0).position).lights.key
        ids = product.buffers["instance_id"].numpy()
        normals = product.buffers["normals"].numpy()
        on_panel = np.isin(ids, keys)
        panel_pixels += int(on_panel.sum())
        assert (normals[on_panel][:, 1] < -0.99).all()
    assert panel_pixels > 100


@pytest.mark.parametrize("scale", [0.75, 0.5])
def test_a_reduced_internal_resolution_fills_the_full_frame_from_fewer_rays(node: RenderNode, scale) -> None:
    full = frame(node, 30)
    reduced = frame(node, 30, **{"render.scale": scale})
    assert set(full) - set(reduced) == {"radiance"}  # below full size it is the internal product's
    assert all(reduced[k].shape == full[k].shape for k in reduced)
    assert (node.internal.width, node.internal.height) == (round(W * scale), round(H * scale))
    # the same view: mostly the same surfaces and distances, the image close but not identical
    assert (reduced["instance_id"] == full["instance_id"]).mean() > 0.8
    rgb_full, rgb_reduced = (x[..., :3].astype(float) for x in (full["rgb"], reduced["rgb"]))
    assert 0 < np.abs(rgb_full - rgb_reduced).mean() < 20
    # motion vectors are in output pixels: the same magnitude at any internal size
    mv_full, mv_reduced = (
        np.abs(x[..., :2]).mean() for x in (full["motion_vectors"], reduced["motion_vectors"])
    )
    assert abs(mv_reduced - mv_full) < 0.25 * mv_full
    assert (reduced["rgb"][..., 3] == 255).all()


def test_below_full_size_every_frame_traces_its_pixels_at_another_place_inside_them() -> None:
    offsets = [jitter(f) for f in range(JITTER_CYCLE)]
    assert len(set(offsets)) == JITTER_CYCLE
    assert all(-0.5 <= c < 0.5 for offset in offsets for c in offset)
    assert abs(np.mean(offsets, axis=0)).max() < 0.07  # spread around the centre, not to one side
    assert jitter(5) == jitter(5 + JITTER_CYCLE) == jitter(5 + 7 * JITTER_CYCLE)  # a pure function


@pytest.mark.parametrize("k", [2, 3, 4])
def test_frames_traced_every_kth_frame_step_through_every_jitter_offset(k: int) -> None:
    """With ``diffusion.generate`` k the jitter follows the traced frames, not the frame numbers: by
    frame, k = 2 traced only the even points of the sequence (all in the right half of the pixel)
    and k = 4 only two."""
    graph = RenderNode(
        GraphContext(seed=11, width=32, height=24, fps=24.0, device="cpu", nodes=("render", "diffusion"))
    )
    store = ParamStore()
    store.update({"render.scale": 0.5, "diffusion.generate": k})
    offsets = []
    for f in range(k * JITTER_CYCLE):
        product = RenderProduct(f, 32, 24, "cpu")
        graph.trace(product, store.snapshot())
        if product.meta["traced"]:
            offsets.append(product.meta["internal"].meta["jitter"])
    assert sorted(offsets) == sorted(jitter(f) for f in range(JITTER_CYCLE))
    assert abs(np.mean(offsets, axis=0)).max() < 0.07  # around the centre, as over every frame


def test_a_jittered_ray_is_the_ray_through_that_point_of_the_image(node: RenderNode) -> None:
    """Traced at half size, a quarter pixel up and left of each centre, every ray passes through
    the centre of a full-size pixel (2x, 2y): it meets what that pixel's ray meets, at the same
    distance, and a still camera's motion is still zero."""
    frame(node, 30)  # the world and the scene at frame 30
    camera = node.world(ParamStore().snapshot()).camera(30, 24.0)
    settings = ParamStore().snapshot().node("render")
    full = RenderProduct(30, W, H, "cpu")
    node.renderer.trace(node.scene, camera, camera, full, settings, 11)
    half = RenderProduct(30, W // 2, H // 2, "cpu")
    Renderer(W // 2, H // 2).trace(node.scene, camera, camera, half, settings, 11, (-0.25, -0.25))
    depth_full, depth_half = (
        full.buffers["distance_to_camera"].numpy(),
        half.buffers["distance_to_camera"].numpy(),
    )
    assert np.isfinite(depth_half).mean() > 0.95
    np.testing.assert_allclose(depth_half, depth_full[::2, ::2], rtol=1e-5)
    assert np.abs(half.buffers["motion_vectors"].numpy()[..., :2]).max() < 1e-3
    centred = RenderProduct(30, W // 2, H // 2, "cpu")
    Renderer(W // 2, H // 2).trace(node.scene, camera, camera, centred, settings, 11)
    assert not np.allclose(centred.buffers["distance_to_camera"].numpy(), depth_half, rtol=1e-5)


def test_the_fill_up_places_each_sample_where_its_ray_was_traced() -> None:
    """A ramp that grows 4 a traced pixel, sampled a quarter pixel right of each centre, fills up to
    the ramp at each output pixel's own centre (bilinear reproduces a ramp exactly)."""
    w_in, h_in = 8, 6
    internal = RenderProduct(0, w_in, h_in, "cpu")
    for name in AOV_SPECS:
        if name != "radiance":
            internal.allocate(name)
    ramp = 4 * (np.arange(w_in) + 0.5 + 0.25)  # 3, 7, 11, ...
    rgb = internal.buffers["rgb"].numpy()
    rgb[...] = ramp.astype(np.uint8)[None, :, None]
    internal.buffers["rgb"].assign(rgb)
    product = RenderProduct(0, 2 * w_in, 2 * h_in, "cpu")
    internal.meta["jitter"] = (0.25, 0.0)
    upscale(internal, product)
    out = product.buffers["rgb"].numpy()[..., 0].astype(float)
    x = np.arange(2 * w_in)
    expected = 4 * (x + 0.5) * 0.5  # the ramp at each output centre: 1, 3, 5, ...
    inner = slice(2, 2 * w_in - 2)  # the clamp at the borders holds the edge sample
    np.testing.assert_array_equal(out[:, inner], np.broadcast_to(expected[inner], out[:, inner].shape))
    unjittered = RenderProduct(0, 2 * w_in, 2 * h_in, "cpu")
    internal.meta["jitter"] = (0.0, 0.0)  # read as centred samples, the ramp lands 1 too high
    upscale(internal, unjittered)
    assert (unjittered.buffers["rgb"].numpy()[:, inner, 0].astype(float) - expected[inner]).mean() == 1.0


def test_a_variant_rate_moved_live_keeps_the_grid_and_renders_what_a_fresh_node_renders() -> None:
    """Re-dressed walls keep their boxes: the grid, the camera tiles and the panel lists built on
    them are kept (they took 33 ms of each frame while a variant rate glided); the frame is the
    bytes a node started with the new value renders."""
    context = GraphContext(seed=11, width=W, height=H, fps=24.0, device="cpu")
    node = RenderNode(context)
    frame(node, 60)
    builds, upload, lists = node.scene.instance_builds, node.scene.upload, node.scene.data.lights
    moved = frame(node, 61, **{"world.stain_rate": 0.9, "world.carpet_stain_rate": 0.6})
    assert (node.scene.instance_builds, node.scene.upload) == (builds, upload)
    assert node.scene.data.lights is lists
    fresh = frame(RenderNode(context), 61, **{"world.stain_rate": 0.9, "world.carpet_stain_rate": 0.6})
    for name, values in moved.items():
        assert values.tobytes() == fresh[name].tobytes(), name
    plain = frame(RenderNode(context), 61)
    assert moved["rgb"].tobytes() != plain["rgb"].tobytes()  # the walls did change
    frame(node, 62, **{"world.missing_tile_rate": 0.5})  # tiles gone: other boxes, a new grid
    assert node.scene.instance_builds == builds + 1
