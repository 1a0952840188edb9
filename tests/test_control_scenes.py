"""Scenes over OSC in a real ``backrooms live`` process: save, change knobs, recall, morph; the
scene file lands beside the recipe and the recall is recorded in the take."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

from pythonosc.udp_client import SimpleUDPClient

from backrooms.cli import main
from backrooms.params.automation import load_automation
from live_process import interrupt, start_live
from takes import recorded


def start_show(tmp_path: Path) -> tuple[subprocess.Popen, SimpleUDPClient, Path]:
    recipe = tmp_path / "show.toml"
    recipe.write_text('nodes = ["render", "decay"]\n[output]\nsize = "32x24"\nfps = 24\n')
    take = tmp_path / "take.jsonl"
    command = ["--recipe", str(recipe), "--record", str(take)]
    command += [
        "--osc-port",
        "0",
        "--oscquery-port",
        "0",
        "--no-preview",
        "--no-announce",
        "--smoothing",
        "0",
    ]
    proc = start_live(command, tmp_path / "stderr.txt")
    banner = ""
    while "scenes " not in banner:
        line = proc.stdout.readline()
        assert line, f"backrooms live exited before listening: {banner}"
        banner += line
    port = int(re.search(r"udp://127\.0\.0\.1:(\d+)", banner).group(1))
    return proc, SimpleUDPClient("127.0.0.1", port), take


def wait_for(predicate, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert predicate()


def test_save_change_recall_and_morph_over_osc(tmp_path: Path) -> None:
    proc, osc, take = start_show(tmp_path)
    try:
        osc.send_message("/backrooms/decay/noise", 0.25)  # OSC floats are 0..1 of the range 0..8
        wait_for(lambda: 2.0 in recorded(take, "decay.noise"))
        osc.send_message("/backrooms/scene/save", ["grain", "decay"])
        scenes = tmp_path / "show.scenes.json"
        wait_for(scenes.exists)
        assert json.loads(scenes.read_text())["grain"]["decay.noise"] == 2.0
        osc.send_message("/backrooms/decay/noise", 0.0625)
        wait_for(lambda: 0.5 in recorded(take, "decay.noise"))
        osc.send_message("/backrooms/scene/recall", "grain")
        wait_for(lambda: recorded(take, "decay.noise")[-1] == 2.0)
        osc.send_message("/backrooms/decay/noise", 0.0)
        wait_for(lambda: recorded(take, "decay.noise")[-1] == 0.0)
        osc.send_message("/backrooms/scene/morph", ["grain", 0.5])  # 12 frames at 24 fps
        wait_for(lambda: recorded(take, "decay.noise")[-1] == 2.0)
        glide = recorded(take, "decay.noise")[-12:]
        assert all(0.0 < v <= 2.0 for v in glide) and glide == sorted(glide) and len(set(glide)) >= 8
        osc.send_message("/backrooms/scene/recall", "nowhere")  # counted, the loop plays on
        time.sleep(1.0)
        out = interrupt(proc, tmp_path / "stderr.txt")
    finally:
        proc.kill()
    assert proc.returncode == 0 and re.search(r"controller errors: .*scene", out)  # the refused recall
    assert load_automation(take).frames > 0


def test_a_bad_scene_file_is_one_line_before_anything_starts(tmp_path: Path, capsys) -> None:
    recipe = tmp_path / "show.toml"
    recipe.write_text('nodes = ["render", "decay"]\n[output]\nsize = "32x24"\n')
    (tmp_path / "show.scenes.json").write_text('{"a": {"decay.noize": 1}}')
    assert main(["live", "--recipe", str(recipe), "--frames", "1", "--no-preview", "--osc-port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "show.scenes.json" in err and "decay.noize" in err and "\n" not in err


def test_a_midi_program_change_recalls_the_scene_at_that_place(tmp_path: Path) -> None:
    import mido

    from backrooms.control.clock import FrameClock
    from backrooms.control.inbox import Inbox
    from backrooms.control.midi import MidiMap
    from backrooms.control.scenes import SceneControl
    from backrooms.control.tally import Tally
    from backrooms.params import REGISTRY, ParamStore
    from backrooms.params.scenes import SceneBook

    store, tally = ParamStore(), Tally()
    book = SceneBook(tmp_path / "s.scenes.json", REGISTRY)
    for name, noise in (("calm", 0.5), ("storm", 6.0)):
        store.update({"decay.noise": noise})
        book.save(name, store, node="decay")
    inbox = Inbox(REGISTRY.defaults(), FrameClock(30), tally)
    midi = MidiMap(REGISTRY, inbox, tally)
    midi.programs = SceneControl(book, store, inbox, tally, 30.0).program
    midi.handle(mido.Message("program_change", program=1))
    assert inbox.take(1)["decay.noise"] == 6.0  # program 1 = the second scene, "storm"
    midi.handle(mido.Message("program_change", program=7))  # there is no eighth scene
    assert inbox.take(2) == {} and "scene" in tally.summary()


def _show(tmp_path: Path, fps: float = 24.0):
    from backrooms.control.clock import FrameClock
    from backrooms.control.inbox import Inbox
    from backrooms.control.scenes import SceneControl
    from backrooms.control.tally import Tally
    from backrooms.params import REGISTRY, ParamStore
    from backrooms.params.scenes import SceneBook

    store, tally = ParamStore(), Tally()
    inbox = Inbox(REGISTRY.defaults(), FrameClock(fps), tally)
    scenes = SceneControl(SceneBook(tmp_path / "s.scenes.json", REGISTRY), store, inbox, tally, fps)
    return store, inbox, scenes, tally


def _play(store, inbox, frames: range) -> list[dict]:
    """The frame loop's part: take what is due at each frame and apply it."""
    taken = []
    for frame in frames:
        inbox.clock.begin(frame, 0.0)
        changes = inbox.take(frame)
        store.update(changes)
        taken.append(changes)
    return taken


def test_a_long_morph_of_every_knob_reaches_its_scene(tmp_path: Path) -> None:
    """A 10 s morph of a scene of every knob: it stopped at 27 % of the way in a live process (the
    schedule held one entry per knob and frame, 10000 at most: under 3 s of every knob)."""
    store, inbox, scenes, tally = _show(tmp_path)
    store.update({"decay.wear": 0.1, "render.flicker": 0.2})
    scenes.save("calm")  # every knob
    store.update({"decay.wear": 0.9, "render.flicker": 0.8})
    scenes.morph("calm", 10.0)
    taken = _play(store, inbox, range(1, 245))
    wear = [t["decay.wear"] for t in taken if "decay.wear" in t]
    assert len(wear) == 240 and wear == sorted(wear, reverse=True) and len(set(wear)) == 240
    assert store.get("decay.wear") == 0.1 and store.get("render.flicker") == 0.2
    assert all(set(t) <= {"decay.wear", "render.flicker"} for t in taken)  # equal knobs stay free
    assert taken[-1] == {} and tally.summary() == "none"


def test_a_morph_takes_its_knobs_over_from_the_one_before(tmp_path: Path) -> None:
    store, inbox, scenes, _ = _show(tmp_path)
    store.update({"decay.wear": 0.0, "decay.noise": 0.0})
    scenes.save("a", "decay")
    store.update({"decay.wear": 1.0, "decay.noise": 4.0})
    scenes.save("b", "decay")
    scenes.morph("a", 4.0)  # 96 frames
    _play(store, inbox, range(1, 11))
    store.update({"decay.noise": 3.0})  # b differs from here in wear and noise
    scenes.morph("b", 0.5)  # 12 frames: from here on, b's
    _play(store, inbox, range(11, 200))
    assert (store.get("decay.wear"), store.get("decay.noise")) == (1.0, 4.0)  # a did not come back


def test_a_morph_past_an_hour_or_of_no_length_is_refused(tmp_path: Path) -> None:
    _, inbox, scenes, tally = _show(tmp_path)
    scenes.save("a", "decay")
    for amount in (3601.0, float("inf"), float("nan"), -1.0):
        scenes._guarded(scenes.morph)(("a", amount))
    assert "scene" in tally.summary() and not inbox._glides
