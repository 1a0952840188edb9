"""The live loop: a change arriving during frame N shows in frame N+1; `backrooms live` end to end."""

import re
import socket
import time

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.udp_client import SimpleUDPClient

from backrooms.cli import main
from backrooms.control.live import LATENCY
from backrooms.control.session import LiveOptions, LiveSession
from backrooms.params import Registry
from backrooms.params.automation import load_automation
from live_process import interrupt, start_live


def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 0.0, "noise amount", min=0.0, max=1.0)
    reg.declare("decay", "preset", "lp", "tape speed", choices=("sp", "lp", "ep"))
    return reg


@pytest.mark.parametrize(
    "address, value", [("/backrooms/decay/noise", 1.0), ("/backrooms/decay/preset", "ep")]
)
def test_change_arriving_during_frame_n_shows_in_frame_n_plus_1(address, value):
    seen: dict[int, tuple] = {}
    holder: list[LiveSession] = []
    packet = _message(address, value)

    def render(frame, snapshot):
        seen[frame] = (snapshot["decay.noise"], snapshot["decay.preset"])
        if frame == 5:
            holder[0].receiver.handle_packet(packet)  # arrives while frame 5 renders
        return np.zeros((4, 4, 4), np.uint8)

    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None, smoothing=0.2)
    with LiveSession(registry(), {}, 200, render, options) as live:
        holder.append(live)
        live.run(8)
    assert seen[5] == (0.0, "lp")
    assert seen[6] != (0.0, "lp")


def test_a_gliding_value_a_node_cannot_use_jumps_back_and_the_show_goes_on():
    """A node refusing a continuous knob's value (none of ours does today; a host's node may) left
    nothing discrete to put back, and the loop ended with the node's error."""
    from backrooms.errors import UserError

    shown: list[float] = []

    def render(frame, snapshot):
        if snapshot["decay.noise"] > 0.5:
            raise UserError(f"decay.noise {snapshot['decay.noise']:.2f}: more than this node takes")
        return np.full((4, 4, 4), frame, np.uint8)

    options = LiveOptions(osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None, smoothing=0.1)
    with LiveSession(registry(), {}, 200, render, options) as live:
        live.loop.sinks.append(lambda frame, rgb, snapshot: shown.append(snapshot["decay.noise"]))
        live.receiver.handle_packet(_message("/backrooms/decay/noise", 1.0))
        live.run(40)
        assert live.tally.counts().get("refused_by_node", 0) >= 1
    assert len(shown) == 40 and max(shown) <= 0.5 and shown[-1] > 0.0


def _message(address: str, value) -> bytes:
    builder = OscMessageBuilder(address)
    builder.add_arg(value)
    return builder.build().dgram


@pytest.mark.parametrize("latency", [None, "0", "1"])
def test_live_command_plays_frames_and_records_a_take(tmp_path, capsys, latency):
    take = tmp_path / "take.jsonl"
    args = ["live", "--frames", "6", "--size", "32x24", "--osc-port", "0", "--oscquery-port", "0"]
    args += ["--preview-port", "0", "--record", str(take), "--recipe", str(_recipe(tmp_path))]
    assert main(args + (["--latency", latency] if latency else [])) == 0  # every frame started is shown
    out = capsys.readouterr().out
    trail = int(latency or LATENCY)
    assert "played 6 frames" in out and f"the picture {trail} frames ({round(1000 * trail / 30)} ms)" in out
    assert load_automation(take).frames == 6


def _recipe(tmp_path):
    path = tmp_path / "recipe.toml"
    path.write_text('nodes = ["render", "decay"]\n[output]\nfps = 30\n')
    return path


def test_live_refuses_a_remote_bind_without_the_flag(capsys):
    assert main(["live", "--bind", "0.0.0.0", "--frames", "1"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flag", "kind"),
    [
        ("--osc-port", socket.SOCK_DGRAM),
        ("--osc-tcp-port", socket.SOCK_STREAM),
        ("--oscquery-port", socket.SOCK_STREAM),
        ("--preview-port", socket.SOCK_STREAM),
    ],
)
def test_a_port_another_process_holds_is_named_by_its_option(tmp_path, capsys, flag, kind):
    """As a second ``backrooms live`` left on its defaults finds the first: one line naming the
    option and the port (it said "cannot listen on 127.0.0.1: Address already in use")."""
    with socket.socket(socket.AF_INET, kind) as held:
        held.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            held.listen()
        port = held.getsockname()[1]
        ports = {"--osc-port": "0", "--osc-tcp-port": "0", "--oscquery-port": "0", "--preview-port": "0"}
        ports[flag] = str(port)
        args = ["live", "--frames", "1", "--size", "32x24", "--no-announce"]
        args += ["--recipe", str(_recipe(tmp_path))]
        assert main(args + [text for pair in ports.items() for text in pair]) == 2
    err = capsys.readouterr().err
    said = f"{flag} {port}: cannot listen on 127.0.0.1:{port}: the port is in use (another backrooms live?)"
    assert err == f"backrooms: error: {said}; pick another, or 0 for any free one\n"


def test_ctrl_c_ends_a_live_take_cleanly_with_the_changes_recorded(tmp_path):
    take = tmp_path / "take.jsonl"
    args = ["--size", "32x24", "--record", str(take), "--recipe", str(_recipe(tmp_path))]
    args += ["--osc-port", "0", "--oscquery-port", "0", "--no-preview", "--no-announce"]
    stderr = tmp_path / "stderr.txt"
    proc = start_live(args, stderr)
    try:
        banner = ""
        while "OSC " not in banner:
            line = proc.stdout.readline()
            assert line, "backrooms live exited before listening"
            banner += line
        port = int(re.search(r"udp://127\.0\.0\.1:(\d+)", banner).group(1))
        SimpleUDPClient("127.0.0.1", port).send_message("/backrooms/decay/preset", "ep")
        deadline = time.monotonic() + 60  # the first frames load kernels: slow on a busy machine
        while '"decay.preset":"ep"' not in take.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        out = interrupt(proc, stderr)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "played" in out
    replay = load_automation(take)
    assert replay.params_at(replay.frames - 1)["decay.preset"] == "ep"
    assert '"end"' in take.read_text().splitlines()[-1]


def test_without_ndi_the_live_graph_makes_no_sound(tmp_path):
    from backrooms.control.session import GraphFrames
    from backrooms.graph.recipe import load_recipe
    from backrooms.params import ParamStore

    path = tmp_path / "recipe.toml"
    path.write_text('nodes = ["render", "decay", "audio"]\n[output]\nsize = "32x24"\nfps = 24\n')
    recipe, snapshot = load_recipe(path), ParamStore().snapshot()
    silent, heard = GraphFrames(recipe, sound=False), GraphFrames(recipe)
    assert [n.kind for n in silent.executor.nodes] == ["render", "decay"]
    for frame in range(heard.latency + 1):  # the first frame comes out after the pipeline's latency
        silent(frame, snapshot), heard(frame, snapshot)
    assert silent.audio is None and heard.audio.shape == (2000, 2)


def test_a_live_take_without_sound_replays_with_its_sound(tmp_path, capsys):
    from backrooms.io.audio import read_wav

    recipe = tmp_path / "recipe.toml"
    recipe.write_text('nodes = ["render", "decay", "audio"]\n[output]\nsize = "32x24"\nfps = 24\n')
    take = tmp_path / "take.jsonl"
    args = ["live", "--frames", "6", "--osc-port", "0", "--oscquery-port", "0", "--no-preview"]
    assert main([*args, "--no-announce", "--record", str(take), "--recipe", str(recipe)]) == 0
    assert main(["render", "--automation", str(take), "--out", str(tmp_path / "out")]) == 0
    samples, rate = read_wav(tmp_path / "out" / "clip.wav")
    assert rate == 48000 and samples.shape == (6 * 2000, 2) and np.abs(samples).max() > 0.001


def test_the_status_says_where_each_frames_time_goes_node_by_node(tmp_path):
    from backrooms.control.session import COST_FRAMES, GraphFrames
    from backrooms.graph.recipe import load_recipe
    from backrooms.params import ParamStore

    path = tmp_path / "recipe.toml"
    path.write_text('nodes = ["render", "decay", "audio"]\n[output]\nsize = "64x48"\nfps = 24\n')
    frames = GraphFrames(load_recipe(path))
    assert frames.costs() == {}  # nothing measured yet
    plain, copied = ParamStore().snapshot(), ParamStore(values={"decay.generations": 3}).snapshot()
    for frame in range(2 * COST_FRAMES + 2):  # the first window loads the kernels; the readout
        frames(frame, plain)  # covers the last one only
    before = frames.costs()["nodes"]
    assert set(before) == {"render", "decay", "audio"} and all(ms > 0 for ms in before.values())
    for frame in range(2 * COST_FRAMES + 2, 3 * COST_FRAMES + 3):
        frames(frame, copied)  # the tape dubbed three times over: the decay node's cost, not the others'
    after = frames.costs()["nodes"]
    assert after["decay"] > 1.5 * before["decay"], (before, after)
    frames.executor.close()
