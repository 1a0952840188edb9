"""The headless batch script's wiring, run against the RECORDING STAND-IN of omni.* (not Kit)."""

import runpy
import sys
from pathlib import Path

import pytest

import kit_standin

BATCH = Path(__file__).resolve().parents[1] / "exts" / "backrooms" / "kit" / "batch.py"
CAMERA = "/World/Camera"


@pytest.fixture
def batch(monkeypatch, tmp_path):
    rec = kit_standin.install(monkeypatch)
    from backrooms.kit import hallway, writer

    writer.register()  # the enabled extension has done these before Kit runs the script
    hallway.register()
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


def test_batch_seeds_replicator_and_opens_the_walk_stage_it_authored(batch, tmp_path):
    from pxr import Usd

    assert batch.called("rep.set_global_seed") == [((7,), {})]
    assert batch.called("omni.usd.open_stage") == [((str(tmp_path / "hallway.usda"),), {})]
    stage = Usd.Stage.Open(str(tmp_path / "hallway.usda"))
    assert (
        stage.GetPrimAtPath(CAMERA).GetAttribute("xformOp:transform").GetTimeSamples()[-1] == 12
    )  # frames 10, 11, 12


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
