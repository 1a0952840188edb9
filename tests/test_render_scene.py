"""Acceleration structures follow the view: prototypes are built once, instances on version changes."""

from __future__ import annotations

import dataclasses

import numpy as np

from backrooms.graph.product import RenderProduct
from backrooms.params import ParamStore
from backrooms.render import demo
from backrooms.render.renderer import Renderer
from backrooms.render.scene import Scene


def test_streaming_a_new_version_rebuilds_instances_but_not_meshes() -> None:
    view = demo.view()
    scene = Scene.from_view(view)
    fewer = dataclasses.replace(view, version=1)
    fewer.instances = dataclasses.replace(view.instances, mesh=view.instances.mesh[:10])
    fewer.instances.transform = view.instances.transform[:10]
    scene.update(fewer)
    assert (scene.mesh_builds, scene.instance_builds) == (1, 2)
    assert scene.data.instance_mesh.shape[0] == 10


def test_the_same_version_uploads_nothing() -> None:
    view = demo.view()
    scene = Scene.from_view(view)
    scene.update(view)
    assert (scene.mesh_builds, scene.instance_builds) == (1, 1)


def test_a_new_library_rebuilds_the_meshes() -> None:
    scene = Scene.from_view(demo.view())
    scene.update(demo.view())  # same version number, different library object
    assert (scene.mesh_builds, scene.instance_builds) == (2, 2)


def test_an_empty_view_renders_haze_and_no_ids() -> None:
    view = demo.view()
    empty = dataclasses.replace(view, version=3)
    empty.instances = dataclasses.replace(
        view.instances,
        mesh=view.instances.mesh[:0],
        transform=view.instances.transform[:0],
        look=view.instances.look[:0],
        key=view.instances.key[:0],
    )
    scene = Scene.from_view(empty)
    product = RenderProduct(0, 32, 24, "cpu")
    camera = demo.camera(0)
    Renderer(32, 24).render(scene, camera, camera, product, ParamStore().snapshot().node("render"), seed=0)
    assert not product["instance_id"].numpy().any()
    assert np.isinf(product["distance_to_camera"].numpy()).all()
    rgb = product["rgb"].numpy()
    assert (rgb == rgb[0, 0]).all() and rgb[0, 0, 3] == 255


def test_a_renderer_never_reuses_camera_tiles_across_scenes() -> None:
    camera = demo.camera(3)
    settings = ParamStore().snapshot().node("render")
    renderer = Renderer(32, 24)
    first = RenderProduct(0, 32, 24, "cpu")
    renderer.render(Scene.from_view(demo.view()), camera, camera, first, settings, seed=0)
    fewer = demo.view()
    keep = slice(0, 12)
    fewer.instances = dataclasses.replace(
        fewer.instances,
        mesh=fewer.instances.mesh[keep],
        transform=fewer.instances.transform[keep],
        look=fewer.instances.look[keep],
        key=fewer.instances.key[keep],
    )
    second = RenderProduct(0, 32, 24, "cpu")
    renderer.render(Scene.from_view(fewer), camera, camera, second, settings, seed=0)  # same camera
    alone = RenderProduct(0, 32, 24, "cpu")
    Renderer(32, 24).render(Scene.from_view(fewer), camera, camera, alone, settings, seed=0)
    assert (second["instance_id"].numpy() == alone["instance_id"].numpy()).all()
    assert not (second["instance_id"].numpy() == first["instance_id"].numpy()).all()
