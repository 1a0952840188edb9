"""H.264 MP4 through PyAV (FFmpeg's libraries), written atomically."""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from backrooms.io.atomic import atomic_path

# libx264 left to pick its own thread count ("auto") gives different bytes for the same frames on a
# machine with another CPU count, or on this one when it is busy; a fixed count gives the same bytes
# everywhere (x264's frame threads are deterministic for a given count).
ENCODER_THREADS = 4


def write_mp4(path: Path, frames: Iterable[np.ndarray], fps: float, crf: int = 18) -> int:
    """Encode (H, W, 3|4) uint8 frames as H.264 yuv420p; returns the number of frames written."""
    count = 0
    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = None
        for rgb in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": str(crf), "preset": "veryfast", "threads": str(ENCODER_THREADS)}
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb[..., :3]), format="rgb24")
            container.mux(stream.encode(frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode())
    return count


def read_mp4(path: Path) -> list[np.ndarray]:
    """Decode every frame as (H, W, 3) uint8 RGB."""
    with av.open(str(path)) as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
