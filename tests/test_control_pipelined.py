"""`backrooms live` pipelined: the loop starts frame N + 2 while it shows frame N, and what it shows
is what a take of the session replays.

A real loop, store, smoother, inbox, recorder and graph (render -> diffusion -> camcorder -> decay
at a small size); knob changes come in through the inbox while it plays, sent by a sink when it is
shown a given frame (so they land at fixed frames), and the take is rendered again by a plain
serial executor.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from backrooms.control.beat import ahead
from backrooms.control.clock import FrameClock
from backrooms.control.inbox import Inbox
from backrooms.control.live import LiveLoop
from backrooms.control.session import LATENCY, GraphFrames
from backrooms.control.tally import Tally
from backrooms.graph.executor import Executor
from backrooms.graph.product import RGB
from backrooms.graph.recipe import load_recipe
from backrooms.params import REGISTRY, ParamStore
from backrooms.params.automation import Recorder, load_automation
from backrooms.params.smoothing import Smoother

FRAMES = 14
# sent when the sink is shown frame k: a tape knob that glides, a render knob the trace reads
# (the frame traced ahead is dropped), and a discrete one
SENT_AT = {2: {"decay.tracking": 0.9}, 4: {"render.flicker": 0.8, "decay.preset": "ep"}}


class _DeepenAt:
    """Stands in for the frame-rate governor's decision (labelled: ``test_control_governor`` tests
    when it asks): a frame more of latency, asked for at the start of frame ``at``."""

    def __init__(self, at: int, loop_frame) -> None:
        self.at, self.loop_frame = at, loop_frame

    def changes(self, _sent):
        return {}

    def deeper(self) -> bool:
        return self.loop_frame() == self.at

    def observe(self, _seconds) -> None:
        pass

    def state(self) -> str:
        return "held"


def _play(recipe, take, deepen_at: int | None = None):
    """Play ``FRAMES`` live, sending ``SENT_AT``; (the graph, the loop, [(frame shown, frame started
    then, its bytes)] in the order shown). ``deepen_at``: the frame that starts a frame more latency."""
    frames = GraphFrames(recipe, sound=False)
    store = ParamStore(REGISTRY, dict(recipe.params))
    start = store.snapshot()
    inbox = Inbox(start, FrameClock(recipe.fps, frames.latency), Tally())
    loop = LiveLoop(
        store, inbox, Smoother(REGISTRY, start, recipe.fps, 0.1), frames, Recorder(take, {}, start)
    )
    if deepen_at is not None:
        loop.governor = _DeepenAt(deepen_at, lambda: loop.frame)
    shown: list[tuple[int, int, bytes]] = []

    def sink(frame, rgb, snapshot):
        shown.append((frame, loop.frame, np.array(rgb.numpy()).tobytes()))  # loop.frame: the frame started
        inbox.submit(SENT_AT.get(frame, {}))

    loop.sinks.append(sink)
    loop.run(FRAMES)
    frames.executor.close()
    return frames, loop, shown


def _replayed(recipe, frames, take) -> dict[int, bytes]:
    """Every frame of the take rendered again by a plain serial executor."""
    serial = Executor(
        tuple(recipe.nodes), frames.executor.context, load_automation(take).params_at, pipeline=False
    )
    return {f: np.array(serial.render(f)[RGB].numpy()).tobytes() for f in range(FRAMES)}


def test_live_shows_each_frame_two_frames_late_with_the_bytes_its_take_replays(tmp_path):
    recipe = load_recipe(None).with_overrides(width=64, height=48)
    take = tmp_path / "take.jsonl"
    frames, _, shown = _play(recipe, take)
    assert frames.latency == LATENCY == 2  # pipelined (a graph without stages has none)
    assert [frame for frame, _, _ in shown] == list(range(FRAMES))  # the last ones after the loop ended
    assert [started - frame for frame, started, _ in shown][: FRAMES - LATENCY] == [LATENCY] * (
        FRAMES - LATENCY
    )
    automation = load_automation(take)
    assert automation.params_at(FRAMES - 1)["decay.preset"] == "ep"  # the changes are in the take
    replayed = _replayed(recipe, frames, take)
    changed = [f for f in range(1, FRAMES) if replayed[f] != replayed[f - 1]]
    assert changed  # the knobs moved the picture
    assert all(rgb == replayed[f] for f, _, rgb in shown), [f for f, _, rgb in shown if rgb != replayed[f]]


def test_a_loop_that_deepens_mid_take_shows_every_frame_once_in_order_with_its_bytes(tmp_path):
    """Frame 6 starts with a frame more under way: nothing new is shown while it starts, every
    frame is still shown once and in order, three frames late from then on, with the bytes a
    replay of the take renders; the clock names frames for timetags with the new latency."""
    recipe = load_recipe(None).with_overrides(width=64, height=48)
    take = tmp_path / "take.jsonl"
    frames, loop, shown = _play(recipe, take, deepen_at=6)
    assert [frame for frame, _, _ in shown] == list(range(FRAMES))
    lag = {frame: started - frame for frame, started, _ in shown[: FRAMES - frames.latency]}
    assert lag == {f: LATENCY if f < 4 else LATENCY + 1 for f in lag}, lag
    assert frames.latency == loop.latency == loop.clock.latency == LATENCY + 1
    assert not frames.deepen() and frames.latency == LATENCY + 1  # one frame more, no further
    replayed = _replayed(recipe, frames, take)
    assert all(rgb == replayed[f] for f, _, rgb in shown)


def test_a_timetag_names_the_frame_shown_at_its_instant():
    plain, piped = FrameClock(24.0), FrameClock(24.0, latency=2)
    when = time.time() + 1.0
    assert plain.frame_for(when) - piped.frame_for(when) in (2, 3)  # the two clocks started apart


def test_the_beat_a_frame_follows_is_the_one_heard_when_it_is_shown():
    now = {"tempo": 120.0, "beat": 7.9, "phase": 3.9, "peers": 1}
    later = ahead(now, 2 / 24, 4.0)  # two frames at 24 fps: 1/6 of a beat at 120 BPM
    assert later["beat"] == pytest.approx(7.9 + 1 / 6) and later["phase"] == pytest.approx(
        (3.9 + 1 / 6) % 4.0
    )
    assert later["tempo"] == 120.0
