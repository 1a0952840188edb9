"""The pipelined executor: the frame traced ahead is kept while only knobs the trace did not read
change (a DAW automating the tape or the exposure), dropped when one it read changes, and either way
every frame has the bytes of a serial run."""

import warp as wp

from backrooms.graph.executor import PAUSE_AHEAD, Executor
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RGB
from backrooms.params import ParamStore
from backrooms.params.store import ReadLog

FRAMES = 20  # more than PAUSE_AHEAD: tracing ahead resumes inside the run


def _knobs(frame: int, haze_from: int | None) -> dict[str, float]:
    """Noise and exposure (applied after the trace) move every frame; the haze (a knob the trace
    reads) moves on three frames."""
    haze = 0.0 if haze_from is None else 0.05 * min(max(frame - haze_from + 1, 0), 3)
    return {"decay.noise": 1.0 + 0.25 * frame, "render.exposure": 0.1 * (frame % 5), "render.haze": haze}


def _run(pipeline: bool, haze_from: int | None) -> tuple[list[bytes], int]:
    """Frames played as live plays them: ``params_at`` answers with the knobs as they are now, so
    the frame traced ahead was traced with the previous frame's."""
    now = [ParamStore().snapshot()]
    context = GraphContext(3, 32, 24, 24.0, "cpu")
    executor = Executor(("render", "decay"), context, lambda _frame: now[0], pipeline=pipeline)
    frames = []
    for f in range(FRAMES):
        now[0] = ParamStore(values=_knobs(f, haze_from)).snapshot()
        frames.append(wp.to_torch(executor.render(f)[RGB]).numpy().tobytes())
    executor.close()
    return frames, executor.nodes[0].traces


def test_tape_and_exposure_automation_keep_the_frame_traced_ahead_with_the_bytes_of_a_serial_run():
    serial, serial_traces = _run(pipeline=False, haze_from=None)
    pipelined, traces = _run(pipeline=True, haze_from=None)
    assert pipelined == serial
    assert serial_traces == FRAMES
    assert traces == FRAMES + 1  # every frame traced once, plus the one after the last: none wasted


def test_a_traced_knob_that_moves_drops_the_frame_traced_ahead_and_pauses_tracing_ahead():
    serial, _ = _run(pipeline=False, haze_from=3)
    pipelined, traces = _run(pipeline=True, haze_from=3)
    assert pipelined == serial
    assert 3 + PAUSE_AHEAD < FRAMES
    # frame 3 twice (ahead: stale); frames 4 and 5 (also moving) only here, paused; ahead again later
    assert traces == FRAMES + 2


def test_the_read_log_notes_every_knob_read_however_it_was_read():
    log = ReadLog(ParamStore().snapshot())
    log["decay.noise"]
    log.get("decay.snow")
    log.get("test.absent")
    render = log.node("render")  # one node's values note only those read ...
    render["fov"]
    dict(log.node("world"))  # ... or all of them, when iterated
    assert {"decay.noise", "decay.snow", "test.absent", "render.fov", "world.variation"} <= log.read
    assert "render.exposure" not in log.read
    assert log.still_holds(ParamStore(values={"render.exposure": 1.0}).snapshot())
    assert not log.still_holds(ParamStore(values={"decay.noise": 2.0}).snapshot())
    list(log)
    assert not log.still_holds(ParamStore(values={"render.exposure": 1.0}).snapshot())
