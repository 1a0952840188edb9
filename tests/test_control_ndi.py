"""NDI out through the real NDI runtime (cyndilib): a receiver in another process finds the source
by address (``ndi.networks.ips`` = 127.0.0.1 in an ``$NDI_CONFIG_DIR`` config, no mDNS daemon needed)
and checks the frames' size, count and content, and that sound arrives."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("cyndilib")

from backrooms.cli import main
from backrooms.control.ndi import NdiOutput, start_ndi

RECEIVER = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np
    from cyndilib import AudioRecvFrame, Finder, Receiver, VideoRecvFrame
    from cyndilib.receiver import ReceiveFrameType
    from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

    name, want = sys.argv[1], int(sys.argv[2])
    finder = Finder()
    finder.open()
    source, began = None, time.monotonic()
    while source is None and time.monotonic() - began < 30:
        finder.wait_for_sources(0.5)
        source = next((s for s in finder.iter_sources() if s.stream_name == name), None)
    frames, samples = [], 0
    if source is not None:
        receiver = Receiver(color_format=RecvColorFormat.RGBX_RGBA, bandwidth=RecvBandwidth.highest)
        video, audio = VideoRecvFrame(), AudioRecvFrame()
        receiver.set_video_frame(video)
        receiver.set_audio_frame(audio)
        receiver.connect_to(source)
        began = time.monotonic()
        while (len(frames) < want or not samples) and time.monotonic() - began < 30:
            kind = receiver.receive(ReceiveFrameType.recv_video | ReceiveFrameType.recv_audio, 500)
            if kind & ReceiveFrameType.recv_video and len(frames) < want:  # sound may come after
                data = np.empty(video.get_data_size(), np.uint8)
                video.fill_p_data(data)
                pixels = data.reshape(video.yres, video.xres, 4)
                red, green, blue = (int(pixels[..., c].mean()) for c in range(3))
                frames.append([video.xres, video.yres, red, green, blue])
            if kind & ReceiveFrameType.recv_audio and audio.get_read_length():
                samples += audio.get_read_shape()[1]
    print(json.dumps({"found": source is not None, "frames": frames, "samples": samples}))
    """
)


@pytest.fixture
def ndi_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Discovery by address: the receiver asks 127.0.0.1 directly."""
    config = tmp_path / "ndi"
    config.mkdir()
    (config / "ndi-config.v1.json").write_text(json.dumps({"ndi": {"networks": {"ips": "127.0.0.1"}}}))
    monkeypatch.setenv("NDI_CONFIG_DIR", str(config))
    return {**os.environ, "NDI_CONFIG_DIR": str(config)}


def receive(name: str, frames: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", RECEIVER, name, str(frames)], env=env, stdout=subprocess.PIPE, text=True
    )


def test_a_receiver_in_another_process_gets_the_frames_and_the_sound(ndi_env: dict[str, str]) -> None:
    name = f"backrooms-test-{uuid.uuid4().hex[:8]}"
    output = NdiOutput(name, 64, 48, 30.0)
    receiver = receive(name, 24, ndi_env)
    stop = threading.Event()

    def play() -> None:
        n = 0
        while not stop.is_set():
            frame = np.zeros((48, 64, 3), np.uint8)
            # red and blue count the frames in base 16, wrapping every 256 (8.5 s: a receiver starved
            # of CPU may skip a second of frames, and NDI drops what it lags behind; it still reads a count)
            frame[..., 0], frame[..., 1], frame[..., 2] = 16 * (n % 16), 200, 16 * (n // 16 % 16)
            output.send(frame, np.full((1600, 2), 0.1, np.float32))
            n += 1
            time.sleep(1 / 30)

    player = threading.Thread(target=play)
    player.start()
    try:
        out, _ = receiver.communicate(timeout=90)
    finally:
        stop.set()
        player.join()
        output.close()
    result = json.loads(out)
    assert result["found"]
    frames = result["frames"]
    assert len(frames) == 24
    assert {(w, h) for w, h, *_ in frames} == {(64, 48)}
    assert all(abs(green - 200) <= 4 for _, _, _, green, _ in frames)  # near-lossless on flat colour
    counts = [round(red / 16) % 16 + 16 * (round(blue / 16) % 16) for _, _, red, _, blue in frames]
    steps = [(b - a) % 256 for a, b in itertools.pairwise(counts)]
    assert all(0 < step < 128 for step in steps), frames  # each a new frame, in order (some may drop)
    assert result["samples"] >= 1600


def test_ndi_that_cannot_start_is_one_line_and_nothing_else(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "cyndilib", None)  # as if the runtime were missing
    assert start_ndi("nowhere", 64, 48, 30.0) is None
    err = capsys.readouterr().err.strip()
    assert err.startswith("ndi: cannot publish 'nowhere'") and "\n" not in err


def test_live_publishes_its_frames_over_ndi(ndi_env: dict[str, str], tmp_path: Path) -> None:
    name = f"backrooms-live-{uuid.uuid4().hex[:8]}"
    recipe = tmp_path / "r.toml"
    recipe.write_text('nodes = ["render", "audio"]\n[output]\nsize = "32x24"\nfps = 24\n')
    receiver = receive(name, 6, ndi_env)
    live = ["live", "--recipe", str(recipe), "--frames", "240", "--ndi", name, "--osc-port", "0"]
    assert main([*live, "--oscquery-port", "0", "--no-preview", "--no-announce"]) == 0
    result = json.loads(receiver.communicate(timeout=90)[0])
    assert result["found"] and len(result["frames"]) == 6
    assert {(w, h) for w, h, *_ in result["frames"]} == {(32, 24)}
    assert result["samples"] > 0
