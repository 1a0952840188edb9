"""The store hands each frame one consistent snapshot, even under concurrent writers."""

import threading

from backrooms.params import ParamStore, Registry


def test_snapshots_never_mix_two_updates_under_concurrent_writers():
    reg = Registry()
    reg.declare("t", "a", 0, "first half of a pair", min=0, max=10**9)
    reg.declare("t", "b", 0, "second half of a pair", min=0, max=10**9)
    store = ParamStore(reg)
    stop = threading.Event()

    def writer(offset: int) -> None:
        i = 0
        while not stop.is_set():
            i += 1
            store.update({"t.a": i * 2 + offset, "t.b": i * 2 + offset})

    threads = [threading.Thread(target=writer, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    torn = 0
    versions = []
    for _ in range(20000):
        snap = store.snapshot()
        torn += snap["t.a"] != snap["t.b"]
        versions.append(snap.version)
    stop.set()
    for t in threads:
        t.join()
    assert torn == 0
    assert versions == sorted(versions)
    assert versions[-1] > 0


def test_listeners_hear_only_real_changes():
    reg = Registry()
    reg.declare("t", "x", 1.0, "a knob", min=0.0, max=2.0)
    store = ParamStore(reg)
    heard = []
    unsubscribe = store.subscribe(heard.append)
    store.set("t.x", 1.5)
    store.set("t.x", 1.5)
    unsubscribe()
    store.set("t.x", 0.5)
    assert heard == [{"t.x": 1.5}]
