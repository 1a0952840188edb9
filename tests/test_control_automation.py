"""Smoothing and automation: a live take replays offline as a byte-identical batch render on CPU."""

import json
import threading

import numpy as np
import pytest
from pythonosc.udp_client import SimpleUDPClient

from backrooms.cli import main
from backrooms.control.live import host_rgb
from backrooms.control.session import GraphFrames, LiveOptions, LiveSession
from backrooms.errors import UserError
from backrooms.graph.recipe import Recipe
from backrooms.io.png import read_png
from backrooms.params import REGISTRY, Registry
from backrooms.params.automation import Recorder, load_automation
from backrooms.params.smoothing import Smoother


def registry() -> Registry:
    reg = Registry()
    reg.declare("decay", "noise", 0.0, "noise amount", min=0.0, max=1.0)
    reg.declare("decay", "preset", "lp", "tape speed", choices=("sp", "lp", "ep"))
    return reg


def test_continuous_parameter_glides_to_its_target():
    smoother = Smoother(registry(), {"decay.noise": 0.0}, fps=25, seconds=0.1)
    smoother.set_target("decay.noise", 1.0)
    path = [smoother.step()["decay.noise"] for _ in range(5)]
    assert path == sorted(path) and 0.3 < path[0] < 0.4 and 0.85 < path[-1] < 1.0


def test_glide_settles_exactly_on_the_target_and_then_stays_quiet():
    smoother = Smoother(registry(), {"decay.noise": 0.0}, fps=25, seconds=0.1)
    smoother.set_target("decay.noise", 1.0)
    steps = [smoother.step() for _ in range(60)]
    assert steps[-1] == {} and max(s.get("decay.noise", 0) for s in steps) == 1.0


def test_discrete_parameters_are_not_smoothed():
    assert not Smoother(registry(), {}, fps=25, seconds=0.1).smooths("decay.preset")


def test_take_gives_each_frame_the_values_recorded_up_to_it(tmp_path):
    reg = registry()
    recorder = Recorder(tmp_path / "take.jsonl", {"nodes": ["render"]}, reg.defaults())
    recorder.record(0, {})
    recorder.record(3, {"decay.noise": 0.5})
    recorder.record(7, {"decay.preset": "ep", "decay.noise": 0.25})
    recorder.record(9, {})
    recorder.close()
    take = load_automation(tmp_path / "take.jsonl", reg)
    values = [
        (take.params_at(f)["decay.noise"], take.params_at(f)["decay.preset"]) for f in (0, 3, 6, 7, 100)
    ]
    assert values == [(0.0, "lp"), (0.5, "lp"), (0.5, "lp"), (0.25, "ep"), (0.25, "ep")]
    assert take.frames == 10


def test_take_with_a_bad_value_names_file_and_line(tmp_path):
    path = tmp_path / "take.jsonl"
    header = {"format": "backrooms-automation/1", "recipe": {}, "initial": {}}
    path.write_text(json.dumps(header) + "\n" + json.dumps({"frame": 2, "set": {"decay.noise": 3.0}}) + "\n")
    with pytest.raises(UserError, match=r"take.jsonl:2: decay.noise"):
        load_automation(path, registry())


@pytest.mark.parametrize(
    ("nodes", "initial"),
    [
        (("render", "decay"), {}),
        (("render", "camcorder", "decay"), {}),
        (("render", "diffusion", "decay"), {"diffusion.generate": 2}),
    ],
)
def test_live_take_replays_as_byte_identical_batch_render(tmp_path, nodes, initial):
    """The operator's walk (its speed glided live) and the camcorder's servos replay from the take
    like every other state; the live executor traces the next frame ahead (pipelined), discarding
    it when a change lands, and the diffusion node generates every other frame."""
    recipe = Recipe(source="test", nodes=nodes, width=64, height=48, fps=24, frames=48, params=initial)
    frames: dict[int, np.ndarray] = {}
    options = LiveOptions(
        osc_port=0, osc_tcp_port=None, oscquery_port=None, preview_port=None, record=tmp_path / "take.jsonl"
    )
    with LiveSession(REGISTRY, initial, recipe.fps, GraphFrames(recipe), options, recipe.to_json()) as live:
        live.loop.sinks.append(lambda f, rgb, snap: frames.__setitem__(f, host_rgb(rgb)))
        client = SimpleUDPClient("127.0.0.1", live.osc.udp_port)
        runner = threading.Thread(target=live.run, args=(recipe.frames,))
        runner.start()
        for step, (address, value) in enumerate(
            [
                ("/backrooms/render/exposure", 0.9),
                ("/backrooms/camera/speed", 2.5),  # glides: the walk goes on from where it is
                ("/backrooms/decay/preset", "ep"),
                ("/backrooms/camera/operator", "nervous"),
                ("/backrooms/camcorder/aberration/native", 1.5),
                ("/backrooms/render/ao", 0.0),
            ]
        ):
            live.loop.stop_event.wait(0.1 + 0.05 * step)
            client.send_message(address, value)
        runner.join()
    take = load_automation(tmp_path / "take.jsonl")
    assert take.frames == recipe.frames
    last = take.params_at(recipe.frames - 1)
    assert (last["camera.operator"], last["camcorder.aberration"]) == ("nervous", 1.5)  # landed mid-take
    out = tmp_path / "replay"
    assert main(["render", "--automation", str(tmp_path / "take.jsonl"), "--out", str(out), "--quiet"]) == 0
    for frame, live_rgb in frames.items():
        png = read_png(out / f"frames/frame_{frame:06d}.png")
        assert np.array_equal(png, live_rgb[..., :3]), f"frame {frame} differs"


def test_automation_refuses_options_that_would_change_the_take(tmp_path):
    path = tmp_path / "take.jsonl"
    path.write_text("{}\n")
    assert main(["render", "--automation", str(path), "--size", "64x48", "--out", str(tmp_path)]) == 2
