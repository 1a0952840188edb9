"""Shards in one process: the split, the warm-start, and the per-shard bookkeeping of the output folder."""

import json
import re
import time

import pytest

from backrooms.batch import job_record, render_clip, render_one_shard
from backrooms.cli import main
from backrooms.errors import UserError
from backrooms.io.manifest import PartLog, frame_file, job_key, replay_progress
from backrooms.io.mp4 import read_mp4
from backrooms.scale.engine import make_engine
from backrooms.scale.local import InProcessEngine
from backrooms.scale.progress import PartCounter, shard_progress
from backrooms.scale.shard import FixedParams, Shard, ShardJob, plan_shards, render_shard
from scale_nodes import tape_recipe

PARAMS = FixedParams({})


def frames_of(out):
    return {p.name: p.read_bytes() for p in sorted((out / "frames").glob("*"))}


def log_of(out, shard, frames=24):
    """The part log a shard of the tape render writes."""
    return PartLog(out, f"{job_key(job_record(tape_recipe(frames), PARAMS.snapshot, 0))}_{shard}")


def render(out, engine=None, frames=24, resume=False):
    return render_clip(
        tape_recipe(frames), PARAMS.snapshot, out, resume=resume, progress=False, engine=engine
    )


def test_shards_cover_every_frame_once_in_contiguous_nearly_equal_runs():
    frames = [*range(3, 13), *range(20, 27)]
    shards = plan_shards(frames, 4)
    assert [s.frames for s in shards] == [(3, 4, 5, 6), (7, 8, 9, 10), (11, 12, 20, 21), (22, 23, 24, 25, 26)]
    assert len(plan_shards(frames[:2], 8)) == 2


def test_cuts_move_to_where_the_temporal_state_restarts_when_that_saves_work():
    restarts_every_16 = lambda f: f - f % 16  # noqa: E731
    assert [s.frames[0] for s in plan_shards(range(48), 4)] == [0, 12, 24, 36]
    # frames rendered + replayed per shard: 12+0, 12+12, 12+8, 12+4 -> 16+0, 8+8, 12+8, 12+4
    assert [s.frames[0] for s in plan_shards(range(48), 4, restarts_every_16)] == [0, 16, 24, 36]


def test_shards_starting_mid_period_warm_start_to_the_same_bytes(tmp_path):
    render(tmp_path / "one")
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    job = ShardJob(tape_recipe(24), PARAMS, out, job_key(job_record(tape_recipe(24), PARAMS.snapshot, 0)))
    for first, end in ((13, 24), (0, 5), (5, 13)):  # 5 and 13 are mid-period: their shards replay
        render_shard(job, Shard(tuple(range(first, end))))
    render(out, resume=True)
    assert frames_of(out) == frames_of(tmp_path / "one")
    assert len(frames_of(out)) == 24


def test_a_shard_says_how_far_its_seek_has_replayed_and_leaves_no_replay_file(tmp_path, monkeypatch):
    told = []
    real = PartLog.replaying

    def replaying(log, done, total):
        real(log, done, total)
        told.append((done, total, log.replay.read_text() if log.replay.exists() else None))

    monkeypatch.setattr(PartLog, "replaying", replaying)
    key = job_key(job_record(tape_recipe(24), PARAMS.snapshot, 0))
    (tmp_path / "frames").mkdir()
    render_shard(ShardJob(tape_recipe(24), PARAMS, tmp_path, key), Shard(tuple(range(13, 24))))
    # frames 8..12 replayed (the tape's state restarts at 8), then the shard's end says it again
    assert told == [*((d, 5, f"{d} 5\n") for d in range(5)), (5, 5, None), (0, 0, None)]
    assert not list((tmp_path / "parts").glob("*.replay"))


def test_the_bar_shows_the_replay_of_this_jobs_shards_only(tmp_path, capsys):
    PartLog(tmp_path, "job1_shard_000000").replaying(3, 10)
    PartLog(tmp_path, "job1_shard_000020").replaying(1, 4)
    PartLog(tmp_path, "job2_shard_000000").replaying(5, 9)
    (tmp_path / "parts" / "job1_shard_000030.replay").write_text("")  # caught while rewritten
    assert replay_progress(tmp_path, "job1") == (4, 14)
    with shard_progress(tmp_path, "job1", 30, 0):
        time.sleep(0.6)
    assert "catching up 4/14" in capsys.readouterr().err
    render(tmp_path, frames=2)  # a fresh render into the folder drops replay files left by a kill
    assert not list((tmp_path / "parts").glob("*.replay"))


def test_the_bars_rate_counts_frames_as_they_arrive_not_the_wait_before(tmp_path, capsys):
    log = PartLog(tmp_path, "job1_shard_000000")
    with shard_progress(tmp_path, "job1", 20, 0):
        time.sleep(1.5)  # the start-up and a seek: no frame
        for frame in range(10):
            log.append(frame, 0.01)
        time.sleep(0.6)
    rates = [float(r) for r in re.findall(r"([0-9.]+)frame/s", capsys.readouterr().err)]
    # while frames come: 10 within a poll (over the wait as well: under 7); the closing line is
    # tqdm's average over the whole run, the wait included
    assert len(rates) > 1 and max(rates[:-1]) > 15 and rates[-1] < 7


def test_a_sharded_render_plans_cuts_from_the_recipes_nodes(tmp_path):
    render(tmp_path / "one")
    render(tmp_path / "five", InProcessEngine(shards=5))
    assert frames_of(tmp_path / "five") == frames_of(tmp_path / "one")


def test_join_writes_manifest_and_clip_once_and_leaves_no_part_logs(tmp_path):
    out = tmp_path / "out"
    render(out, InProcessEngine(shards=3))
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(int(f) for f in manifest["frames"]) == list(range(24))
    assert manifest["video"] == "clip.mp4"
    assert len(read_mp4(out / "clip.mp4")) == 24
    assert not list((out / "parts").glob("*"))
    assert {p.name for p in out.iterdir()} == {".lock", "clip.mp4", "frames", "manifest.json", "parts"}


def test_resume_keeps_frames_logged_by_shards_and_renders_only_the_rest(tmp_path):
    out = tmp_path / "out"
    render(out)
    log_of(out, "shard_000000").append(3, 0.1)  # as a killed run would leave them: logs, no join
    log_of(out, "shard_000012").append(12, 0.1)
    keep = {f: (out / frame_file(f)).stat().st_mtime_ns for f in (3, 12)}
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["frames"] = {}
    (out / "manifest.json").write_text(json.dumps(manifest))
    render(out, resume=True)
    assert {f: (out / frame_file(f)).stat().st_mtime_ns for f in (3, 12)} == keep
    assert (out / frame_file(4)).stat().st_mtime_ns > keep[3]


def test_a_torn_last_line_of_a_part_log_is_ignored(tmp_path):
    log = PartLog(tmp_path, "shard_000000")
    log.append(0, 0.5)
    with log.path.open("a") as f:
        f.write('{"frame": 1, "fi')
    assert list(log.read()) == [0]


def test_a_fresh_render_drops_part_logs_of_an_earlier_render(tmp_path):
    render(tmp_path / "clean", frames=8)
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    (out / frame_file(5)).write_bytes(b"frame 5 of another render")
    log_of(out, "shard_000000", frames=8).append(5, 0.1)
    render(out, frames=8)
    assert frames_of(out) == frames_of(tmp_path / "clean")


def test_resume_never_absorbs_part_logs_of_another_job(tmp_path):
    render(tmp_path / "clean", frames=8)
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    (out / frame_file(5)).write_bytes(b"frame 5 of a 9-frame render")
    log_of(out, "shard_000000", frames=9).append(5, 0.1)
    render(out, frames=8, resume=True)
    assert frames_of(out) == frames_of(tmp_path / "clean")


def test_farm_shard_tasks_then_a_resume_join_without_rendering_again(tmp_path):
    render(tmp_path / "one")
    out = tmp_path / "out"
    done = [render_one_shard(tape_recipe(24), PARAMS.snapshot, out, (i, 3)) for i in (2, 3, 1)]
    assert done == [8, 8, 8]
    rendered = {p.name: p.stat().st_mtime_ns for p in (out / "frames").iterdir()}
    render(out, resume=True)
    assert {p.name: p.stat().st_mtime_ns for p in (out / "frames").iterdir()} == rendered
    assert frames_of(out) == frames_of(tmp_path / "one")


def test_resume_with_other_per_frame_parameters_is_refused(tmp_path):
    take = FixedParams({"test.take": 1})
    render_clip(tape_recipe(4), PARAMS.snapshot, tmp_path, params_at=take, progress=False)
    other = FixedParams({"test.take": 2})
    with pytest.raises(UserError, match="params_at differ"):
        render_clip(tape_recipe(4), PARAMS.snapshot, tmp_path, resume=True, params_at=other, progress=False)


def test_progress_counts_frames_of_every_shard_of_this_job_only(tmp_path):
    counter = PartCounter(tmp_path, "job1")
    PartLog(tmp_path, "job1_shard_000000").append(0, 0.1)
    PartLog(tmp_path, "job1_shard_000010").append(10, 0.1)
    PartLog(tmp_path, "job2_shard_000000").append(0, 0.1)
    assert counter.count() == 2
    PartLog(tmp_path, "job1_shard_000000").append(1, 0.1)
    assert counter.count() == 3


def test_temporaries_of_a_killed_render_are_removed(tmp_path):
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    (out / "frames" / ".frame_000001.tmp999.png").write_bytes(b"half")
    render(out, frames=2)
    assert sorted(p.name for p in (out / "frames").iterdir()) == ["frame_000000.png", "frame_000001.png"]


def test_a_second_render_into_a_folder_in_use_is_refused(tmp_path):
    out = tmp_path / "out"
    (out / "frames").mkdir(parents=True)
    with (out / ".lock").open("a") as held:
        import fcntl

        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(UserError, match="another render is writing"):
            render(out, frames=2)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"workers": 0}, "--workers: must be at least 1"),
        ({"shards": 0}, "--shards: must be at least 1"),
        ({"address": "10.0.0.1:6379"}, "--address: only used with --engine ray"),
        ({"name": "ray", "workers": 2}, "--workers: only used with --engine local"),
    ],
)
def test_contradictory_engine_options_are_one_line_errors(kwargs, message):
    with pytest.raises(UserError, match=message):
        make_engine(**kwargs)


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["--shard", "0/3"], "expected I/N with 1 <= I <= N"),
        (["--shard", "4/3"], "expected I/N with 1 <= I <= N"),
        (["--shard", "1/3", "--workers", "2"], "--shard: renders one shard in this process"),
        (["--engine", "mars"], "invalid choice: 'mars'"),
    ],
)
def test_bad_scale_options_on_the_command_line_give_one_line_and_exit_2(capsys, tmp_path, argv, fragment):
    assert main(["render", "--frames", "2", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert fragment in err
