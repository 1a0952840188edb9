"""The headless batch script's wiring, run against the RECORDING STAND-IN of omni.* (not Kit)."""

import runpy
import sys
from pathlib import Path

import pytest

import kit_standin

BATCH = Path(__file__).resolve().parents[1] / "exts" / "backrooms" / "kit" / "batch.py"
CAMERA = "/World/Walk/Camera"
authored = []


def write_walk_stage(path, seed, start, frames, fps, params):
    """STAND-IN for backrooms.world.stage.write_walk_stage (not written yet): records, writes nothing."""
    authored.append({"path": Path(path), "seed": seed, "start": start, "frames": frames, "fps": fps})
    return CAMERA


@pytest.fixture
def batch(monkeypatch, tmp_path):
    rec = kit_standin.install(monkeypatch)
    from backrooms.kit import hallway, refs, writer

    monkeypatch.setitem(refs.EXPECTED, "write_walk_stage", f"{__name__}:write_walk_stage")
    monkeypatch.setitem(refs.EXPECTED, "cell_pattern", "kit_standin:CELL_PATTERN")
    writer.register()  # the enabled extension has done these before Kit runs the script
    hallway.register()
    authored.clear()
    argv = [
        str(BATCH),
        "--frames",
        "3",
        "--start",
        "10",
        "--seed",
        "7",
        "--out",
        str(tmp_path),
        "--size",
        "64x48",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    runpy.run_path(str(BATCH), run_name="__main__")
    return rec


def test_batch_seeds_replicator_and_authors_the_walk_for_the_requested_frames(batch, tmp_path):
    assert batch.called("rep.set_global_seed") == [((7,), {})]
    assert authored == [{"path": tmp_path / "hallway.usda", "seed": 7, "start": 10, "frames": 3, "fps": 24.0}]
    assert batch.called("omni.usd.open_stage") == [((str(tmp_path / "hallway.usda"),), {})]


def test_batch_steps_the_timeline_through_each_frame_once(batch):
    assert batch.called("rep.trigger.on_frame")[-1] == ((), {"max_execs": 3})
    assert batch.called("rep.distribution.sequence") == [(([10, 11, 12],), {})]
    assert batch.called("rep.orchestrator.run_until_complete") == [((), {"num_frames": 3})]


def test_batch_renders_the_walk_camera_through_our_writer_and_releases_it(batch, tmp_path):
    (rp,) = batch.made("render_product")
    assert (rp.info["camera"], rp.info["resolution"]) == (CAMERA, (64, 48))
    ((args, _),) = batch.called("writer.attach")
    assert args[0] == "BackroomsWriter" and args[1][0] is rp
    assert batch.called("writer.detach") and rp.released
    assert batch.called("app.post_quit")


def test_batch_listens_for_the_reshuffle_event(batch):
    assert batch.called("rep.trigger.on_custom_event") == [((), {"event_name": "backrooms_reshuffle"})]
