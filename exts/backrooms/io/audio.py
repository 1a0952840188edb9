"""Sound on disk: one raw file per rendered frame (so shards and resumes keep their audio with their
frames), the WAV stem joined from them, and audio read back from any file FFmpeg can open."""

from __future__ import annotations

import wave
from collections.abc import Iterable
from pathlib import Path

import av
import numpy as np

from backrooms.io.atomic import atomic_path

CHANNELS = 2


def write_frame_audio(path: Path, samples: np.ndarray) -> None:
    """One frame's float32 (n, 2) samples as raw little-endian interleaved float32."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(np.ascontiguousarray(samples, "<f4").tobytes())


def read_frame_audio(path: Path) -> np.ndarray:
    return np.frombuffer(Path(path).read_bytes(), "<f4").reshape(-1, CHANNELS)


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """float samples in [-1, 1] as int16, rounded the same way everywhere."""
    return np.round(np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")


def from_pcm16(data: np.ndarray) -> np.ndarray:
    """int16 samples as float32 in [-1, 1]: what a 16-bit WAV holds, read back."""
    return data.astype(np.float32) / 32767.0


def as_stored(samples: np.ndarray) -> np.ndarray:
    """Float samples as the clip keeps them: a frame's float32 file, then the 16-bit WAV stem."""
    return from_pcm16(to_pcm16(np.asarray(samples, "<f4")))


def write_wav(path: Path, chunks: Iterable[np.ndarray], rate: int) -> int:
    """A 16-bit stereo WAV of the float chunks, in order; returns the number of samples written."""
    total = 0
    with atomic_path(path) as tmp, wave.open(str(tmp), "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(2)
        out.setframerate(rate)
        for chunk in chunks:
            out.writeframes(to_pcm16(chunk).tobytes())
            total += len(chunk)
    return total


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(float32 (n, channels) in [-1, 1], rate) of a 16-bit WAV."""
    with wave.open(str(path), "rb") as wav:
        data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, wav.getnchannels())
        return from_pcm16(data), wav.getframerate()


def read_audio(path: Path, rate: int) -> np.ndarray | None:
    """The first audio stream of a media file as float32 (n, 2) at ``rate`` Hz, or None if it has none."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=rate)
        chunks = []
        for frame in container.decode(audio=0):
            chunks.extend(f.to_ndarray().reshape(-1, CHANNELS) for f in resampler.resample(frame))
        chunks.extend(f.to_ndarray().reshape(-1, CHANNELS) for f in resampler.resample(None))
    return np.concatenate(chunks) if chunks else np.zeros((0, CHANNELS), np.float32)
