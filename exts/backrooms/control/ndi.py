"""NDI out: the live loop's frames (and sound, when the graph has an audio node) as an NDI source
that Resolume, TouchDesigner or OBS can pick up, through cyndilib (which ships the NDI runtime).

Discovery is NDI's own (mDNS on the local network). Where multicast does not reach — containers, some
VPNs — a receiver finds the source by address: list the sender's IP under ``ndi.networks.ips`` in an
``ndi-config.v1.json`` in ``$NDI_CONFIG_DIR`` (docs/live.md); the tests do exactly that with 127.0.0.1.
"""

from __future__ import annotations

import logging
import sys
from fractions import Fraction
from typing import Any

import numpy as np

from backrooms.params.store import Snapshot

LOG = logging.getLogger(__name__)


class NdiOutput:
    """One NDI source sending RGBA frames at the live loop's rate (and stereo float audio)."""

    def __init__(self, name: str, width: int, height: int, fps: float, audio_rate: int = 48000) -> None:
        from cyndilib import AudioSendFrame, FourCC, Sender, VideoSendFrame

        self.width, self.height = width, height
        self.sender = Sender(name, clock_video=False, clock_audio=False)  # the live loop keeps time
        video = VideoSendFrame()
        video.set_resolution(width, height)
        video.set_fourcc(FourCC.RGBA)
        video.set_frame_rate(Fraction(fps).limit_denominator(1001))
        self.sender.set_video_frame(video)
        self.samples = round(audio_rate / fps) if float(audio_rate / fps).is_integer() else 0
        if self.samples:  # NDI frames of audio have one fixed length here: 48 kHz at 24, 25, 30 fps ...
            audio = AudioSendFrame(max_num_samples=self.samples)
            audio.sample_rate, audio.num_channels, audio.num_samples = audio_rate, 2, self.samples
            self.sender.set_audio_frame(audio)
        self.sender.open()
        self.name = self.sender.source.name if self.sender.source is not None else name

    def send(self, rgba: np.ndarray, audio: np.ndarray | None = None) -> None:
        """Send one frame: (H, W, 3|4) uint8, and its (samples, 2) float audio if there is any."""
        frame = np.empty((self.height, self.width, 4), np.uint8)
        frame[..., :3], frame[..., 3] = rgba[..., :3], 255
        if self.samples and audio is not None and len(audio) == self.samples:
            planar = np.ascontiguousarray(np.asarray(audio, np.float32).T)
            self.sender.write_video_and_audio(frame.ravel(), planar)
        else:
            self.sender.write_video(frame.ravel())

    def close(self) -> None:
        self.sender.close()


def start_ndi(name: str, width: int, height: int, fps: float) -> NdiOutput | None:
    """An NDI source, or None after one line on stderr if NDI cannot start (the live loop goes on)."""
    try:
        return NdiOutput(name, width, height, fps)
    except Exception as exc:  # a missing runtime, no network: NDI is optional, the loop is not
        problem = f"{exc.__class__.__name__}: {exc}"
        print(f"ndi: cannot publish {name!r} ({problem}); going on without it", file=sys.stderr)
        return None


class NdiSink:
    """A live-loop sink: every frame (and the graph's audio for it) goes out over NDI."""

    def __init__(self, output: NdiOutput, audio_of: Any = None) -> None:
        self.output = output
        self.audio_of = audio_of  # () -> the frame's samples or None

    def __call__(self, frame: int, rgb: Any, snapshot: Snapshot) -> None:
        host = np.asarray(rgb.numpy() if hasattr(rgb, "numpy") else rgb)
        try:
            self.output.send(host, self.audio_of() if self.audio_of else None)
        except Exception as exc:  # a send that fails costs the frame, never the loop
            LOG.warning("ndi: frame %d not sent: %s", frame, exc)
