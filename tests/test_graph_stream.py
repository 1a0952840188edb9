"""``Executor.stream``: the whole graph as an in-order pipeline of stages on their own threads gives
every frame the bytes of a serial ``render`` loop, keeps each product valid until the next is taken,
and raises a node's failure at its frame after the frames before it."""

import threading

import numpy as np
import pytest
import warp as wp

import backrooms.launch
from backrooms.graph.executor import Executor, contiguous_runs, stage_cuts, stage_groups
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.params import ParamStore

W, H = 64, 48


def _executor(pipeline: bool = True, cuts=None, flight=None, **values) -> Executor:
    recipe = load_recipe()
    snapshot = ParamStore(values={**recipe.params, **values}).snapshot()
    context = GraphContext(recipe.seed, W, H, recipe.fps, "cpu")
    return Executor(recipe.nodes, context, lambda _f: snapshot, pipeline=pipeline, cuts=cuts, flight=flight)


def _pixels(product) -> bytes:
    return wp.to_torch(product[RGB]).numpy().tobytes()


def _serial(frames, **values) -> dict[int, tuple[bytes, bytes]]:
    """A plain ``render`` loop without tracing ahead: the reference bytes (frame and audio)."""
    executor = _executor(pipeline=False, **values)
    out = {f: (_pixels(p := executor.render(f)), p.meta["audio"].tobytes()) for f in frames}
    executor.close()
    return out


def _streamed(frames, cuts=None, **values) -> dict[int, tuple[bytes, bytes]]:
    executor = _executor(cuts=cuts, **values)
    out = {p.frame: (_pixels(p), p.meta["audio"].tobytes()) for p in executor.stream(frames)}
    executor.close()
    return out


@pytest.mark.parametrize(("generate", "scale"), [(1, 1.0), (2, 1.0), (1, 0.5), (2, 0.5)])
def test_a_stream_has_the_bytes_of_a_serial_render_loop(generate, scale):
    knobs = {"diffusion.generate": generate, "render.scale": scale}
    serial = _serial(range(12), **knobs)
    assert _streamed(range(12), **knobs) == serial
    assert _streamed(range(7, 12), **knobs) == {f: serial[f] for f in range(7, 12)}  # --start 7
    assert len({pixels for pixels, _ in serial.values()}) == 12  # frames differ: the test can fail


def test_any_split_into_stages_has_the_same_bytes():
    serial = _serial(range(4, 10))
    for cuts in ([], [2], [3, 4]):
        assert _streamed(range(4, 10), cuts=cuts) == serial


def test_frames_with_gaps_seek_and_each_product_holds_until_the_next_is_taken():
    serial = _serial(range(10))
    executor = _executor()
    previous = None
    for product in executor.stream([0, 1, 2, 3, 4, 5, 8, 9]):
        if previous is not None:  # still the bytes it had when it was taken
            assert _pixels(previous[0]) == previous[1]
        assert _pixels(product) == serial[product.frame][0]
        previous = (product, _pixels(product))
    assert _pixels(executor.render(7)) == serial[7][0]  # a seek back after a stream
    executor.close()


def test_a_failing_node_raises_at_its_frame_after_the_frames_before_it():
    executor = _executor()
    decay = next(node for node in executor.nodes if node.kind == "decay")
    process, threads = decay.process, set()

    def failing(product, params):
        threads.add(threading.get_ident())
        if product.frame == 6:
            raise ValueError("broken tape at frame 6")
        process(product, params)

    decay.process = failing
    taken = []
    with pytest.raises(ValueError, match="frame 6"):
        for product in executor.stream(range(2, 12)):
            taken.append(product.frame)
    assert taken == [2, 3, 4, 5]
    assert len(threads) == 2  # the first frame on this thread, the others on decay's stage
    executor.close()


@pytest.mark.parametrize(("kind", "resets"), [("diffusion", 0), ("decay", 1)])
def test_frames_sent_after_a_failure_carry_on_where_every_node_stopped(kind, resets):
    """Live (``send`` / ``receive``, showing frame N when N + 2 is sent): a failure in the first
    node after the render leaves every node at the frame before it, so the next frame sent carries
    on from there; one further down the chain (the nodes before it went on) replays from the
    memory's reset. Either way the frames after it have a serial loop's bytes."""
    serial = _serial(range(14))
    executor = _executor(flight=3)
    node = next(n for n in executor.nodes if n.kind == kind)
    process, reset, failing_at, counted = node.process, node.reset, [8], []

    def failing(product, params):
        if product.frame in failing_at:
            raise ValueError(f"{kind} fails at frame {product.frame}")
        process(product, params)

    node.process, node.reset = failing, lambda: (counted.append(1), reset())
    shown = {}

    def play(frames):
        for frame in frames:
            executor.send(frame)
            if executor.under_way > 2:
                product = executor.receive()
                shown[product.frame] = _pixels(product)

    with pytest.raises(ValueError, match="frame 8"):
        play(range(3, 14))
    assert sorted(shown) == [3, 4, 5, 6, 7]  # frame 8 failed when 10 was sent
    failing_at.clear()
    counted.clear()  # the first frame's seek
    play(range(10, 14))  # the loop carries on with frame 10; 8 and 9 are run, not shown
    assert sorted(shown) == [3, 4, 5, 6, 7, 10, 11]
    assert all(shown[f] == serial[f][0] for f in shown)
    assert len(counted) == resets
    executor.close()


def test_stages_and_runs():
    kinds = load_recipe().nodes
    assert stage_groups(len(kinds), stage_cuts(kinds)) == [range(1, 2), range(2, 3), range(3, 4), range(4, 5)]
    assert stage_groups(5, [3]) == [range(1, 3), range(3, 5)]
    assert stage_groups(1, []) == [range(1, 1)]  # the render alone: its finish behind its trace
    assert list(contiguous_runs([3, 4, 5, 9, 10, 2])) == [(3, 6), (9, 11), (2, 3)]
    assert np.array_equal(list(contiguous_runs([])), [])


def test_a_take_that_fails_at_a_frame_raises_there_after_the_frames_before_it():
    recipe = load_recipe()
    snapshot = ParamStore(values=recipe.params).snapshot()

    def params_at(frame):
        if frame == 5:
            raise ValueError("no knob values for frame 5")
        return snapshot

    executor = Executor(recipe.nodes, GraphContext(recipe.seed, W, H, recipe.fps, "cpu"), params_at)
    taken = []
    with pytest.raises(ValueError, match="frame 5"):
        for product in executor.stream(range(1, 9)):
            taken.append(product.frame)
    assert taken == [1, 2, 3, 4]
    executor.close()


def test_stages_launch_their_kernels_as_one_band_on_their_own_thread(monkeypatch):
    """The nodes after the render run beside other stages: their bands would only wait for a core
    (``launch.one_band``); a serial loop still splits them over the cores."""
    names, launch = set(), wp.launch

    def recorded(*args, **kwargs):
        names.add(threading.current_thread().name.split("_")[0])
        return launch(*args, **kwargs)

    monkeypatch.setattr(backrooms.launch.wp, "launch", recorded)
    knobs = {"diffusion.generate": 2, "render.scale": 0.5}
    _serial(range(4), **knobs)
    assert {"generate", "camcorder", "vhs"} <= names  # the nodes' band threads
    executor = _executor(**knobs)
    for product in executor.stream(range(6)):
        if product.frame == 0:  # run wholly on this thread (and the next one traced ahead meanwhile)
            names.clear()
    executor.close()
    assert "stage-0" in names and not names & {"generate", "camcorder", "vhs"}
    executor = _executor(**knobs)  # ``render`` (``backrooms live``): the nodes beside the trace ahead
    executor.render(0)
    names.clear()
    for frame in range(1, 4):
        executor.render(frame)
    executor.close()
    assert "MainThread" in names and not names & {"generate", "camcorder", "vhs"}
