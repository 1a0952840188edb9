"""The performer's readout: dropped frames and achieved fps from the loop's own clock, and the knobs
grouped by node with the most-played first."""

import time

from backrooms.control.clock import FrameClock
from backrooms.control.live import achieved_fps
from backrooms.control.preview import MOST_PLAYED, knob_groups, tape_events
from backrooms.params import REGISTRY


def test_a_frame_that_overruns_by_two_and_a_half_slots_drops_two_frames():
    clock = FrameClock(24)
    t0 = time.perf_counter() + 3.0
    clock.begin(0, t0)  # frame 0 sets the schedule, however late it starts ...
    clock.begin(1, t0 + 2.0)  # ... and loads the kernels: the slots it took are not counted
    clock.begin(2, t0 + 2.0 + 1 / 24 + 0.004)  # a little late: nothing dropped
    assert clock.dropped == 0
    clock.begin(3, t0 + 2.0 + 2 / 24 + 2.5 / 24)
    assert clock.dropped == 2
    clock.begin(4, t0 + 2.0 + 5.5 / 24)  # on the slipped schedule: on time
    assert clock.dropped == 2


def test_achieved_fps_counts_frame_starts_of_the_last_two_seconds():
    starts = [10.0 + i / 20 for i in range(100)]  # 20 fps for five seconds
    assert abs(achieved_fps(starts, now=10.0 + 99 / 20) - 20.0) < 1e-9
    assert achieved_fps(starts, now=20.0) == 0.0  # stalled: no frame for five seconds


def test_every_knob_is_listed_once_with_the_most_played_on_top():
    groups = knob_groups(REGISTRY)
    listed = [key for g in groups for key in g["played"] + g["more"]]
    events = tape_events(REGISTRY)
    assert sorted(listed + events) == sorted(p.key for p in REGISTRY)
    assert len(events) == 7 and all(key.startswith("decay.event/") for key in events)
    assert [g["node"] for g in groups][: len(MOST_PLAYED)] == list(MOST_PLAYED)
    for group in groups:
        assert group["played"] == [f"{group['node']}.{name}" for name in MOST_PLAYED[group["node"]]]


def test_the_most_played_table_names_only_real_knobs():
    for node, names in MOST_PLAYED.items():
        for name in names:
            assert f"{node}.{name}" in REGISTRY, f"{node}.{name}"
