"""The soundtrack of real renders: crackle on the frames that flicker, seekable samples, and an MP4
whose AAC stream decodes back to the clip's length."""

from __future__ import annotations

import json

import av
import numpy as np
import pytest
from scipy import signal

from backrooms.audio.clock import RATE, frame_span
from backrooms.audio.node import AudioNode
from backrooms.audio.room import panel_levels
from backrooms.cli import main
from backrooms.graph.node import GraphContext
from backrooms.graph.product import RenderProduct
from backrooms.io.audio import read_wav
from backrooms.params import ParamStore
from backrooms.render.node import RenderNode

FPS = 30


@pytest.fixture(scope="module")
def recipe(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("recipe") / "sound.toml"
    path.write_text(f'nodes = ["render", "audio"]\n[output]\nsize = "32x24"\nfps = {FPS}\n')
    return str(path)


@pytest.fixture(scope="module")
def whole(recipe: str, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("whole")
    assert main(["render", "--recipe", recipe, "--frames", "30", "--quiet", "--out", str(out)]) == 0
    return out


def test_crackle_comes_on_the_frames_whose_panels_flicker() -> None:
    """Per frame, F = sum over panels of (flicker depth in the picture x the panel's audible level)
    and E = energy above 3 kHz (where only crackle lives without hiss); E must follow F^2
    (Pearson r >= 0.9), and frames without flicker must be near silent up there."""
    context = GraphContext(seed=0, width=32, height=24, fps=24.0, device="cpu")
    render, audio = RenderNode(context), AudioNode(context)
    store = ParamStore()
    store.update({"audio.hiss": 0.0, "audio.steps": 0.0, "render.stutter": 0.5, "render.flicker": 1.0})
    params = store.snapshot()
    high = signal.butter(4, 3000.0, "highpass", fs=RATE, output="sos")
    flicker, energy = [], []
    for frame in range(48):
        product = RenderProduct(frame, 32, 24, "cpu")
        render.process(product, params)
        lights, camera = product.meta["lights"], product.meta["camera"]
        heard = panel_levels(lights, camera, params.node("audio")).sum(axis=1)
        flicker.append(float(np.sum(lights["flicker"] * heard)))
        energy.append(
            float(np.mean(signal.sosfilt(high, audio.samples(frame, product.meta, params), axis=0) ** 2))
        )
    flicker, energy = np.array(flicker), np.array(energy)
    assert flicker.max() > 5 * np.median(flicker)  # the walk passes some stuttering panels
    assert np.corrcoef(flicker**2, energy)[0, 1] >= 0.9
    calm = flicker < 0.1 * flicker.max()
    assert energy[calm].max() < 0.1 * energy.max()


def test_a_part_render_has_the_samples_of_the_same_frames_of_a_whole_render(
    recipe: str, whole, tmp_path
) -> None:
    part = tmp_path / "part"
    assert (
        main(["render", "--recipe", recipe, "--start", "10", "--frames", "10", "--quiet", "--out", str(part)])
        == 0
    )
    whole_sound, rate = read_wav(whole / "clip.wav")
    part_sound, _ = read_wav(part / "clip.wav")
    assert rate == RATE
    assert len(whole_sound) == 30 * RATE // FPS
    first, last = frame_span(10, FPS)[0], frame_span(19, FPS)[1]
    np.testing.assert_array_equal(part_sound, whole_sound[first:last])
    assert np.abs(part_sound).max() > 0.01  # there is something to compare


def test_shards_joined_give_the_samples_of_one_run(recipe: str, whole, tmp_path) -> None:
    out = tmp_path / "shards"
    base = ["render", "--recipe", recipe, "--frames", "30", "--quiet", "--out", str(out)]
    for shard in ("2/3", "3/3"):  # farm tasks; the join renders the missing first shard itself
        assert main([*base, "--shard", shard]) == 0
    assert main([*base, "--resume"]) == 0
    assert (out / "clip.wav").read_bytes() == (whole / "clip.wav").read_bytes()


def test_the_mp4_carries_an_aac_stream_as_long_as_the_clip(whole) -> None:
    with av.open(str(whole / "clip.mp4")) as container:
        stream = container.streams.audio[0]
        assert (stream.codec_context.name, stream.rate, stream.channels) == ("aac", RATE, 2)
        decoded = sum(frame.samples for frame in container.decode(stream))
        seconds = float(stream.duration * stream.time_base)  # PyAV 18.1.1 refuses it once closed
    expected = 30 * RATE // FPS
    assert abs(seconds - 1.0) <= 1024 / RATE
    assert abs(decoded - expected) <= 1024
    manifest = json.loads((whole / "manifest.json").read_text())
    assert manifest["audio"]["samples"] == expected
    assert manifest["job"]["params"]["audio.wow"] == 0.25  # every audio knob is recorded


def aac_packets(path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def test_the_aac_stream_is_byte_identical_when_joined_again(recipe: str, whole) -> None:
    """(The H.264 stream is not compared: on this machine its bytes still vary now and then from
    process to process for the same PNGs, on main too; see docs/audio.md.)"""
    before = aac_packets(whole / "clip.mp4")
    assert (
        main(["render", "--recipe", recipe, "--frames", "30", "--quiet", "--resume", "--out", str(whole)])
        == 0
    )
    assert aac_packets(whole / "clip.mp4") == before
