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
