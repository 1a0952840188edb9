"""The tape's moments: a seekable event track, events fired live over OSC, replayed from a take."""

from __future__ import annotations

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from backrooms.control.session import LiveOptions, LiveSession
from backrooms.decay import events
from backrooms.decay.node import TAPE_EVENTS
from backrooms.graph.executor import Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.params import REGISTRY, ParamStore
from backrooms.params.automation import load_automation

W, H, FPS = 96, 64, 4.0  # a low frame rate covers many seconds of tape in few frames


def walkway() -> np.ndarray:
    """A small test picture with vertical and horizontal edges, so every event shows in it."""
    y, x = np.mgrid[0:H, 0:W]
    frame = np.full((H, W, 4), 255, dtype=np.uint8)
    frame[..., 0] = np.where((x // 8 + y // 8) % 2 == 0, 200, 60)
    frame[..., 1] = 150
    frame[..., 2] = (x * 2).astype(np.uint8)
    return frame


def tape(values: dict, seed: int = 3):
    """A decay-only graph over ``walkway()`` frames: (executor, frame -> (rgb bytes, tape events))."""
    store = ParamStore()
    store.update(values)
    snap = store.snapshot()
    executor = Executor(("decay",), GraphContext(seed, W, H, FPS, "cpu"), lambda _f: snap)

    def frame(n: int) -> tuple[np.ndarray, dict]:
        product = executor.render(n, {RGB: walkway()})
        return product[RGB].numpy().copy(), dict(product.meta[TAPE_EVENTS])

    return executor, frame


def only(name: str, rate: float) -> dict:
    values = {"decay.wear": 1.0, "decay.preset": "sp"}
    values |= {f"decay.{e}{events.RATE}": (rate if e == name else 0.0) for e in events.EVENTS}
    return values


@pytest.mark.parametrize("name", list(events.EVENTS))
def test_each_event_changes_exactly_the_frames_the_track_names(name: str):
    frames = range(48)  # 12 s of tape: every 4-s slot holds one event at the top rate
    _, with_event = tape(only(name, events.MAX_RATE))
    _, without = tape(only(name, 0.0))
    changed, listed = set(), set()
    for n in frames:
        (a, meta), (b, quiet) = with_event(n), without(n)
        assert quiet == {}
        if not np.array_equal(a, b):
            changed.add(n)
        if name in meta:
            listed.add(n)
            assert 0.0 < meta[name] <= 1.0
        assert set(meta) <= {name}
    expected = {n for n in frames if events.scheduled(3, name, events.MAX_RATE, n, FPS) is not None}
    assert listed == expected and changed == expected
    assert 3 <= len(expected) < len(frames)


def test_the_track_is_a_pure_function_of_seed_and_frame():
    values = {"decay.wear": 1.0} | {f"decay.{e}{events.RATE}": 6.0 for e in events.EVENTS}
    _, long_run = tape(values)
    run = [long_run(n) for n in range(40)]
    for n in (7, 23, 39):  # made alone, in a fresh graph
        _, alone = tape(values)
        rgb, meta = alone(n)
        assert np.array_equal(rgb, run[n][0]) and meta == run[n][1]
    assert any(meta for _, meta in run)


def test_no_wear_no_scheduled_events():
    _, frame = tape({f"decay.{e}{events.RATE}": events.MAX_RATE for e in events.EVENTS})
    assert all(frame(n)[1] == {} for n in range(40))


def bang(address: str) -> bytes:
    return OscMessageBuilder(address).build().dgram  # no argument: a bang steps a trigger


def test_fired_events_replay_byte_identically_from_the_take(tmp_path):
    take = tmp_path / "take.jsonl"
    sessions: list[LiveSession] = []
    current = {}  # the snapshot of the frame the live loop is rendering
    live_exec = Executor(("decay",), GraphContext(3, W, H, FPS, "cpu"), lambda _f: current["snapshot"])
    shown: dict[int, tuple[np.ndarray, dict]] = {}

    def render(frame, snapshot):
        current["snapshot"] = snapshot
        product = live_exec.render(frame, {RGB: walkway()})
        shown[frame] = (product[RGB].numpy().copy(), dict(product.meta[TAPE_EVENTS]))
        receiver = sessions[0].receiver
        if frame == 3:
            receiver.handle_packet(bang("/backrooms/decay/event/vertical_roll"))
            receiver.handle_packet(bang("/backrooms/decay/event/no_such_event"))
        if frame == 9:
            receiver.handle_packet(bang("/backrooms/decay/event/head_clog"))
        return product[RGB]

    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None, record=take)
    with LiveSession(REGISTRY, ParamStore().snapshot(), 200, render, options) as live:
        sessions.append(live)
        live.run(20)
        assert live.tally.counts().get("unknown_address") == 1  # counted, not crashed
    assert "vertical_roll" in shown[4][1] and "head_clog" in shown[10][1]
    assert "vertical_roll" not in shown[3][1] and shown[0][1] == {}

    automation = load_automation(take)
    replay = Executor(("decay",), GraphContext(3, W, H, FPS, "cpu"), automation.params_at)
    for n in range(20):
        product = replay.render(n, {RGB: walkway()})
        assert np.array_equal(product[RGB].numpy(), shown[n][0]) and product.meta[TAPE_EVENTS] == shown[n][1]


def test_a_seek_into_a_fired_event_matches_the_long_run():
    """--start/--shard: the executor replays the frames since a possible firing (render graph)."""
    from backrooms.graph.catalog import declare_all
    from backrooms.params.automation import Automation

    declare_all()
    fired = [(5, {"decay.event/vertical_roll": 1}), (6, {"decay.event/tape_crease": 1})]
    take = Automation("<test>", {}, REGISTRY.defaults(), fired, 16)
    nodes, context = ("render", "decay"), GraphContext(2, 64, 48, FPS, "cpu")

    def frames(executor: Executor, numbers) -> list[tuple[np.ndarray, dict]]:
        out = []
        for n in numbers:
            product = executor.render(n)
            out.append((product[RGB].numpy().copy(), dict(product.meta[TAPE_EVENTS])))
        return out

    long_run = frames(Executor(nodes, context, take.params_at), range(10))
    assert "vertical_roll" in long_run[6][1] and "tape_crease" in long_run[7][1]
    (rgb, meta), (want_rgb, want_meta) = frames(Executor(nodes, context, take.params_at), [7])[0], long_run[7]
    assert meta and meta == want_meta and np.array_equal(rgb, want_rgb)


def test_every_event_has_a_rate_knob_and_a_fire_address():
    for name in events.EVENTS:
        assert REGISTRY[f"decay.{name}{events.RATE}"].unit == "1/min"
        fire = REGISTRY[f"decay.{events.FIRE}{name}"]
        assert fire.kind == "trigger" and fire.osc_address == f"/backrooms/decay/event/{name}"
