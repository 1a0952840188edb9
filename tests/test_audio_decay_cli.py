"""``backrooms decay`` on a video with sound: the sound goes through the tape's audio track, or is
copied untouched with ``--no-audio``."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from backrooms.cli import main
from backrooms.io.audio import read_audio
from backrooms.io.mp4 import write_mp4

RATE = 48000


def source(path: Path, seconds: float = 1.0) -> np.ndarray:
    """Grey frames with 440 Hz and 12 kHz tones (12 kHz is above every tape speed's bandwidth)."""
    t = np.arange(round(seconds * RATE)) / RATE
    tone = 0.25 * np.sin(2 * np.pi * 440 * t) + 0.25 * np.sin(2 * np.pi * 12000 * t)
    sound = np.stack([tone, tone], axis=1)
    write_mp4(path, [np.full((48, 64, 3), 128, np.uint8)] * round(24 * seconds), 24.0, audio=sound)
    return sound


def band(sound: np.ndarray, lo: float, hi: float) -> float:
    spectrum = np.abs(np.fft.rfft(sound[:, 0]))
    freqs = np.fft.rfftfreq(len(sound), 1.0 / RATE)
    return float(np.sum(spectrum[(freqs >= lo) & (freqs < hi)] ** 2))


def aac_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def test_the_sound_of_a_video_plays_through_the_tape(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    source(src)
    assert main(["decay", str(src), str(dst), "--preset", "lp"]) == 0
    before, after = read_audio(src, RATE), read_audio(dst, RATE)
    assert abs(len(after) - len(before)) <= 1024
    n = min(len(before), len(after))
    # LP's linear track ends near 7 kHz: the 12 kHz tone is gone, the 440 Hz tone stays
    assert band(after[:n], 11500, 12500) < 0.01 * band(before[:n], 11500, 12500)
    assert band(after[:n], 400, 480) > 0.5 * band(before[:n], 400, 480)


def test_no_audio_copies_the_sound_untouched(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    source(src)
    assert main(["decay", str(src), str(dst), "--no-audio"]) == 0
    assert aac_packets(dst) == aac_packets(src)


def test_a_silent_video_stays_silent(tmp_path: Path) -> None:
    src, dst = tmp_path / "in.mp4", tmp_path / "out.mp4"
    write_mp4(src, [np.full((48, 64, 3), 128, np.uint8)] * 4, 24.0)
    assert main(["decay", str(src), str(dst)]) == 0
    with av.open(str(dst)) as container:
        assert not container.streams.audio and len(container.streams.video) == 1


EVENTFUL = [
    "--set",
    "decay.wear=1",
    "--set",
    "decay.dropout_burst_rate=15",
    "--set",
    "decay.head_clog_rate=15",
    "--set",
    "decay.signal_loss_rate=15",
]


def frame_rms(sound: np.ndarray, frames: int) -> np.ndarray:
    spans = [(round(f * RATE / 24), round((f + 1) * RATE / 24)) for f in range(frames)]
    return np.array([np.sqrt(np.mean(sound[a:b, 0] ** 2)) for a, b in spans])


def test_the_sound_dips_on_the_frames_the_tape_events_strike_the_picture(tmp_path: Path) -> None:
    from backrooms.audio.clock import frame_bump
    from backrooms.audio.node import event_strength
    from backrooms.audio.tape import DROPOUT_DEPTH
    from backrooms.decay.tape import HostTape
    from backrooms.params import ParamStore, parse_assignment

    frames, src = 96, tmp_path / "in.mp4"
    t = np.arange(frames * RATE // 24) / RATE
    tone = 0.25 * np.sin(2 * np.pi * 440 * t)
    write_mp4(src, [np.full((48, 64, 3), 128, np.uint8)] * frames, 24.0, audio=np.stack([tone, tone], 1))
    assert main(["decay", str(src), str(tmp_path / "hit.mp4"), *EVENTFUL]) == 0
    quiet = [*EVENTFUL, "--set", "audio.dropouts=0"]
    assert main(["decay", str(src), str(tmp_path / "clean.mp4"), *quiet]) == 0
    ratio = frame_rms(read_audio(tmp_path / "hit.mp4", RATE), frames) / frame_rms(
        read_audio(tmp_path / "clean.mp4", RATE), frames
    )

    # the events the decay node gives each frame's picture (its meta["tape_events"])
    store = ParamStore()
    store.update(dict(parse_assignment(a) for a in EVENTFUL[1::2]))
    params, tape = store.snapshot(), HostTape(64, 48, 0, 24.0, "cpu")
    strength = []
    for f in range(frames):
        tape.process(np.full((48, 64, 4), 128, np.uint8), f, params)
        strength.append(event_strength(tape.events))
    strength = np.array(strength)
    span = (0, 2000)
    bump = frame_bump(0, 2000, span)
    expected = np.array(
        [np.sqrt(np.mean((1 - DROPOUT_DEPTH * np.minimum(s * bump, 1)) ** 2)) for s in strength]
    )

    struck = strength > 0.3
    assert struck.sum() >= 8 and (~struck).sum() >= 8, strength
    assert np.all(np.abs(ratio - expected) < 0.08), np.round(ratio - expected, 3)
    assert np.all(np.abs(ratio[strength == 0] - 1) < 0.03)
    assert np.corrcoef(1 - ratio, 1 - expected)[0, 1] > 0.95
