"""Holding the live frame rate: the governor steps render.scale / diffusion.generate down when frames
run late and back up when there is room; a controller takes the knobs over; `backrooms live` records
the steps in its take."""

import hashlib
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from backrooms.control.clock import FrameClock
from backrooms.control.governor import (
    JUDGED,
    LADDER,
    LATE_AT_BOTTOM,
    SETTLE,
    UP_WINDOWS,
    FrameRateGovernor,
    window_frames,
)
from backrooms.control.inbox import Inbox
from backrooms.control.live import LiveLoop
from backrooms.control.tally import Tally
from backrooms.launch import cpu_cores
from backrooms.params import REGISTRY
from backrooms.params.automation import Recorder, load_automation
from backrooms.params.smoothing import Smoother
from backrooms.params.store import ParamStore

FPS = 24.0
BUDGET = 1.0 / FPS


def _start(level: int = 0) -> dict:
    return ParamStore(REGISTRY, dict(LADDER[level])).snapshot()


def _frames_until_change(governor: FrameRateGovernor, seconds: float, limit: int = 1000) -> tuple[int, dict]:
    """Feed frames of ``seconds`` until the governor proposes something: (frames fed, proposal)."""
    for n in range(1, limit + 1):
        governor.observe(seconds)
        proposal = governor.changes({})
        if proposal:
            return n, proposal
    return limit, {}


def _until_change_at(governor: FrameRateGovernor, cost: list[float], limit: int = 1000) -> tuple[int, dict]:
    """``_frames_until_change`` with each frame taking ``cost[step]`` budgets at the step held."""
    for n in range(1, limit + 1):
        governor.observe(cost[governor.level] * BUDGET)
        proposal = governor.changes({})
        if proposal:
            return n, proposal
    return limit, {}


def test_late_frames_step_down_the_ladder_one_judged_window_at_a_time():
    governor = FrameRateGovernor(FPS, _start())
    window = window_frames(FPS)
    cost = [2.0, 1.9, 1.8, 1.7, 1.6]  # each step faster, every one still late
    steps = []
    for _ in range(len(LADDER) - 1):
        fed, proposal = _until_change_at(governor, cost)
        steps.append((fed, proposal))
    # each step: the settling frames (kernel loads, new buffers) are not judged, then one window
    assert [fed for fed, _ in steps] == [SETTLE + window] * (len(LADDER) - 1)
    assert [proposal for _, proposal in steps] == list(LADDER[1:])
    assert governor.state() == f"{len(LADDER)}/{len(LADDER)}"
    assert _until_change_at(governor, cost, limit=200)[1] == {}  # nothing left to give


def test_the_lowest_step_still_late_asks_once_for_a_frame_more_of_latency():
    """At the last step a late window has no step left to take: after ``LATE_AT_BOTTOM`` of them in
    a row the governor asks the loop for one frame more of latency, once; a window on time between
    them starts the count again."""
    governor = FrameRateGovernor(FPS, _start(len(LADDER) - 1))
    window = window_frames(FPS)

    def frames(cost: float, count: int) -> list[bool]:
        asked = []
        for _ in range(count):
            governor.observe(cost * BUDGET)
            asked.append(governor.deeper())
        return asked

    def windows(cost: float, count: int) -> list[bool]:
        return frames(cost, count * window)

    assert not any(frames(1.5, SETTLE))  # the first frames are not judged
    assert not any(windows(1.5, LATE_AT_BOTTOM - 1))  # one window short
    assert not any(windows(0.9, 1))  # on time: the count starts again
    asked = windows(1.5, LATE_AT_BOTTOM + 4)
    assert asked.count(True) == 1
    assert asked.index(True) == LATE_AT_BOTTOM * window - 1  # at the end of the last late window
    assert governor.changes({}) == {}  # no step: the ladder is at its end
    assert not any(windows(3.0, 10))  # once a session


def test_a_step_down_that_is_no_faster_is_taken_back_and_the_ladder_ends_above_it(caplog):
    governor = FrameRateGovernor(FPS, _start(2))  # the defaults
    window = window_frames(FPS)
    cost = [2.0, 1.6, 1.3, 1.15, 1.16]  # as live played on the 2-core CPU: the last step buys nothing
    assert _until_change_at(governor, cost) == (SETTLE + window, LADDER[3])  # 1.3 -> 1.15: kept
    assert _until_change_at(governor, cost) == (SETTLE + window, LADDER[4])  # still late: one more
    # its first two windows are no faster than the one that called for it: taken back then
    assert _until_change_at(governor, cost) == (SETTLE + JUDGED * window, LADDER[3])
    assert "step 5/5 was no faster" in caplog.text
    # not tried again for UP_WINDOWS windows, then twice as long after each time it is taken back
    for wait in (UP_WINDOWS, 2 * UP_WINDOWS, 4 * UP_WINDOWS):
        assert _until_change_at(governor, cost) == (SETTLE + wait * window, LADDER[4])
        assert governor.state() == f"5/{len(LADDER)}"
        assert _until_change_at(governor, cost) == (SETTLE + JUDGED * window, LADDER[3])
        assert governor.state() == f"4/{len(LADDER)}"
    # a step down that helps, even a little, is kept; so is one whose first window was a stall
    helped = FrameRateGovernor(FPS, _start(3))
    assert _until_change_at(helped, [2.0, 1.6, 1.3, 1.2, 1.15]) == (SETTLE + window, LADDER[4])
    assert _until_change_at(helped, [2.0, 1.6, 1.3, 1.2, 1.15], limit=40 * window)[1] == {}
    stalled = FrameRateGovernor(FPS, _start(3))
    assert _until_change_at(stalled, cost) == (SETTLE + window, LADDER[4])
    for seconds in [1.3 * BUDGET] * window + [1.05 * BUDGET] * 40 * window:  # a slow window, then faster
        stalled.observe(seconds)
        assert stalled.changes({}) == {}
    assert stalled.state() == f"5/{len(LADDER)}"


def test_frames_on_time_without_room_change_nothing_and_a_spike_is_not_a_trend():
    governor = FrameRateGovernor(FPS, _start(1))
    window = window_frames(FPS)
    times = [0.9 * BUDGET] * 400
    times[50] = 10 * BUDGET  # one slow frame (a garbage collection, a disk stall): the median ignores it
    for seconds in times:
        governor.observe(seconds)
        assert governor.changes({}) == {}
    assert window < 50


def test_room_to_spare_steps_back_up_and_a_step_up_that_does_not_fit_doubles_the_wait():
    governor = FrameRateGovernor(FPS, _start(2))
    window = window_frames(FPS)
    fed, proposal = _frames_until_change(governor, 0.3 * BUDGET)
    assert proposal == LADDER[1]
    assert fed == SETTLE + UP_WINDOWS * window
    # the step up was too much: frames late at once -> back down, and twice the patience next time
    fed, proposal = _frames_until_change(governor, 2.0 * BUDGET)
    assert proposal == LADDER[2] and fed == SETTLE + window
    fed, proposal = _frames_until_change(governor, 0.3 * BUDGET)
    assert proposal == LADDER[1] and fed == SETTLE + 2 * UP_WINDOWS * window


def test_a_controller_setting_either_knob_takes_them_over():
    governor = FrameRateGovernor(FPS, _start())
    governor.changes({"decay.noise": 0.5})  # other knobs leave it alone
    assert governor.state() == f"1/{len(LADDER)}"
    assert governor.changes({"render.scale": 0.9}) == {}
    assert governor.state() == "off"
    assert _frames_until_change(governor, 5.0 * BUDGET, limit=300)[1] == {}


def test_a_recipe_off_the_ladder_is_left_alone():
    governor = FrameRateGovernor(FPS, ParamStore(REGISTRY, {"render.scale": 0.6}).snapshot())
    assert governor.state() == "off"
    assert _frames_until_change(governor, 5.0 * BUDGET, limit=300)[1] == {}


def test_the_live_loop_applies_the_steps_at_once_and_records_them(tmp_path):
    """A real loop, store, smoother (knobs glide over 1 s), inbox and recorder; no graph renders
    here, so each frame is reported to the governor as twice its budget (a labelled stand-in)."""
    store = ParamStore(REGISTRY, dict(LADDER[0]))
    start = store.snapshot()
    inbox = Inbox(start, FrameClock(FPS), Tally())
    take = tmp_path / "take.jsonl"
    recorder = Recorder(take, {}, start)
    governor = FrameRateGovernor(FPS, start)
    heard = []
    inbox.subscribe(heard.append)  # what the page and OSCQuery are told
    scales = []
    loop = LiveLoop(store, inbox, Smoother(REGISTRY, start, FPS, 1.0), lambda _f, s: None, recorder, governor)
    for _ in range(SETTLE + window_frames(FPS) + 2):
        scales.append(loop.step()["render.scale"])
        governor.observe(2.0 * BUDGET)  # stand-in: every frame took twice its budget
    recorder.close()
    step_frame = SETTLE + window_frames(FPS)
    assert scales[step_frame - 1] == 1.0 and scales[step_frame] == 0.75  # a jump, not a glide
    assert load_automation(take).params_at(step_frame)["render.scale"] == 0.75
    assert loop.stats()["quality"] == f"2/{len(LADDER)}"
    assert heard == [{"render.scale": 0.75, "diffusion.generate": 1}]
    assert inbox.target("render.scale") == 0.75


@pytest.mark.parametrize("hold", [True, False])
def test_backrooms_live_too_slow_for_its_rate_steps_down_in_its_take(tmp_path, hold):
    """The default graph at 320x240 cannot keep 48 fps on a CPU: with the rate held the take shows
    the steps; with ``--no-hold-fps`` the knobs stay where the recipe put them."""
    take = tmp_path / "take.jsonl"
    frames = SETTLE + window_frames(48) + 2
    command = [sys.executable, "-m", "backrooms.cli", "live", "--size", "320x240", "--fps", "48"]
    command += ["--frames", str(frames), "--record", str(take), "--osc-port", "0", "--oscquery-port", "0"]
    command += ["--no-preview", "--no-announce", "--hold-fps" if hold else "--no-hold-fps"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    assert ("frame rate held" in done.stdout) == hold
    # from the defaults (scale 0.75, generate 2) one step down; the terminal says why
    assert ("down to render.scale 0.5, diffusion.generate 2" in done.stderr) == hold
    replay = load_automation(take)
    assert replay.frames == frames
    last = replay.params_at(frames - 1)
    assert last["render.scale"] == (0.5 if hold else 0.75)
    assert last["diffusion.generate"] == 2


class _Pipelined:
    """A stand-in for a pipelined graph (labelled: no graph renders here): each call hands the
    frame's work to worker threads, one per core, each burning ``share`` of the frame's budget of
    CPU (hashing releases the GIL), and returns the frame started ``latency`` calls before, long
    done while the loop waited for its time."""

    latency = 2

    def __init__(self, share: float) -> None:
        self.share, self.cores = share, cpu_cores()
        self.pool = ThreadPoolExecutor(self.cores)
        self.jobs: list = []

    def _burn(self) -> None:
        block, began = bytes(1 << 16), time.thread_time()
        while time.thread_time() - began < self.share * BUDGET:
            hashlib.sha256(block)

    def __call__(self, frame, snapshot):
        self.jobs.append([self.pool.submit(self._burn) for _ in range(self.cores)])
        if len(self.jobs) <= self.latency:
            return None
        for job in self.jobs.pop(0):
            job.result()
        return np.zeros((2, 2, 4), np.uint8)


def test_a_pipelined_graph_busy_most_of_each_frame_is_not_stepped_up():
    """Paced, a pipelined render's step takes next to nothing: the governor must be told the CPU
    the frames cost (0.8 of the budget on every core here), or it would step up until frames run
    late, and back down, over and over."""
    store = ParamStore(REGISTRY, dict(LADDER[1]))
    start = store.snapshot()
    governor = FrameRateGovernor(FPS, start)
    render = _Pipelined(0.8)
    loop = LiveLoop(
        store,
        Inbox(start, FrameClock(FPS), Tally()),
        Smoother(REGISTRY, start, FPS, 0.0),
        render,
        None,
        governor,
    )
    levels = []
    loop.sinks.append(lambda *_: levels.append(governor.state()))
    loop.run(SETTLE + (UP_WINDOWS + 2) * window_frames(FPS))
    render.pool.shutdown()
    assert all(level != "1/5" for level in levels), levels  # never stepped up from step 2
