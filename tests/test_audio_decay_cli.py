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
