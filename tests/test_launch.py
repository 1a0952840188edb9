"""Warp launches in bands of rows on a pool of threads (one band on the calling thread inside
``one_band``), and the lower priority of the render's."""

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import warp as wp

import backrooms.launch
from backrooms.launch import Bands, lower_priority, one_band

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


@wp.kernel
def _mark(rows: wp.array2d(dtype=wp.int32), first_row: int, out: wp.array2d(dtype=wp.int32)):
    row, x = wp.tid()
    out[row + first_row, x] = rows[row + first_row, x] + 1


def _nice_values() -> list[int]:
    """The nice value of every thread of this process (field 19 of /proc/self/task/*/stat)."""
    values = []
    for stat in Path("/proc/self/task").glob("*/stat"):
        values.append(int(stat.read_text().rsplit(")", 1)[1].split()[16]))
    return values


@pytest.mark.parametrize("count", [1, 2, 3])
def test_launch_split_covers_every_row_once(count):
    rows = wp.array(np.arange(7 * 5, dtype=np.int32).reshape(7, 5), device="cpu")
    out = wp.zeros((7, 5), dtype=wp.int32, device="cpu")
    Bands("cpu", count).launch_split(_mark, 7, [rows], [out], 5)
    assert np.array_equal(out.numpy(), rows.numpy() + 1)


def test_bands_never_outnumber_rows():
    assert Bands("cpu", 4, rows=3).count == 3
    assert Bands("cpu", 2, rows=240).count == 2
    rows = wp.array(np.arange(2 * 5, dtype=np.int32).reshape(2, 5), device="cpu")
    out = wp.zeros((2, 5), dtype=wp.int32, device="cpu")
    Bands("cpu", 8, rows=2).launch_split(_mark, 2, [rows], [out], 5)
    assert np.array_equal(out.numpy(), rows.numpy() + 1)


@linux
def test_lower_priority_lowers_only_the_calling_thread():
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def run() -> None:
        lower_priority(3)
        seen["thread"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert seen["thread"] == min(own + 3, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own


@linux
def test_a_pool_with_a_nice_value_runs_its_threads_lower():
    own = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    target = min(own + 4, 19)
    before = _nice_values().count(target)
    bands = Bands("cpu", 2, "test", nice=4)
    rows = wp.zeros((4, 3), dtype=wp.int32, device="cpu")
    bands.launch_split(_mark, 4, [rows], [wp.zeros((4, 3), dtype=wp.int32, device="cpu")], 3)
    # the pool's threads (one or two: a thread that is idle again takes the next band), not the caller
    assert _nice_values().count(target) > before
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == own


def _launches(monkeypatch) -> list[tuple[int, tuple]]:
    """(thread, dim) of every Warp launch ``Bands`` makes from now on (the launches still run)."""
    seen, launch = [], wp.launch

    def recorded(kernel, dim, *args, **kwargs):
        seen.append((threading.get_ident(), tuple(dim)))
        return launch(kernel, dim, *args, **kwargs)

    monkeypatch.setattr(backrooms.launch.wp, "launch", recorded)
    return seen


def test_one_band_launches_all_rows_at_once_on_the_calling_thread(monkeypatch):
    seen = _launches(monkeypatch)
    bands = Bands("cpu", 2, rows=7)  # two bands on any machine
    rows = wp.array(np.arange(7 * 5, dtype=np.int32).reshape(7, 5), device="cpu")
    outside, inside = (wp.zeros((7, 5), dtype=wp.int32, device="cpu") for _ in range(2))
    bands.launch_split(_mark, 7, [rows], [outside], 5)
    assert len(seen) == bands.count == 2 and threading.get_ident() not in {t for t, _ in seen}
    seen.clear()
    with one_band():
        with one_band():  # nested: the outer one still holds after the inner ends
            pass
        bands.launch_split(_mark, 7, [rows], [inside], 5)
        bands.launch(_mark, [((3, 5), [rows, 0]), ((4, 5), [rows, 3])], [inside])
    assert seen == [
        (threading.get_ident(), (7, 5)),
        (threading.get_ident(), (3, 5)),
        (threading.get_ident(), (4, 5)),
    ]
    assert np.array_equal(inside.numpy(), outside.numpy())  # the same rows, the same bytes
    seen.clear()
    bands.launch_split(_mark, 7, [rows], [outside], 5)  # after it: bands again
    assert len(seen) == 2


def test_one_band_holds_only_on_its_own_thread(monkeypatch):
    seen = _launches(monkeypatch)
    bands = Bands("cpu", 2, rows=4)
    rows = wp.zeros((4, 3), dtype=wp.int32, device="cpu")
    other = threading.Thread(target=bands.launch_split, args=(_mark, 4, [rows], [wp.zeros_like(rows)], 3))
    with one_band():
        other.start()
        other.join()
    assert len(seen) == 2  # the other thread's launch was split
