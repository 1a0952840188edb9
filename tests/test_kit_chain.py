"""The Kit-free half of the Kit adapter: annotator frames -> our post-render nodes (real Warp, no Kit)."""

import numpy as np
import pytest
import warp as wp

from backrooms.graph.catalog import CATALOG
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext, Node
from backrooms.graph.product import DEPTH, NORMALS, RGB
from backrooms.kit import live
from backrooms.kit.chain import annotator_aovs
from backrooms.params import ParamStore

W, H = 32, 24


def frame(value: int) -> np.ndarray:
    rgba = np.full((H, W, 4), value, np.uint8)
    rgba[..., 3] = 255
    return rgba


class Brighten(Node):
    """A real node for chain tests: adds 10 to rgb and remembers what it saw."""

    kind = "brighten"

    def __init__(self, context):
        super().__init__(context)
        self.resets = 0

    def reset(self):
        self.resets += 1

    def process(self, product, params):
        product[RGB].assign(wp.array(product[RGB].numpy() + 10, dtype=wp.uint8, device=product.device))


def chain(kinds, params, seed=3, device="cpu", catalog=CATALOG):
    return Executor(kinds, GraphContext(seed, W, H, 24.0, device), lambda _frame: params, catalog)


@pytest.fixture(scope="module")
def params():
    return ParamStore().snapshot()


def test_annotator_names_map_to_aovs_and_payload_dicts_are_unwrapped():
    rgb, depth = frame(1), np.ones((H, W), np.float32)
    aovs = annotator_aovs({"LdrColor": {"data": rgb, "info": {}}, "distance_to_camera": depth, "bbox": 3})
    assert set(aovs) == {RGB, DEPTH}
    assert aovs[RGB] is rgb and aovs[DEPTH] is depth


def test_chain_copies_frames_so_reused_annotator_buffers_cannot_change_them(params):
    source = frame(50)
    product = chain((), params).render(0, {RGB: source})
    source[:] = 0  # Replicator reuses zero-copy buffers on the next frame
    assert product[RGB].numpy()[0, 0, 0] == 50


def test_chain_reshapes_single_channel_depth_and_pads_three_channel_normals(params):
    depth = np.full((H, W, 1), 2.5, np.float32)
    normals = np.ones((H, W, 3), np.float32)
    product = chain((), params).render(0, {DEPTH: depth, NORMALS: normals})
    assert product[DEPTH].shape == (H, W) and float(product[DEPTH].numpy()[3, 4]) == 2.5
    assert product[NORMALS].numpy()[0, 0].tolist() == [1.0, 1.0, 1.0, 0.0]


def test_chain_refuses_a_frame_of_another_size(params):
    with pytest.raises(ValueError, match=r"\(16, 16, 4\)"):
        chain((), params).render(0, {RGB: np.zeros((16, 16, 4), np.uint8)})


def test_chain_runs_its_nodes_and_resets_them_only_when_frames_jump(params):
    brighten = chain(("brighten",), params, catalog=CATALOG.with_nodes(brighten=f"{__name__}:Brighten"))
    out = [brighten.render(f, {RGB: frame(100)})[RGB].numpy()[0, 0, 0] for f in (0, 1, 2, 7)]
    assert out == [110] * 4
    assert brighten.nodes[0].resets == 2  # before frame 0 and before the jump to 7


def test_real_decay_node_corrupts_each_frame_differently_and_reproducibly(params):
    decay = chain(("decay",), params)
    first = decay.render(5, {RGB: frame(128)})[RGB].numpy().copy()
    second = decay.render(6, {RGB: frame(128)})[RGB].numpy().copy()
    again = chain(("decay",), params)
    assert not np.array_equal(first, frame(128))
    assert not np.array_equal(first, second)
    assert np.array_equal(again.render(5, {RGB: frame(128)})[RGB].numpy(), first)


def test_augmentation_passes_frames_through_without_a_live_session():
    live.unbind()
    data = frame(9)
    assert live.decay_augmentation(data, seed=0) is data


def test_augmentation_applies_the_decay_node_with_the_session_params(params):
    session = live.LiveSession(ParamStore(), seed=3, fps=24.0)
    live.bind(session)
    try:
        out = live.decay_augmentation(frame(128), seed=3)
    finally:
        live.unbind()
    reference = chain(("decay",), params)
    assert isinstance(out, np.ndarray)
    assert np.array_equal(out, reference.render(0, {RGB: frame(128)})[RGB].numpy())


def test_augmentation_returns_a_warp_array_on_the_device_it_was_given(params):
    live.bind(live.LiveSession(ParamStore(), seed=3, fps=24.0))
    try:
        out = live.decay_augmentation(wp.array(frame(128), dtype=wp.uint8, device="cpu"), seed=3)
    finally:
        live.unbind()
    assert isinstance(out, wp.array) and str(out.device) == "cpu"
    assert not np.array_equal(out.numpy(), frame(128))


@pytest.mark.gpu
def test_cuda_annotator_frames_are_decayed_without_leaving_the_gpu(params):
    source = wp.array(frame(128), dtype=wp.uint8, device="cuda")
    product = chain(("decay",), params, device="cuda").render(4, {RGB: source})
    assert product[RGB].device.is_cuda
    assert not np.array_equal(product[RGB].numpy(), frame(128))
