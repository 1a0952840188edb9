"""Ableton Link with the real library (aalink): a second peer in another process changes the tempo
and the live loop's beat clock follows within FOLLOW_SECONDS."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import pytest

pytest.importorskip("aalink")

from backrooms.cli import main
from backrooms.control.beat import on_the_beat
from backrooms.control.link import LinkClock, start_link
from backrooms.params import ParamStore
from backrooms.params.store import Snapshot

FOLLOW_SECONDS = 3.0  # documented in docs/live.md

PEER = textwrap.dedent(
    """
    import asyncio, sys, time
    from aalink import Link

    async def main():
        link = Link(120.0, asyncio.get_running_loop())
        link.enabled = True
        began = time.monotonic()
        while link.num_peers == 0 and time.monotonic() - began < 20:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        link.tempo = float(sys.argv[1])
        print("set", flush=True)
        await asyncio.sleep(float(sys.argv[2]))

    asyncio.run(main())
    """
)


def test_the_beat_clock_follows_a_tempo_change_from_another_peer() -> None:
    clock = LinkClock(120.0)
    try:
        peer = subprocess.Popen([sys.executable, "-c", PEER, "93.5", "8"], stdout=subprocess.PIPE, text=True)
        try:
            assert peer.stdout.readline().strip() == "set"  # it found us and changed the tempo
            changed = time.monotonic()
            while abs(clock.tempo - 93.5) > 0.01 and time.monotonic() - changed < FOLLOW_SECONDS:
                time.sleep(0.02)
            assert abs(clock.tempo - 93.5) <= 0.01
            assert clock.peers >= 1  # (other Link apps on the machine may join too)
            before = clock.beat
            time.sleep(0.5)
            assert 0.5 < clock.beat - before < 1.1  # 93.5 BPM: 0.78 beats in half a second
            assert 0.0 <= clock.phase < 4.0
        finally:
            peer.kill()
            peer.wait()
    finally:
        clock.close()


def test_link_that_cannot_start_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "aalink", None)  # as if the library were missing
    assert start_link() is None
    err = capsys.readouterr().err.strip()
    assert err.startswith("link: cannot join") and "\n" not in err


def test_a_knob_pulses_on_every_beat_and_falls_back_before_the_next() -> None:
    store = ParamStore()
    store.update(
        {"beat.follow": "beat", "beat.knob": "render.flicker", "beat.depth": 0.5, "render.flicker": 0.2}
    )
    snapshot = store.snapshot()
    values = [on_the_beat(snapshot, {"phase": p}, 4.0)["render.flicker"] for p in (0.0, 0.1, 0.5, 0.99, 1.0)]
    assert values[0] == pytest.approx(0.7)  # on the beat: 0.2 + 0.5 x the knob's range (0..1)
    assert values[0] > values[1] > values[2] and values[3] < 0.2 + 1e-4  # falls back before the next
    assert values[4] == pytest.approx(0.7)  # and again on the next beat
    bar = dict(snapshot) | {"beat.follow": "bar"}
    on_bar = [on_the_beat(Snapshot(bar, 0), {"phase": p}, 4.0)["render.flicker"] for p in (0.0, 1.0)]
    assert on_bar[0] == pytest.approx(0.7) and on_bar[1] < 0.21  # only the bar's first beat


def test_an_unknown_or_text_knob_is_left_alone() -> None:
    store = ParamStore()
    store.update({"beat.follow": "beat", "beat.knob": "decay.preset"})
    snapshot = store.snapshot()
    assert on_the_beat(snapshot, {"phase": 0.0}, 4.0) is snapshot
    store.update({"beat.knob": "no.such"})
    assert on_the_beat(store.snapshot(), {"phase": 0.0}, 4.0)["beat.knob"] == "no.such"


def test_live_with_link_plays_and_says_so(tmp_path, capsys) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        'nodes = ["render"]\n[output]\nsize = "32x24"\nfps = 24\n[params.beat]\nfollow = "beat"\n'
    )
    live = ["live", "--recipe", str(recipe), "--frames", "12", "--link", "--osc-port", "0"]
    assert main([*live, "--oscquery-port", "0", "--no-preview", "--no-announce"]) == 0
    out = capsys.readouterr().out
    assert "Link     " in out and "BPM" in out and "played 12 frames" in out
