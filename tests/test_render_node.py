"""The render node walks the real world: any frame renders alone, every AOV is filled."""

from __future__ import annotations

import numpy as np
import pytest

from backrooms.graph.node import GraphContext
from backrooms.graph.product import AOV_SPECS, RenderProduct
from backrooms.params import ParamStore
from backrooms.render.node import RenderNode

W, H = 64, 48


@pytest.fixture(scope="module")
def node() -> RenderNode:
    return RenderNode(GraphContext(seed=11, width=W, height=H, fps=24.0, device="cpu"))


def frame(node: RenderNode, number: int, **params: object) -> dict[str, np.ndarray]:
    store = ParamStore()
    store.update(params)
    product = RenderProduct(number, W, H, "cpu")
    node.process(product, store.snapshot())
    return {name: buf.numpy() for name, buf in product.buffers.items()}


def test_every_aov_is_written(node: RenderNode) -> None:
    out = frame(node, 30)
    assert set(out) == set(AOV_SPECS)
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
