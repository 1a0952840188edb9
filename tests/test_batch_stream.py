"""A batch shard streams its frames and writes them on a thread of its own: a failure loses no
finished frame and leaves no temporary; the writes keep their order, their bound and their errors."""

import threading
from pathlib import Path

import pytest

from backrooms.batch import job_record
from backrooms.io.background import BackgroundWrites, prefetched
from backrooms.io.manifest import FRAMES, PartLog, frame_file, job_key
from backrooms.scale.shard import FixedParams, Shard, ShardJob, render_shard
from scale_nodes import tape_recipe


def test_a_shard_failing_mid_stream_keeps_every_frame_before_it_written_and_logged(tmp_path):
    out = tmp_path / "out"
    (out / FRAMES).mkdir(parents=True)
    params = FixedParams({"test.fail_at": 9, "test.markers": str(tmp_path), "test.fail_how": "runtime"})
    recipe = tape_recipe(16)
    job = ShardJob(recipe, params, out, job_key(job_record(recipe, params.snapshot, 0)))
    shard = Shard(tuple(range(3, 16)))
    with pytest.raises(RuntimeError, match="tape snapped"):
        render_shard(job, shard)
    log = PartLog(out, f"{job.key}_{shard.name}")
    assert sorted(log.read()) == list(range(3, 9))
    assert sorted(p.name for p in (out / FRAMES).iterdir()) == [Path(frame_file(f)).name for f in range(3, 9)]
    assert render_shard(job, shard) == 16 - 9  # the retry renders only the rest
    assert sorted(log.read()) == list(range(3, 16))


def test_writes_run_in_order_off_the_callers_thread_and_close_waits_for_them():
    done, threads = [], set()

    def write(i):
        threads.add(threading.get_ident())
        done.append(i)

    with BackgroundWrites(depth=2) as writes:
        for i in range(20):
            writes.submit(write, i)
    assert done == list(range(20))
    assert threads and threading.get_ident() not in threads


def test_a_failed_write_is_raised_and_the_writes_after_it_are_dropped():
    done, release = [], threading.Event()

    def write(i):
        release.wait(10)
        if i == 1:
            raise OSError("disk full")
        done.append(i)

    writes = BackgroundWrites(depth=8)
    for i in range(4):
        writes.submit(write, i)
    release.set()
    with pytest.raises(OSError, match="disk full"):
        writes.close()
    assert done == [0]


def test_submit_blocks_while_depth_writes_wait():
    release, started = threading.Event(), threading.Event()
    writes = BackgroundWrites(depth=2)
    writes.submit(release.wait, 10)
    writes.submit(lambda: None)
    third = threading.Thread(target=lambda: (started.set(), writes.submit(lambda: None)))
    third.start()
    started.wait(10)
    third.join(0.3)
    assert third.is_alive()  # the queue is full until the first write ends
    release.set()
    third.join(10)
    assert not third.is_alive()
    writes.close()


def test_prefetched_items_come_in_order_made_on_another_thread_and_errors_in_their_turn():
    threads = set()

    def made(i):
        threads.add(threading.get_ident())
        if i == 7:
            raise OSError("frame 7 unreadable")
        return i

    assert list(prefetched(made(i) for i in range(7))) == list(range(7))
    assert threading.get_ident() not in threads
    taken = []
    with pytest.raises(OSError, match="frame 7"):
        for item in prefetched(made(i) for i in range(10)):
            taken.append(item)
    assert taken == list(range(7))
    assert list(prefetched([])) == []
