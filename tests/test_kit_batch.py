"""The headless batch script, run against the STRICT RECORDING STAND-IN of omni.* (not Kit).

The script hands its coroutine to Kit's loop (``omni.kit.async_engine.run_coroutine``); the test runs
it, and the stand-in's orchestrator plays the frames through the attached writer.
"""

import pytest

import kit_standin
from backrooms.errors import UserError
from backrooms.io.mp4 import read_mp4
from kit_standin.batch import H, W, run_batch, start_batch

CAMERA = "/World/Camera"


@pytest.fixture
def batch(monkeypatch, tmp_path):
    return run_batch(monkeypatch, tmp_path)


def test_batch_seeds_replicator_and_opens_the_walk_stage_it_authored(batch, tmp_path):
    from pxr import Usd

    assert batch.called("rep.set_global_seed") == [((7,), {})]
    assert batch.called("omni.usd.UsdContext.open_stage") == [((str(tmp_path / "hallway.usda"),), {})]
    stage = Usd.Stage.Open(str(tmp_path / "hallway.usda"))
    assert (
        stage.GetPrimAtPath(CAMERA).GetAttribute("xformOp:transform").GetTimeSamples()[-1] == 12
    )  # frames 10, 11, 12


def test_batch_steps_the_timeline_through_each_frame_once(batch):
    assert batch.called("rep.trigger.on_frame")[-1] == ((), {"max_execs": 3})
    assert batch.called("rep.distribution.sequence") == [(([10, 11, 12],), {})]
    assert batch.called("rep.orchestrator.run_until_complete_async") == [((), {"num_frames": 3})]


def test_batch_writes_the_frames_and_clip_through_our_writer_then_quits(batch, tmp_path):
    folder = tmp_path / "Render_RenderProduct"
    assert sorted(p.name for p in (folder / "frames").iterdir()) == [
        "frame_000010.png",
        "frame_000011.png",
        "frame_000012.png",
    ]
    assert len(read_mp4(folder / "clip.mp4")) == 3
    (rp,) = batch.made("render_product")
    assert (rp.info["camera"], rp.info["resolution"]) == (CAMERA, (W, H))
    assert batch.called("rep.Writer.attach") == [(([rp],), {})]
    assert batch.called("rep.Writer.detach") and rp.released
    assert batch.called("omni.kit.app.IApp.post_quit") == [((), {})]


def test_batch_listens_for_the_reshuffle_event(batch):
    assert batch.called("rep.trigger.on_custom_event") == [((), {"event_name": "backrooms_reshuffle"})]


def test_a_batch_of_no_frame_rate_quits_kit_before_opening_a_stage(monkeypatch, tmp_path):
    rec = start_batch(monkeypatch, tmp_path, settings={"/exts/backrooms/fps": 0})
    with pytest.raises(UserError, match=r"/exts/backrooms/fps: 0\.0 is not a frame rate"):
        kit_standin.run_pending(rec)
    assert rec.called("omni.kit.app.IApp.post_quit") == [((1,), {})]
    assert not rec.called("omni.usd.UsdContext.open_stage")


def test_a_failed_render_still_quits_kit_with_an_error_code(monkeypatch, tmp_path):
    rec = start_batch(monkeypatch, tmp_path, settings={"/exts/backrooms/recipe": str(tmp_path / "none.toml")})
    with pytest.raises(UserError):
        kit_standin.run_pending(rec)
    assert rec.called("omni.kit.app.IApp.post_quit") == [((1,), {})]
