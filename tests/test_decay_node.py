"""DecayNode in the graph: in-place on the render product, stateless, knobs in the registry."""

from __future__ import annotations

import numpy as np

from backrooms.decay.node import DecayNode
from backrooms.graph.catalog import CATALOG
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB, RenderProduct
from backrooms.params import REGISTRY, ParamStore


def product(frame: int = 3) -> RenderProduct:
    p = RenderProduct(frame, 96, 64, "cpu")
    rgb = np.zeros((64, 96, 4), dtype=np.uint8)
    rgb[..., 0], rgb[..., 3] = 200, 77
    p.allocate(RGB).assign(rgb)
    return p


def test_the_catalog_names_decay_node():
    assert CATALOG.node_class("decay") is DecayNode


def test_node_degrades_rgb_in_place_and_keeps_alpha():
    p = product()
    buffer = p[RGB]
    DecayNode(GraphContext(1, 96, 64, 30.0, "cpu")).process(p, ParamStore().snapshot())
    out = p[RGB].numpy()
    assert p[RGB] is buffer
    assert (out[..., 3] == 77).all()
    assert np.abs(out[..., :3].astype(int) - [200, 0, 0]).mean() > 2.0


def test_node_is_stateless():
    node = DecayNode(GraphContext(1, 96, 64, 30.0, "cpu"))
    params = ParamStore().snapshot()
    assert node.history(17, params) == 17
    a, b = product(8), product(8)
    node.process(a, params)
    node.process(product(9), params)
    node.process(b, params)
    assert np.array_equal(a[RGB].numpy(), b[RGB].numpy())


def test_every_effect_is_a_registry_knob_with_an_osc_address():
    names = {p.name for p in REGISTRY.for_node("decay")}
    assert {
        "preset",
        "noise",
        "seed",
        "bleed",
        "snow",
        "tracking",
        "edge_wave",
        "generations",
        "osd",
    } <= names
    assert REGISTRY["decay.noise"].osc_address == "/backrooms/decay/noise"


def test_adversarial_mode_changes_the_frame_reproducibly():
    store = ParamStore()
    store.update({"decay.adversarial": 8.0, "decay.noise": 0.0})
    plain = ParamStore()
    plain.update({"decay.noise": 0.0})
    node = DecayNode(GraphContext(1, 96, 64, 30.0, "cpu"))
    a, b, c = product(), product(), product()
    node.process(a, store.snapshot())
    node.process(b, store.snapshot())
    node.process(c, plain.snapshot())
    assert np.array_equal(a[RGB].numpy(), b[RGB].numpy())
    assert not np.array_equal(a[RGB].numpy(), c[RGB].numpy())
